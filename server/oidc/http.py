"""The provider's endpoints (Starlette routes): discovery, JWKS, authorization
(server/oidc/authorize.py), token, userinfo, revocation (RFC 7009) and
RP-initiated logout. OAuth errors are JSON `{"error", "error_description"}`
with the status RFC 6749 §5.2 gives (invalid_client: 401)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from server.auth.sessions import end_session
from server.core.encryption import derived_key
from server.core.tokens import hash_token
from server.http import own_origin, request_meta
from server.oidc import assertions, grants, keys, pages
from server.oidc.authorize import Authorization, form_token, own_session, with_query
from server.oidc.discovery import ACR_TWO_FACTOR, configuration, issuer
from server.oidc.models import OidcClient, OidcSubject
from server.oidc.rules import person_claims, reachable_memberships
from server.settings import Settings

# Discovery and the JWKS are public documents: any origin's browser code may read
# them (no credentials). The token, revocation and userinfo endpoints send no CORS
# headers at all, and the app's CORS_ORIGINS never reach OIDC_PATHS (server/app.py).
_PUBLIC_CACHE = {"cache-control": "public, max-age=300", "access-control-allow-origin": "*"}
OIDC_PATHS = ("/oidc/", "/.well-known/openid-configuration")
_NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}
_LOGOUT_FIELDS = ("client_id", "post_logout_redirect_uri", "state", "sub")


class ClientError(Exception):
    def __init__(self, error: str, description: str, status: int = 400, basic: bool = False):
        super().__init__(description)
        self.error, self.description, self.status, self.basic = error, description, status, basic


def oauth_error(error: str, description: str, status: int = 400, basic: bool = False) -> Response:
    headers = dict(_NO_STORE)
    if status == 401:
        headers["www-authenticate"] = 'Basic realm="frontdesk"' if basic else "Basic"
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


def _single(items: list[tuple[str, str]]) -> tuple[dict[str, str], bool]:
    """The parameters, and whether one was repeated (never allowed)."""
    params = dict(items)
    return params, len(params) != len(items)


async def _form(request: Request) -> tuple[dict[str, str], bool]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise ClientError("invalid_request", "Send the parameters form-encoded.")
    try:
        # Form-encoded only (no multipart): parsed here, within RequestGuard's body limit.
        items = parse_qsl((await request.body()).decode(), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        raise ClientError("invalid_request", "The body is not form-encoded.") from None
    return _single(items)


async def authenticate_client(
    request: Request, params: dict[str, str], audiences: tuple[str, ...]
) -> OidcClient:
    """client_secret_basic, client_secret_post, private_key_jwt (a confidential
    client registered with its public keys), or none (public clients); one at a
    time. `audiences`: what a client assertion's `aud` may name."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if "client_assertion" in params or "client_assertion_type" in params:
        if scheme.lower() == "basic" or "client_secret" in params:
            raise ClientError("invalid_request", "Use one client authentication method.")
        return await _asserted_client(params, audiences)
    basic_id = basic_secret = None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ClientError("invalid_client", "Malformed Basic credentials.", 401, True) from None
        raw_id, sep, raw_secret = decoded.partition(":")
        if not sep:
            raise ClientError("invalid_client", "Malformed Basic credentials.", 401, True)
        basic_id, basic_secret = (
            unquote(raw_id.replace("+", " ")),
            unquote(raw_secret.replace("+", " ")),
        )
        if "client_secret" in params:
            raise ClientError("invalid_request", "Use one client authentication method.")
        if params.get("client_id", basic_id) != basic_id:
            raise ClientError("invalid_request", "client_id differs from the credentials.")
    client_id = basic_id if basic_id is not None else params.get("client_id")
    secret = basic_secret if basic_id is not None else params.get("client_secret")
    if not client_id:
        raise ClientError(
            "invalid_client", "Client authentication failed.", 401, basic_id is not None
        )
    client = await OidcClient.get_or_none(client_id=client_id[:64])
    if client is None:
        raise ClientError(
            "invalid_client", "Client authentication failed.", 401, basic_id is not None
        )
    if client.public:
        if secret:
            raise ClientError("invalid_client", "A public client sends no secret.", 401)
        return client
    if client.jwks is not None:
        raise ClientError(
            "invalid_client",
            "This client authenticates with private_key_jwt (a client assertion).",
            401,
            basic_id is not None,
        )
    if (
        not secret
        or client.secret_hash is None
        or not hmac.compare_digest(hash_token(secret), client.secret_hash)
    ):
        raise ClientError(
            "invalid_client", "Client authentication failed.", 401, basic_id is not None
        )
    return client


async def _asserted_client(params: dict[str, str], audiences: tuple[str, ...]) -> OidcClient:
    """private_key_jwt: the client the assertion names, if it verifies (RFC 7523 §3)."""
    if params.get("client_assertion_type") != assertions.ASSERTION_TYPE:
        raise ClientError(
            "invalid_client",
            f"client_assertion_type must be {assertions.ASSERTION_TYPE}.",
            401,
        )
    assertion = params.get("client_assertion", "")
    if not assertion:
        raise ClientError("invalid_client", "client_assertion is required.", 401)
    try:
        client_id = assertions.unverified_subject(assertion)
        if params.get("client_id", client_id) != client_id:
            raise assertions.AssertionRefused("client_id differs from the assertion's sub.")
        client = await OidcClient.get_or_none(client_id=client_id[:64])
        if client is None:
            raise assertions.AssertionRefused("Client authentication failed.")
        await assertions.authenticate(client, assertion, audiences)
    except assertions.AssertionRefused as error:
        raise ClientError("invalid_client", str(error), 401) from None
    return client


def _bearer(request: Request) -> str:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


async def _from_our_page(request: Request, settings: Settings) -> bool:
    """A form sent from our own page: its Origin, or, where our no-referrer policy
    makes the browser send `Origin: null`, its Sec-Fetch-Site."""
    if request.headers.get("sec-fetch-site") == "same-origin":
        return True
    return await own_origin(request.headers.get("origin"), settings)


def _logout_token(fields: dict[str, str]) -> str:
    text = "\n".join(f"{k}={fields.get(k, '')}" for k in _LOGOUT_FIELDS)
    return hmac.new(derived_key("oidc-logout"), text.encode(), hashlib.sha256).hexdigest()


def oidc_routes(settings: Settings) -> list[BaseRoute]:
    own_issuer = issuer(settings)
    endpoints = configuration(settings)
    # What a client assertion's aud may name (RFC 7523 §3; OpenID Connect Core §9):
    # the token endpoint's URL (at the revocation endpoint too, as libraries send
    # it), the endpoint called, or the issuer.
    token_audiences = (endpoints["token_endpoint"], own_issuer)
    revocation_audiences = (*token_audiences, endpoints["revocation_endpoint"])

    async def discovery(request: Request) -> Response:
        return JSONResponse(configuration(settings), headers=_PUBLIC_CACHE)

    async def jwks(request: Request) -> Response:
        return JSONResponse(
            await keys.jwks(), media_type="application/jwk-set+json", headers=_PUBLIC_CACHE
        )

    def authorization(request: Request) -> Authorization:
        return Authorization(settings, request_meta(request, settings), own_issuer)

    async def authorize(request: Request) -> Response:
        if request.method == "POST":
            try:
                params, repeated = await _form(request)
            except ClientError as error:
                return pages.error_page(error.description)
        else:
            params, repeated = _single(request.query_params.multi_items())
        return await authorization(request).handle(request, params, repeated)

    async def consent(request: Request) -> Response:
        if not await _from_our_page(request, settings):
            return pages.error_page("This form must be sent from this site.", 403)
        try:
            params, repeated = await _form(request)
        except ClientError as error:
            return pages.error_page(error.description)
        session = await own_session(request, settings)
        if session is None or not hmac.compare_digest(
            params.get("csrf", ""), form_token(session, params)
        ):
            return pages.error_page("This form has expired. Start again from the application.", 403)
        decision = "allow" if params.get("decision") == "allow" else "deny"
        return await authorization(request).handle(request, params, repeated, consent=decision)

    async def token(request: Request) -> Response:
        try:
            params, repeated = await _form(request)
            client = await authenticate_client(request, params, token_audiences)
            if repeated:
                raise ClientError("invalid_request", "A parameter was given more than once.")
            meta = request_meta(request, settings)
            grant_type = params.get("grant_type")
            if grant_type == "authorization_code":
                code, redirect_uri = params.get("code"), params.get("redirect_uri")
                if not code or not redirect_uri:
                    raise ClientError("invalid_request", "code and redirect_uri are required.")
                issued = await grants.exchange_code(
                    client=client,
                    code=code,
                    redirect_uri=redirect_uri,
                    code_verifier=params.get("code_verifier", ""),
                    issuer=own_issuer,
                    meta=meta,
                )
            elif grant_type == "refresh_token":
                refresh_token = params.get("refresh_token")
                if not refresh_token:
                    raise ClientError("invalid_request", "refresh_token is required.")
                issued = await grants.refresh(
                    client=client,
                    token=refresh_token,
                    scope=params.get("scope"),
                    issuer=own_issuer,
                    meta=meta,
                )
            elif not grant_type:
                raise ClientError("invalid_request", "grant_type is required.")
            else:
                raise ClientError(
                    "unsupported_grant_type", "Only authorization_code and refresh_token."
                )
        except ClientError as error:
            return oauth_error(error.error, error.description, error.status, error.basic)
        except grants.GrantError as error:
            return oauth_error(error.error, error.description, error.status)
        return JSONResponse(issued.response(), headers=_NO_STORE)

    async def userinfo(request: Request) -> Response:
        found = await grants.live_access_token(_bearer(request))
        invalid = {"www-authenticate": 'Bearer error="invalid_token"', **_NO_STORE}
        if found is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401, headers=invalid)
        scopes = set(found.scope.split())
        if "openid" not in scopes:
            headers = {"www-authenticate": 'Bearer error="insufficient_scope"', **_NO_STORE}
            return JSONResponse({"error": "insufficient_scope"}, status_code=403, headers=headers)
        second = "totp" if found.acr == ACR_TWO_FACTOR else None
        memberships = await reachable_memberships(found.client, found.user, second)
        if not memberships:
            return JSONResponse({"error": "invalid_token"}, status_code=401, headers=invalid)
        subject = await grants.subject_of(found.user)
        return JSONResponse(
            person_claims(found.user, subject, scopes, memberships), headers=_NO_STORE
        )

    async def revoke(request: Request) -> Response:
        try:
            params, _ = await _form(request)
            client = await authenticate_client(request, params, revocation_audiences)
            if not params.get("token"):
                raise ClientError("invalid_request", "token is required.")
        except ClientError as error:
            return oauth_error(error.error, error.description, error.status, error.basic)
        await grants.revoke(client=client, token=params["token"])
        return Response(status_code=200, headers=_NO_STORE)

    async def logout(request: Request) -> Response:
        if request.method == "POST":
            try:
                params, _ = await _form(request)
            except ClientError as error:
                return pages.error_page(error.description)
        else:
            params, _ = _single(request.query_params.multi_items())
        claims: dict[str, Any] | None = None
        if params.get("id_token_hint"):
            claims = await keys.verified_claims(params["id_token_hint"])
            if claims is None or claims.get("iss") != own_issuer:
                return pages.error_page("The sign-out request names a token that is not ours.")
        client_id = params.get("client_id") or (str(claims["aud"]) if claims else "")
        if claims and params.get("client_id") and claims.get("aud") != params["client_id"]:
            return pages.error_page("The sign-out request does not fit together.")
        client = await OidcClient.get_or_none(client_id=client_id[:64]) if client_id else None
        back = params.get("post_logout_redirect_uri", "")
        if back and (client is None or back not in client.post_logout_redirect_uris):
            return pages.error_page(
                "This application asked to return to an address it may not use."
            )
        fields = {
            "client_id": client.client_id if client else "",
            "post_logout_redirect_uri": back,
            "state": params.get("state", "")[:2000],
            "sub": str(claims.get("sub", "")) if claims else "",
        }
        fields["csrf"] = _logout_token(fields)
        return pages.logout_page(client.name if client else "", fields)

    async def logout_confirm(request: Request) -> Response:
        if not await _from_our_page(request, settings):
            return pages.error_page("This form must be sent from this site.", 403)
        try:
            params, _ = await _form(request)
        except ClientError as error:
            return pages.error_page(error.description)
        fields = {k: params.get(k, "") for k in _LOGOUT_FIELDS}
        if not hmac.compare_digest(params.get("csrf", ""), _logout_token(fields)):
            return pages.error_page("This form has expired.", 403)
        client = (
            await OidcClient.get_or_none(client_id=fields["client_id"])
            if fields["client_id"]
            else None
        )
        session = await own_session(request, settings)
        user_id = session.user_id if session is not None else None
        if user_id is None and fields["sub"]:
            subject = await OidcSubject.get_or_none(subject=fields["sub"])
            user_id = subject.user_id if subject is not None else None
        if client is not None and user_id is not None:
            await grants.end_for(client_id=client.id, user_id=user_id)
        raw = request.cookies.get(settings.session_cookie_name)
        if session is not None and raw:
            await end_session(raw)
        back = fields["post_logout_redirect_uri"]
        response: Response
        if back and client is not None and back in client.post_logout_redirect_uris:
            values = {"state": fields["state"]} if fields["state"] else {}
            response = RedirectResponse(with_query(back, values) if values else back, 303)
        else:
            response = pages.signed_out_page()
        response.delete_cookie(
            settings.session_cookie_name, path="/", secure=True, httponly=True, samesite="strict"
        )
        return response

    return [
        Route("/.well-known/openid-configuration", discovery, methods=["GET"]),
        Route("/oidc/jwks", jwks, methods=["GET"]),
        Route("/oidc/authorize", authorize, methods=["GET", "POST"]),
        Route("/oidc/consent", consent, methods=["POST"]),
        Route("/oidc/token", token, methods=["POST"]),
        Route("/oidc/userinfo", userinfo, methods=["GET", "POST"]),
        Route("/oidc/revoke", revoke, methods=["POST"]),
        Route("/oidc/logout", logout, methods=["GET", "POST"]),
        Route("/oidc/logout/confirm", logout_confirm, methods=["POST"]),
    ]
