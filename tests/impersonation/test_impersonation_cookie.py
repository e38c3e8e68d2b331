"""The admin app's impersonation cookie expires with its session, so the
browser falls back to the administrator's own cookie when the time is up."""

from __future__ import annotations

import re

from server.accounts.models import Membership
from server.audit.models import AuditEvent
from server.auth.models import Session
from server.settings import get_settings
from tests.helpers.fixtures import PASSWORD, GraphQLClient

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


VIEWER = "{ viewer { user { email } impersonation { reason } } }"
LOGOUT = "mutation { logout { ok errors { code } } }"


async def test_signing_out_of_a_members_portal_signs_the_browser_out(tree, http, sign_in):
    owner, member = tree["acme.owner"], tree["acme.member"]
    await Membership.filter(id=owner.membership.id).update(can_impersonate=True)
    settings = get_settings()
    elsewhere = await sign_in(owner.email)  # the administrator's session on another device
    login = await http.post("/graphql", json={"query": LOGIN % (owner.email, PASSWORD)})
    assert login.json()["data"]["login"]["errors"] == []
    started = await http.post(
        "/graphql", json={"query": IMPERSONATE, "variables": {"id": member.membership_id}}
    )
    assert started.json()["data"]["impersonateUser"]["errors"] == []
    seen = (await http.post("/graphql", json={"query": VIEWER})).json()["data"]["viewer"]
    assert seen["user"]["email"] == member.email

    response = await http.post("/graphql", json={"query": LOGOUT})
    assert response.json()["data"]["logout"] == {"ok": True, "errors": []}
    cleared = {
        name
        for name in (settings.session_cookie_name, settings.impersonation_cookie_name)
        if max_age(response, name) == 0
    }
    assert cleared == {settings.session_cookie_name, settings.impersonation_cookie_name}
    # Both sessions ended on the server, so a stale cookie would not help either.
    assert await Session.filter(impersonator_id__isnull=False).count() == 0
    assert await Session.filter(user_id=owner.user.id).count() == 1  # the other device's
    assert (await http.post("/graphql", json={"query": VIEWER})).json()["data"]["viewer"] is None
    [ended] = await AuditEvent.filter(action="impersonation.ended")
    assert ended.details["endedBy"] == "signedOut"
    assert ended.impersonator_id == owner.user.id
    [logout] = await AuditEvent.filter(action="auth.logout")
    assert (logout.actor_id, logout.subject_user_id) == (owner.user.id, owner.user.id)
    assert logout.impersonator_id is None
    # The administrator's other device is still signed in.
    assert (await elsewhere.data(VIEWER))["viewer"]["user"]["email"] == owner.email


async def test_signing_out_of_a_portal_ends_no_one_elses_session(tree, http, sign_in):
    """The own-session cookie counts only if it is the impersonator's own."""
    owner, admin, member = tree["acme.owner"], tree["acme.admin"], tree["acme.member"]
    await Membership.filter(id=owner.membership.id).update(can_impersonate=True)
    settings = get_settings()
    other = await http.post("/graphql", json={"query": LOGIN % (admin.email, PASSWORD)})
    assert other.json()["data"]["login"]["errors"] == []
    admins_cookie = http.cookies.get(settings.session_cookie_name)
    await http.post("/graphql", json={"query": LOGIN % (owner.email, PASSWORD)})
    await http.post(
        "/graphql", json={"query": IMPERSONATE, "variables": {"id": member.membership_id}}
    )
    http.cookies.delete(settings.session_cookie_name)
    http.cookies.set(settings.session_cookie_name, admins_cookie)
    response = await http.post("/graphql", json={"query": LOGOUT})
    assert response.json()["data"]["logout"]["ok"] is True
    assert await Session.filter(user_id=admin.user.id).count() == 1
    assert await AuditEvent.filter(action="auth.logout").count() == 0


async def test_with_a_bearer_token_only_the_impersonation_ends(tree, http, sign_in):
    owner, member = tree["acme.owner"], tree["acme.member"]
    await Membership.filter(id=owner.membership.id).update(can_impersonate=True)
    admin = await sign_in(owner.email)
    started = await admin.ok(
        """mutation($id: ID!) { impersonateUser(input: {membershipId: $id, reason: "help"}) {
          token errors { code } } }""",
        {"id": member.membership_id},
    )
    acting = GraphQLClient(http, started["token"])
    assert (await acting.data(LOGOUT))["logout"] == {"ok": True, "errors": []}
    assert (await acting.data(VIEWER))["viewer"] is None
    assert (await admin.data(VIEWER))["viewer"]["user"]["email"] == owner.email
    assert await AuditEvent.filter(action="impersonation.ended").count() == 1
    assert await AuditEvent.filter(action="auth.logout").count() == 0
