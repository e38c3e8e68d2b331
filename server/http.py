"""Who is asking, from a Starlette request: the client's address, the request
id, and the session token (a bearer header, or our cookie from our own pages)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.requests import Request

from server.auth.actor import actor_from_token
from server.core.actor import Actor, RequestMeta
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


def session_token(
    request: Request, settings: Settings, *, navigation: bool = False
) -> tuple[str | None, bool]:
    """(token, came as a cookie). CSRF: a cookie counts only on requests from our
    own pages (their Origin), or, for `navigation` GETs that change nothing
    (downloads), on any same-site request: the cookie is SameSite=Strict.
    An impersonation cookie, while there is one, wins over the own session."""
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip(), False
    origin = request.headers.get("origin")
    if not (origin == origin_of(settings.public_url) or (navigation and origin is None)):
        return None, False
    for name in (settings.impersonation_cookie_name, settings.session_cookie_name):
        if cookie := request.cookies.get(name):
            return cookie, True
    return None, False


async def actor_of(
    request: Request, settings: Settings, *, navigation: bool = False
) -> Actor | None:
    token, _ = session_token(request, settings, navigation=navigation)
    return await actor_from_token(token, request_meta(request, settings)) if token else None
