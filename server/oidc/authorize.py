"""The authorization endpoint (OpenID Connect Core §3.1.2), with PKCE (RFC 7636,
S256 only) and our own sign-in page.

Order of checks: an unknown client or a redirect URI not registered exactly
gets an error page and never a redirect; every later error goes back to the
client's redirect URI (`error`, `error_description`, `state`, `iss`).

Who is signed in: our own session cookie only; an impersonation never reaches
a client. The cookie is SameSite=Strict, so a navigation from the client's
site arrives without it: the browser goes to the admin app's sign-in screen
with this request as its return address, and that screen sends it back here
at once (a same-site navigation, cookie included) or after signing in.
`prompt=login`, `max_age` and `acr_values` asking for two-step sign-in send
the person to sign in afresh; the return address then carries the time after
which the sign-in must have happened (`fd_fresh_after`) instead.

`prompt=none` never shows a page (once the client and redirect URI are known):
without a usable session, and always for a navigation from another site
(`Sec-Fetch-Site: cross-site`, the cookie ignored even if it came along),
`login_required`; a sign-in too old or not two-step enough, `login_required`;
consent not yet given, `consent_required`; outside the access rule,
`access_denied`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.accounts.models import User
from server.audit import service as audit
from server.auth.models import Session
from server.auth.sessions import find_session
from server.core import clock
from server.core.actor import RequestMeta
from server.core.encryption import derived_key
from server.core.permissions import Permission
from server.oidc import grants, pages
from server.oidc.discovery import (
    ACR_PASSWORD,
    ACR_TWO_FACTOR,
    API_SCOPE_PREFIX,
    IDENTITY_SCOPES,
)
from server.oidc.models import OidcClient, OidcConsent
from server.oidc.rules import reachable_memberships
from server.settings import Settings

_CHALLENGE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
FRESH_AFTER = "fd_fresh_after"
# What the consent form carries back; anything else in it is ignored.
FORWARDED = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "acr_values",
    "response_mode",
    FRESH_AFTER,
)


class Refused(Exception):
    """An error for the client, sent to its redirect URI."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def with_query(uri: str, values: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(values)


def form_token(session: Session, params: dict[str, str]) -> str:
    """Binds a consent form to the session and the request it answers."""
    text = session.token_hash + "\n" + "\n".join(f"{k}={params.get(k, '')}" for k in FORWARDED)
    return hmac.new(derived_key("oidc-consent"), text.encode(), hashlib.sha256).hexdigest()


async def own_session(request: Request, settings: Settings) -> Session | None:
    """The person's own session from our cookie; never an impersonation."""
    raw = request.cookies.get(settings.session_cookie_name)
    if not raw:
        return None
    session = await find_session(raw)
    if session is None or session.impersonator_id is not None:
        return None
    return session


@dataclass
class Authorization:
    settings: Settings
    meta: RequestMeta
    issuer: str

    async def handle(
        self, request: Request, params: dict[str, str], repeated: bool, consent: str | None = None
    ) -> Response:
        client = await OidcClient.get_or_none(client_id=params.get("client_id", "")[:64])
        if client is None:
            return pages.error_page("This application is not known here.")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            return pages.error_page(
                "This application asked to return to an address it may not use."
            )
        try:
            return await self._checked(request, client, params, repeated, consent)
        except Refused as refused:
            return RedirectResponse(self._refusal(params, refused), status_code=303)

    def _to_client(self, params: dict[str, str], values: dict[str, str]) -> str:
        """The client's (checked) redirect URI carrying `values`, its `state` and our
        `iss` (RFC 6749 §4.1.2, RFC 9207)."""
        if "state" in params:
            values = {**values, "state": params["state"]}
        return with_query(params["redirect_uri"], {**values, "iss": self.issuer})

    def _refusal(self, params: dict[str, str], refused: Refused) -> str:
        return self._to_client(
            params, {"error": refused.error, "error_description": refused.description}
        )

    def _scopes(self, client: OidcClient, params: dict[str, str]) -> list[str]:
        scopes = list(dict.fromkeys(params.get("scope", "").split()))
        if "openid" not in scopes:
            raise Refused("invalid_scope", "The scope must include openid.")
        allowed = set(IDENTITY_SCOPES) | {API_SCOPE_PREFIX + p for p in client.api_permissions}
        unknown = [s for s in scopes if s not in allowed]
        if unknown:
            raise Refused("invalid_scope", f"Scope not allowed for this client: {unknown[0]}.")
        return scopes

    def _check_request(self, client: OidcClient, params: dict[str, str], repeated: bool) -> None:
        if repeated:
            raise Refused("invalid_request", "A parameter was given more than once.")
        if "request" in params:
            raise Refused("request_not_supported", "Request objects are not supported.")
        if "request_uri" in params:
            raise Refused("request_uri_not_supported", "request_uri is not supported.")
        if params.get("response_type") != "code":
            raise Refused("unsupported_response_type", "Only the code flow (response_type=code).")
        if params.get("response_mode", "query") != "query":
            raise Refused("invalid_request", "Only response_mode=query is supported.")
        challenge = params.get("code_challenge")
        if not challenge:
            raise Refused("invalid_request", "PKCE is required: send code_challenge (S256).")
        if params.get("code_challenge_method") != "S256":
            raise Refused("invalid_request", "Only code_challenge_method=S256 is accepted.")
        if not _CHALLENGE.match(challenge):
            raise Refused("invalid_request", "code_challenge is malformed.")
        if len(params.get("nonce", "")) > 255 or len(params.get("state", "")) > 2000:
            raise Refused("invalid_request", "nonce or state is too long.")

    async def _checked(
        self,
        request: Request,
        client: OidcClient,
        params: dict[str, str],
        repeated: bool,
        consent: str | None,
    ) -> Response:
        self._check_request(client, params, repeated)
        scopes = self._scopes(client, params)
        prompt = set(params.get("prompt", "").split())
        if "none" in prompt and len(prompt) > 1:
            raise Refused("invalid_request", "prompt=none cannot be combined.")
        max_age: int | None = None
        if "max_age" in params:
            try:
                max_age = int(params["max_age"])
            except ValueError:
                raise Refused("invalid_request", "max_age must be a number.") from None
            if max_age < 0:
                raise Refused("invalid_request", "max_age must not be negative.")
        two_step = ACR_TWO_FACTOR in params.get("acr_values", "").split()
        fresh_after: datetime | None = None
        if FRESH_AFTER in params:
            try:
                fresh_after = datetime.fromtimestamp(int(params[FRESH_AFTER]) / 1000, UTC)
            except (ValueError, OverflowError, OSError):
                raise Refused("invalid_request", "Malformed sign-in marker.") from None

        # A navigation from another site never carries our SameSite=Strict cookie;
        # should one come along anyway (a client that is not a browser, a browser
        # that ignores SameSite), it does not count either.
        cross_site = request.headers.get("sec-fetch-site") == "cross-site"
        session = None if cross_site else await own_session(request, self.settings)
        now = clock.now()
        must_sign_in = session is None
        fresh = False
        if session is not None:
            user: User = session.user
            stale = (
                "login" in prompt
                or (
                    max_age is not None
                    and (now - session.authenticated_at).total_seconds() > max_age
                )
                or (fresh_after is not None and session.authenticated_at < fresh_after)
            )
            if two_step and session.second_factor is None:
                if not user.has_second_factor:
                    raise Refused(
                        "access_denied",
                        "This client needs two-step sign-in; set up an authenticator app first.",
                    )
                stale = True
            fresh = stale
            must_sign_in = stale
        if must_sign_in:
            if "none" in prompt:
                raise Refused("login_required", "The person is not signed in.")
            return self._to_sign_in(params, fresh, now)
        assert session is not None
        user = session.user
        memberships = await reachable_memberships(client, user, session.second_factor)
        if not memberships:
            await audit.record(
                "oidc.refused",
                meta=self.meta,
                actor_user_id=user.id,
                organisation_id=client.organisation_id,
                target=client,
            )
            denied = Refused("access_denied", "This person may not sign in to this client.")
            if "none" in prompt:  # no page at all with prompt=none (Core §3.1.2.1)
                raise denied
            return pages.refusal_page(client.name, back=self._refusal(params, denied))
        if consent == "deny":
            raise Refused("access_denied", "The person did not allow it.")
        if not client.first_party and consent != "allow":
            given = await OidcConsent.get_or_none(client_id=client.id, user_id=user.id)
            if "consent" in prompt or given is None or not set(scopes) <= set(given.scopes):
                if "none" in prompt:
                    raise Refused("consent_required", "The person has not consented yet.")
                forwarded = {k: params[k] for k in FORWARDED if k in params}
                forwarded["csrf"] = form_token(session, params)
                return pages.consent_page(client.name, scopes, forwarded)
        if consent == "allow":
            await self._remember_consent(client, user, scopes)
        code = await grants.issue_code(
            client=client,
            user=user,
            redirect_uri=params["redirect_uri"],
            scope=" ".join(scopes),
            nonce=params.get("nonce"),
            code_challenge=params["code_challenge"],
            auth_time=session.authenticated_at,
            acr=ACR_TWO_FACTOR if session.second_factor else ACR_PASSWORD,
        )
        await audit.record(
            "oidc.signed_in",
            meta=self.meta,
            actor_user_id=user.id,
            organisation_id=client.organisation_id,
            target=client,
            details={"scope": " ".join(scopes)},
        )
        return RedirectResponse(self._to_client(params, {"code": code}), status_code=303)

    async def _remember_consent(self, client: OidcClient, user: User, scopes: list[str]) -> None:
        given = await OidcConsent.get_or_none(client_id=client.id, user_id=user.id)
        if given is None:
            await OidcConsent.create(
                client=client, user=user, scopes=scopes, created_at=clock.now()
            )
        else:
            given.scopes = sorted(set(given.scopes) | set(scopes))
            await given.save(update_fields=["scopes"])

    def _to_sign_in(self, params: dict[str, str], fresh: bool, now: datetime) -> Response:
        again = {k: v for k, v in params.items() if k not in ("prompt", "max_age")}
        if fresh:
            again[FRESH_AFTER] = str(int(now.timestamp() * 1000))  # milliseconds
        back = "/oidc/authorize?" + urlencode(again)
        query = {"next": back, **({"fresh": "1"} if fresh else {})}
        return RedirectResponse("/admin/sign-in?" + urlencode(query), status_code=303)


def api_permissions_of(scope: str) -> frozenset[Permission]:
    """The API permissions an access token's scopes name."""
    found: set[Permission] = set()
    for item in scope.split():
        if item.startswith(API_SCOPE_PREFIX):
            try:
                found.add(Permission(item[len(API_SCOPE_PREFIX) :]))
            except ValueError:
                continue
    return frozenset(found)
