"""Changing one's password rotates the current session, as step-up does: the
old token (bearer or cookie) stops working at once, the payload carries the
new one (a cookie session gets a new cookie), every other session ends. A
refused change leaves every session as it was."""

from __future__ import annotations

import re

from server.auth.models import Session
from server.settings import get_settings
from tests.helpers.fixtures import PASSWORD, GraphQLClient

NEW = "a brand new passphrase"
CHANGE = """
mutation($current: String!, $new: String!) {
  changePassword(input: {currentPassword: $current, newPassword: $new}) {
    token errors { field code message } viewer { user { email } }
  }
}"""
VIEWER = "{ viewer { user { email } } }"
COOKIE_LOGIN = """
mutation($e: String!, $p: String!) {
  login(input: {email: $e, password: $p, session: COOKIE}) { token errors { code } } }"""


async def who(client: GraphQLClient) -> str | None:
    viewer = (await client.data(VIEWER))["viewer"]
    return viewer["user"]["email"] if viewer else None


def cookie_value(response, name: str) -> str:  # type: ignore[no-untyped-def]
    [cookie] = [c for c in response.headers.get_list("set-cookie") if c.startswith(name + "=")]
    return re.match(rf"{re.escape(name)}=([^;]*)", cookie).group(1)  # type: ignore[union-attr]


async def test_a_bearer_session_gets_a_new_token(tree, sign_in, http):
    email = tree["acme.member"].email
    other = await sign_in(email)
    client = await sign_in(email)
    old = client.token
    payload = await client.ok(CHANGE, {"current": PASSWORD, "new": NEW})
    assert payload["token"] and payload["token"] != old
    assert payload["viewer"] == {"user": {"email": email}}
    assert await who(client) is None  # the old token is dead
    assert await who(other) is None
    assert await who(GraphQLClient(http, payload["token"])) == email
    [session] = await Session.filter(user_id=tree["acme.member"].user.id)
    assert session.second_factor is None


async def test_a_cookie_session_gets_a_new_cookie(tree, http):
    email = tree["acme.member"].email
    name = get_settings().session_cookie_name
    login = await http.post(
        "/graphql", json={"query": COOKIE_LOGIN, "variables": {"e": email, "p": PASSWORD}}
    )
    assert login.json()["data"]["login"] == {"token": None, "errors": []}
    old = cookie_value(login, name)
    http.cookies.clear()
    as_cookie = {"cookie": f"{name}={old}", "content-type": "application/json"}

    changed = await http.post(
        "/graphql",
        json={"query": CHANGE, "variables": {"current": PASSWORD, "new": NEW}},
        headers=as_cookie,
    )
    payload = changed.json()["data"]["changePassword"]
    assert payload["errors"] == [] and payload["token"] is None
    new = cookie_value(changed, name)
    assert new and new != old
    http.cookies.clear()
    for value, expected in ((old, None), (new, {"user": {"email": email}})):
        response = await http.post(
            "/graphql",
            json={"query": VIEWER},
            headers={"cookie": f"{name}={value}", "content-type": "application/json"},
        )
        assert response.json()["data"]["viewer"] == expected


async def test_a_refused_change_keeps_every_session(tree, sign_in):
    email = tree["acme.member"].email
    other = await sign_in(email)
    client = await sign_in(email)
    sessions = sorted(
        await Session.filter(user_id=tree["acme.member"].user.id).values_list("id", flat=True)
    )
    for current, new, code in (
        ("not my password", NEW, "WRONG_PASSWORD"),
        (PASSWORD, "short", "PASSWORD_TOO_SHORT"),
        (PASSWORD, PASSWORD, "INVALID"),
    ):
        payload = (await client.data(CHANGE, {"current": current, "new": new}))["changePassword"]
        assert [e["code"] for e in payload["errors"]] == [code]
        assert payload["errors"][0]["message"] and payload["token"] is None
    assert (
        sorted(
            await Session.filter(user_id=tree["acme.member"].user.id).values_list("id", flat=True)
        )
        == sessions
    )
    assert await who(client) == email and await who(other) == email
