"""A reseller's own host name serves the same app: a cookie session made on
its pages counts there (as on the public URL's), and on no other origin."""

from __future__ import annotations

from server.settings import get_settings
from tests.auth.test_password_change import COOKIE_LOGIN, cookie_value
from tests.branding.queries import set_brand
from tests.helpers.fixtures import PASSWORD

VIEWER = "{ viewer { user { email } } }"
HOST = "portal.northwind.example"


async def _viewer(http, cookie: str, origin: str):  # type: ignore[no-untyped-def]
    response = await http.post(
        "/graphql",
        json={"query": VIEWER},
        headers={"cookie": cookie, "origin": origin, "content-type": "application/json"},
    )
    return response.json()["data"]["viewer"]


async def test_cookie_sessions_count_on_a_registered_host_name_only(tree, sign_in, http):
    email = tree["acme.member"].email
    name = get_settings().session_cookie_name
    login = await http.post(
        "/graphql",
        json={"query": COOKIE_LOGIN, "variables": {"e": email, "p": PASSWORD}},
        headers={"origin": f"https://{HOST}"},
    )
    assert login.json()["data"]["login"] == {"token": None, "errors": []}
    cookie = f"{name}={cookie_value(login, name)}"
    http.cookies.clear()

    # Before the reseller maps the host name, its pages are nobody's.
    assert await _viewer(http, cookie, f"https://{HOST}") is None
    reseller = await sign_in(tree["reseller.admin"].email)
    await set_brand(reseller, tree.reseller.id, hostName=HOST)

    assert await _viewer(http, cookie, f"https://{HOST}") == {"user": {"email": email}}
    assert await _viewer(http, cookie, "https://portal.example.test") == {"user": {"email": email}}
    for origin in (
        "https://evil.example",
        f"http://{HOST}",  # another scheme
        f"https://{HOST}:8443",  # another port
        f"https://{HOST}:99999",  # no port at all
        "null",
    ):
        assert await _viewer(http, cookie, origin) is None, origin
