"""The admin app's impersonation cookie expires with its session, so the
browser falls back to the administrator's own cookie when the time is up."""

from __future__ import annotations

import re

from server.accounts.models import Membership
from server.settings import get_settings
from tests.helpers.fixtures import PASSWORD

LOGIN = (
    'mutation { login(input: {email: "%s", password: "%s", session: COOKIE}) { errors { code } } }'
)
IMPERSONATE = """mutation($id: ID!) { impersonateUser(input: {membershipId: $id, reason: "help",
  session: COOKIE}) { errors { code } } }"""


def max_age(response, name: str) -> int:  # type: ignore[no-untyped-def]
    [cookie] = [c for c in response.headers.get_list("set-cookie") if c.startswith(name + "=")]
    found = re.search(r"Max-Age=(\d+)", cookie, re.IGNORECASE)
    assert found, cookie
    return int(found.group(1))


async def test_impersonation_cookie_lasts_as_long_as_the_impersonation(tree, http):
    owner, member = tree["acme.owner"], tree["acme.member"]
    await Membership.filter(id=owner.membership.id).update(can_impersonate=True)
    settings = get_settings()
    login = await http.post("/graphql", json={"query": LOGIN % (owner.email, PASSWORD)})
    assert login.json()["data"]["login"]["errors"] == []
    own_age = max_age(login, settings.session_cookie_name)
    assert own_age == settings.session_absolute_hours * 3600

    started = await http.post(
        "/graphql", json={"query": IMPERSONATE, "variables": {"id": member.membership_id}}
    )
    assert started.json()["data"]["impersonateUser"]["errors"] == []
    age = max_age(started, settings.impersonation_cookie_name)
    assert settings.impersonation_minutes * 60 - 5 <= age <= settings.impersonation_minutes * 60
