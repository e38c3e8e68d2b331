"""The provider's own small pages: consent, refusal, errors that must not
redirect, and the sign-out confirmation. Plain HTML, every value escaped, no
script (a strict Content-Security-Policy goes with them)."""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from starlette.responses import HTMLResponse

CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'{}; frame-ancestors 'none'"
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;"
    "color:#1a1a1a}button{font-size:1rem;padding:.5rem 1rem;margin-right:.5rem}"
    "li{margin:.25rem 0}"
)
SCOPE_TEXT = {
    "openid": "Who you are (an identifier that never changes)",
    "profile": "Your name",
    "email": "Your email address",
    "frontdesk": "Your organisations and roles in them",
    "offline_access": "Staying signed in while you are away",
}


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def page(title: str, body: str, status: int = 200, *, form_target: str = "") -> HTMLResponse:
    """`form_target`: where the page's form may end up after our redirect (browsers
    apply form-action to redirects too): the client's address."""
    origin = _origin(form_target)
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            "content-security-policy": CSP.format(f" {origin}" if origin else ""),
            "cache-control": "no-store",
        },
    )


def error_page(message: str, status: int = 400) -> HTMLResponse:
    """An error that must not go back to the client (an unknown client or redirect URI)."""
    return page("Sign-in cannot continue", f"<p>{escape(message)}</p>", status)


def refusal_page(client_name: str, back: str) -> HTMLResponse:
    """`back`: the client's redirect URI answering `access_denied`, so the person
    is not left on our page and the client learns the outcome."""
    return page(
        "Access not granted",
        f"<p>Your account may not sign in to <strong>{escape(client_name)}</strong>.</p>"
        "<p>Ask an administrator of your organisation for access.</p>"
        f'<p><a href="{escape(back)}">Back to {escape(client_name)}</a></p>',
        403,
    )


def _hidden(fields: dict[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items()
    )


def consent_page(client_name: str, scopes: list[str], fields: dict[str, str]) -> HTMLResponse:
    items = "".join(
        f"<li>{escape(SCOPE_TEXT.get(s, 'Use Frontdesk for you: ' + s))}</li>" for s in scopes
    )
    return page(
        f"Sign in to {client_name}",
        f"<p><strong>{escape(client_name)}</strong> asks to know:</p><ul>{items}</ul>"
        f'<form method="post" action="/oidc/consent">{_hidden(fields)}'
        '<button type="submit" name="decision" value="allow">Allow</button>'
        '<button type="submit" name="decision" value="deny">Deny</button></form>',
        form_target=fields.get("redirect_uri", ""),
    )


def logout_page(client_name: str, fields: dict[str, str]) -> HTMLResponse:
    who = f" (asked by <strong>{escape(client_name)}</strong>)" if client_name else ""
    return page(
        "Sign out",
        f"<p>Sign out of Frontdesk{who}?</p>"
        f'<form method="post" action="/oidc/logout/confirm">{_hidden(fields)}'
        '<button type="submit">Sign out</button></form>',
        form_target=fields.get("post_logout_redirect_uri", ""),
    )


def signed_out_page() -> HTMLResponse:
    return page("Signed out", "<p>You are signed out. You can close this window.</p>")
