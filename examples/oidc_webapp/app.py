"""Ticket desk: a placeholder web app whose people sign in with Frontdesk
(OpenID Connect, code flow with PKCE S256, through Authlib).

    FRONTDESK_ISSUER=https://portal.example.com FRONTDESK_CLIENT_ID=... \\
    FRONTDESK_CLIENT_SECRET=fdcs_... APP_URL=http://localhost:8000 \\
    APP_SESSION_SECRET=$(python -c 'import secrets; print(secrets.token_urlsafe(32))') \\
    uvicorn app:app --port 8000

See README.md in this folder for registering the client.
"""

from __future__ import annotations

import os
from html import escape
from typing import Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

ISSUER = os.environ["FRONTDESK_ISSUER"].rstrip("/")
APP_URL = os.environ["APP_URL"].rstrip("/")  # this app's public address, as registered
CALLBACK = f"{APP_URL}/callback"  # redirect URI (registered exactly)
SIGNED_OUT = f"{APP_URL}/signed-out"  # post-logout redirect URI (registered exactly)

oauth = OAuth()
frontdesk: Any = oauth.register(
    "frontdesk",
    client_id=os.environ["FRONTDESK_CLIENT_ID"],
    client_secret=os.environ["FRONTDESK_CLIENT_SECRET"],
    server_metadata_url=f"{ISSUER}/.well-known/openid-configuration",
    client_kwargs={
        "scope": "openid email profile frontdesk",
        "code_challenge_method": "S256",  # PKCE: Frontdesk requires it
        "token_endpoint_auth_method": "client_secret_basic",
    },
)


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{escape(title)} · Ticket desk'
        f"</title><body><header><strong>Ticket desk</strong></header><main><h1>{escape(title)}</h1>"
        f"{body}</main></body></html>",
        status_code=status,
        headers={"cache-control": "no-store"},
    )


async def home(request: Request) -> Response:
    user = request.session.get("user")
    if not user:
        return page(
            "Welcome",
            '<p>Sign in to see your tickets.</p><p><a href="/login">Sign in with Frontdesk</a></p>',
        )
    rows = "".join(
        f"<li>{escape(m['organisation'])} — {escape(m['role'])}</li>" for m in user["memberships"]
    )
    return page(
        f"Hello, {user['name']}",
        f'<p>Signed in as <span id="email">{escape(user["email"])}</span>.</p>'
        f'<h2>Your organisations</h2><ul id="memberships">{rows}</ul>'
        '<form method="post" action="/logout"><button>Sign out</button></form>',
    )


async def login(request: Request) -> Response:
    # Authlib makes state, nonce and the PKCE verifier and keeps them in the session.
    return await frontdesk.authorize_redirect(request, CALLBACK)


async def callback(request: Request) -> Response:
    try:
        # Checks state, sends the PKCE verifier, validates the ID token (signature
        # against the JWKS, issuer, audience, expiry, nonce).
        token = await frontdesk.authorize_access_token(request)
    except OAuthError as error:
        return page("Sign-in failed", f"<p>{escape(error.error or 'error')}</p>", 400)
    claims = token["userinfo"]
    memberships = claims.get("frontdesk", {}).get("memberships", [])
    request.session.clear()  # a fresh session for the person who signed in
    request.session["user"] = {
        "sub": claims["sub"],
        "name": claims.get("name") or claims.get("email", ""),
        "email": claims.get("email", ""),
        "memberships": [
            {"organisation": m["organisation"]["name"], "role": m["role"]} for m in memberships
        ],
    }
    request.session["id_token"] = token["id_token"]  # the hint for signing out
    return RedirectResponse("/", status_code=303)


async def logout(request: Request) -> Response:
    # A POST: with the Lax session cookie, no other site can sign people out.
    id_token = request.session.get("id_token")
    request.session.clear()  # signed out here first, whatever Frontdesk answers
    if not id_token:
        return RedirectResponse("/", status_code=303)
    # RP-initiated logout: Frontdesk asks the person, ends its session, comes back here.
    return await frontdesk.logout_redirect(
        request, post_logout_redirect_uri=SIGNED_OUT, id_token_hint=id_token
    )


async def signed_out(request: Request) -> Response:
    try:
        await frontdesk.validate_logout_response(request)
    except OAuthError:
        return RedirectResponse("/", status_code=303)
    return page("Signed out", '<p>You are signed out of Frontdesk too. <a href="/">Home</a></p>')


app = Starlette(
    routes=[
        Route("/", home),
        Route("/login", login),
        Route("/callback", callback),
        Route("/logout", logout, methods=["POST"]),
        Route("/signed-out", signed_out),
    ],
    middleware=[
        Middleware(
            SessionMiddleware,
            secret_key=os.environ["APP_SESSION_SECRET"],
            session_cookie="ticketdesk_session",
            same_site="lax",  # Lax: the cookie must come along on Frontdesk's redirect back
            https_only=APP_URL.startswith("https://"),
            max_age=8 * 3600,
        )
    ],
)
