"""Bad input and bad credentials get the right SCIM error and change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.accounts.models import Membership, MembershipStatus, User
from server.audit.models import AuditEvent
from server.core import clock
from server.core.permissions import Role
from server.invitations.models import Invitation
from server.mail.models import OutboxMail
from tests.api_tokens.test_api_tokens import create_token
from tests.scim.helpers import REVOKE_TOKEN, Scim, create_scim_token, scim_error
from tests.scim.test_provisioning import scim_for


async def snapshot() -> tuple[int, ...]:
    return (
        await User.all().count(),
        await Membership.all().count(),
        await Membership.filter(status=MembershipStatus.DISABLED).count(),
        await Invitation.all().count(),
        await OutboxMail.all().count(),
        # Sign-ins and the tokens' own events (made and revoked through GraphQL) aside.
        await AuditEvent.exclude(action__startswith="auth.")
        .exclude(action__startswith="scim_token.")
        .exclude(action__startswith="api_token.")
        .count(),
    )


@pytest.mark.parametrize(
    "text",
    ['userName eq', 'userName xx "a"', 'title eq "x"', 'emails[type eq "work"]',
     'active gt true', 'userName eq 3', '(userName eq "a"', 'userName eq "a\u0000b"'],
)  # fmt: skip
async def test_an_invalid_filter_is_invalid_filter(tree, sign_in, http, text):
    scim = await scim_for(tree, sign_in, http)
    scim_error(await scim.request("GET", "/Users", filter=text), 400, "invalidFilter")


async def test_bad_users_are_refused_and_change_nothing(tree, sign_in, http):
    scim = await scim_for(tree, sign_in, http)
    first = await scim.create("dup@acme.example.com")
    assert first.status_code == 201
    user_id = first.json()["id"]
    before = await snapshot()

    # The same userName again, in any case; a member already there.
    scim_error(await scim.create("DUP@acme.example.com"), 409, "uniqueness")
    scim_error(await scim.create(tree["acme.member"].email), 409, "uniqueness")
    # No userName, not an address, a body that is no JSON, a read-only id.
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "name": {"givenName": "X"}}
    scim_error(await scim.request("POST", "/Users", body), 400, "invalidValue")
    scim_error(await scim.create("not an address"), 400, "invalidValue")
    scim_error(await scim.create("x@acme.example.com", given="\x00"), 400, "invalidValue")
    response = await scim.http.post(
        "/scim/v2/Users",
        content=b"{nope",
        headers={"authorization": f"Bearer {scim.token}", "content-type": "application/scim+json"},
    )
    scim_error(response, 400, "invalidValue")
    # PATCH: an unknown operation, a path to nothing, another person's address.
    scim_error(
        await scim.patch(user_id, {"op": "merge", "path": "active", "value": False}),
        400,
        "invalidValue",
    )
    scim_error(
        await scim.patch(
            user_id, {"op": "replace", "path": "userName", "value": tree["acme.member"].email}
        ),
        409,
        "uniqueness",
    )
    # One good and one bad operation: neither happens.
    response = await scim.patch(
        user_id,
        {"op": "replace", "path": "active", "value": False},
        {"op": "replace", "path": "userName", "value": "not an address"},
    )
    scim_error(response, 400, "invalidValue")
    assert (await Membership.get(id=int(user_id))).status is not MembershipStatus.DISABLED
    # Unknown ids, here and in another organisation.
    scim_error(await scim.request("GET", "/Users/999999"), 404)
    scim_error(await scim.request("GET", "/Users/abc"), 404)
    scim_error(await scim.request("GET", f"/Users/{10**30}"), 404)
    huge = (await scim.request("GET", "/Users", filter=f'id eq "{10**30}"')).json()
    assert huge["totalResults"] == 0
    far = (await scim.request("GET", "/Users", startIndex=str(10**30))).json()
    assert far["totalResults"] == 4 and far["itemsPerPage"] == 0
    globex_member = str(tree["globex.member"].membership.id)
    scim_error(await scim.request("GET", f"/Users/{globex_member}"), 404)
    scim_error(await scim.request("DELETE", f"/Users/{globex_member}"), 404)
    scim_error(
        await scim.patch(globex_member, {"op": "replace", "path": "active", "value": False}), 404
    )
    # Groups are not served; neither is anything else.
    assert "roles" in scim_error(await scim.request("GET", "/Groups"), 501)
    scim_error(await scim.request("POST", "/Groups", {"displayName": "Admins"}), 501)
    scim_error(await scim.request("GET", "/Nope"), 404)
    scim_error(await scim.request("DELETE", "/Users"), 405)
    assert await snapshot() == before


async def test_the_rules_between_people_hold_for_scim(tree, sign_in, http):
    """The token acts with its creator's rights: an admin's token cannot disable an
    owner or the admin themselves, and cannot delete the last owner."""
    scim = await scim_for(tree, sign_in, http)
    before = await snapshot()
    owner = str(tree["acme.owner"].membership.id)
    admin = str(tree["acme.admin"].membership.id)
    scim_error(await scim.patch(owner, {"op": "replace", "path": "active", "value": False}), 403)
    scim_error(await scim.request("DELETE", f"/Users/{owner}"), 403)
    scim_error(await scim.patch(admin, {"op": "replace", "path": "active", "value": False}), 403)
    assert await snapshot() == before


async def test_bad_tokens_get_401_and_change_nothing(tree, sign_in, http):
    admin = await sign_in(tree["acme.admin"].email)
    created = await create_scim_token(admin, tree.acme.id)
    good = Scim(http, created["secret"])
    before = await snapshot()
    for token in ("", "fdscim_wrong", created["secret"] + "x", "fdt_" + created["secret"][7:]):
        bad = Scim(http, token)
        response = await bad.create("intruder@acme.example.com")
        scim_error(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
        scim_error(await bad.request("GET", "/Users"), 401)
    # The admin's own session token is no SCIM token.
    scim_error(await Scim(http, admin.token).request("GET", "/Users"), 401)
    # Nor is an API token, even one that may manage members.
    api_secret = (await create_token(admin, tree.acme.id, ["MEMBERS_MANAGE"]))["secret"]
    scim_error(await Scim(http, api_secret).request("GET", "/Users"), 401)
    # Expired.
    clock.advance(timedelta(days=31))
    scim_error(await good.request("GET", "/Users"), 401)
    clock.reset()
    assert (await good.request("GET", "/Users")).status_code == 200
    # Revoked.
    await admin.ok(REVOKE_TOKEN, {"id": created["scimToken"]["id"]})
    scim_error(await good.create("intruder@acme.example.com"), 401)
    assert await snapshot() == before


async def test_a_token_of_another_organisation_sees_and_touches_only_its_own(tree, sign_in, http):
    acme = await scim_for(tree, sign_in, http, "acme.admin")
    globex = await scim_for(tree, sign_in, http, "globex.admin")
    created = await acme.create("only@acme.example.com")
    user_id = created.json()["id"]
    before = await snapshot()
    scim_error(await globex.request("GET", f"/Users/{user_id}"), 404)
    scim_error(
        await globex.patch(user_id, {"op": "replace", "path": "active", "value": False}), 404
    )
    scim_error(
        await globex.request(
            "PUT",
            f"/Users/{user_id}",
            {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "only@acme.example.com",
            },
        ),
        404,
    )
    scim_error(await globex.request("DELETE", f"/Users/{user_id}"), 404)
    listed = (
        await globex.request("GET", "/Users", filter='userName eq "only@acme.example.com"')
    ).json()
    assert listed["totalResults"] == 0
    assert await snapshot() == before
    # A reseller's token provisions the reseller only, not its customers.
    reseller = await scim_for(tree, sign_in, http, "reseller.admin")
    scim_error(await reseller.request("GET", f"/Users/{user_id}"), 404)
    emails = [r["userName"] for r in (await reseller.request("GET", "/Users")).json()["Resources"]]
    assert all(e.endswith("@reseller.example.com") for e in emails) and emails


async def test_a_token_stops_when_its_creator_may_no_longer_manage_members(tree, sign_in, http):
    scim = await scim_for(tree, sign_in, http)
    await Membership.filter(id=tree["acme.admin"].membership.id).update(role=Role.VIEWER)
    before = await snapshot()
    scim_error(await scim.create("late@acme.example.com"), 403)
    # A viewer still views: listing stays allowed within MEMBERS_VIEW.
    assert (await scim.request("GET", "/Users")).status_code == 200
    assert await snapshot() == before
    await Membership.filter(id=tree["acme.admin"].membership.id).update(
        status=MembershipStatus.DISABLED
    )
    scim_error(await scim.request("GET", "/Users"), 403)
