"""Who is asking, from a Starlette request: the client's address, the request
id, and the session token (a bearer header, or our cookie from our own pages)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.requests import Request

from server.auth.actor import actor_from_token
from server.branding.service import organisation_for_host
from server.core.actor import Actor, RequestMeta
from server.oidc.grants import ACCESS_PREFIX as OIDC_ACCESS_PREFIX
from server.oidc.principal import actor_for_access_token
from server.settings import Settings


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def client_address(request: Request, trusted_proxies: list[str]) -> str:
    """The client's address: the peer, or, when the peer is a trusted proxy, the
    last X-Forwarded-For hop that is not one of ours (earlier hops can be forged)."""
    peer = request.client.host if request.client else ""
    if peer not in trusted_proxies:
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            return peer  # garbage in the header: trust nothing from it
        if address not in trusted_proxies:
            return address
    return peer


def request_meta(request: Request, settings: Settings) -> RequestMeta:
    return RequestMeta(
        client_ip=client_address(request, settings.trusted_proxies),
        request_id=request.state.request_id,
        user_agent=request.headers.get("user-agent", "")[:255],
    )


async def own_origin(origin: str | None, settings: Settings) -> bool:
    """Our pages' origin: the public URL's, or a reseller's own host name
    (server/branding) on the same scheme and port, which serves the same app."""
    if origin is None:
        return False
    if origin == origin_of(settings.public_url):
        return True
    ours, theirs = urlsplit(settings.public_url), urlsplit(origin)
    try:
        same_port = theirs.port == ours.port
    except ValueError:
        return False  # a port that is no number
    if theirs.scheme != ours.scheme or not same_port or not theirs.hostname:
        return False
    return await organisation_for_host(theirs.hostname) is not None


def session_tokens(
    request: Request, settings: Settings, *, navigation: bool = False, from_our_pages: bool = False
) -> list[tuple[str, bool]]:
    """The tokens to try, in order, each with whether it came as a cookie: a
    bearer token; else an impersonation cookie, then the own session's (so an
    impersonation that ended on the server falls back to the administrator).
    CSRF: cookies count only on requests from our own pages (`from_our_pages`:
    their Origin, see `own_origin`), or, for `navigation` GETs that change
    nothing (downloads), on any same-site request: the cookies are SameSite=Strict."""
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return [(credentials.strip(), False)]
    origin = request.headers.get("origin")
    if not (from_our_pages or (navigation and origin is None)):
        return []
    names = (settings.impersonation_cookie_name, settings.session_cookie_name)
    return [(cookie, True) for name in names if (cookie := request.cookies.get(name))]


async def authenticate(
    request: Request,
    settings: Settings,
    meta: RequestMeta,
    *,
    navigation: bool = False,
    lazy: bool = False,
) -> tuple[Actor | None, str | None, bool]:
    """(actor, the token that worked, whether it was a cookie); (None, None, …) if
    none did. `lazy`: see `actor_for`."""
    via_cookie = False
    names = (settings.impersonation_cookie_name, settings.session_cookie_name)
    # Only a request carrying our cookies costs the origin check a query (a custom host).
    from_our_pages = any(name in request.cookies for name in names) and await own_origin(
        request.headers.get("origin"), settings
    )
    tokens = session_tokens(request, settings, navigation=navigation, from_our_pages=from_our_pages)
    for token, via_cookie in tokens:
        if token.startswith(OIDC_ACCESS_PREFIX):
            # An OpenID Connect client's access token: a bearer credential only.
            oidc_actor = None if via_cookie else await actor_for_access_token(token, meta)
            if oidc_actor is not None:
                return oidc_actor, token, via_cookie
            continue
        actor = await actor_from_token(token, meta, lazy=lazy, sessions_only=via_cookie)
        if actor is not None:
            return actor, token, via_cookie
    return None, None, via_cookie


async def actor_of(
    request: Request, settings: Settings, *, navigation: bool = False
) -> Actor | None:
    actor, _, _ = await authenticate(
        request, settings, request_meta(request, settings), navigation=navigation
    )
    return actor
