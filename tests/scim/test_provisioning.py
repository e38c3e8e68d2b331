"""What Entra ID and Okta do in a provisioning cycle, through /scim/v2 with a
SCIM token: look the person up by userName, create, update names, disable
(PATCH active false), re-enable, delete; and what a SCIM token may never do."""

from __future__ import annotations

from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.audit.models import AuditEvent
from server.mail.models import OutboxMail
from server.tenancy.models import Organisation, ScimNewPeople
from tests.scim.helpers import Scim, create_scim_token


async def scim_for(tree, sign_in, http, key: str = "acme.admin") -> Scim:  # type: ignore[no-untyped-def]
    admin = await sign_in(tree[key].email)
    organisation = tree.people[key].membership.organisation_id
    return Scim(http, (await create_scim_token(admin, organisation))["secret"])


async def find(scim: Scim, email: str) -> list[dict]:  # type: ignore[type-arg]
    response = await scim.request("GET", "/Users", filter=f'userName eq "{email}"')
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["totalResults"] == len(body.get("Resources", []))
    return body.get("Resources", [])


async def test_an_entra_id_cycle_invites_renames_disables_enables_and_deletes(
    tree, sign_in, http, smtp_server
):
    scim = await scim_for(tree, sign_in, http)
    email = "grace.hopper@acme.example.com"
    assert await find(scim, email) == []

    # Create, as Entra sends it: its whole default mapping, most of which we do not keep.
    created = await scim.create(
        email,
        "Grace",
        "Hopper",
        externalId="0f5c-entra-object-id",
        displayName="Grace Hopper",
        emails=[{"primary": True, "type": "work", "value": email}],
        **{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}},
    )
    assert created.status_code == 201, created.text
    user = created.json()
    user_id = user["id"]
    assert created.headers["location"] == f"https://portal.example.test/scim/v2/Users/{user_id}"
    assert user["userName"] == email and user["active"] is True
    assert user["name"] == {"givenName": "Grace", "familyName": "Hopper"}
    assert user["externalId"] == "0f5c-entra-object-id"
    membership = await Membership.get(id=int(user_id)).select_related("user")
    assert membership.organisation_id == tree.acme.id and membership.role.value == "MEMBER"
    assert membership.status is MembershipStatus.INVITED  # the default: invited
    [mail] = await smtp_server.deliver()
    assert mail["To"] == email and smtp_server.links_in(mail)
    [found] = await find(scim, email.upper())  # userName compares case-insensitively
    assert found["id"] == user_id

    # Update the names, the Entra way ("Replace", one path each).
    renamed = await scim.patch(
        user_id,
        {"op": "Replace", "path": "name.givenName", "value": "Amazing Grace"},
        {"op": "Replace", "path": "name.familyName", "value": "Hopper"},
        {"op": "Replace", "path": "displayName", "value": "Amazing Grace Hopper"},
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"]["givenName"] == "Amazing Grace"
    assert (await User.get(email=email)).first_name == "Amazing Grace"

    # Disable, as Entra sends it (the value a string).
    disabled = await scim.patch(user_id, {"op": "Replace", "path": "active", "value": "False"})
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert (await Membership.get(id=int(user_id))).status is MembershipStatus.DISABLED
    event = await AuditEvent.filter(action="member.disabled").order_by("-id").first()
    assert event is not None and event.organisation_id == tree.acme.id
    assert event.actor_id == tree["acme.admin"].user.id
    assert event.api_token_label.startswith("SCIM Entra ID (fdscim_")
    [listed] = (await scim.request("GET", "/Users", filter="active eq false")).json()["Resources"]
    assert listed["id"] == user_id

    # Re-enable: back to where they were (invited: they have not accepted yet).
    enabled = await scim.patch(user_id, {"op": "Replace", "path": "active", "value": "True"})
    assert enabled.status_code == 200 and enabled.json()["active"] is True
    assert (await Membership.get(id=int(user_id))).status is MembershipStatus.INVITED

    # Delete: the membership goes, and the account with it (it was their only one).
    deleted = await scim.request("DELETE", f"/Users/{user_id}")
    assert deleted.status_code == 204
    assert not await Membership.exists(id=int(user_id))
    assert not await User.exists(email=email)
    assert (await scim.request("GET", f"/Users/{user_id}")).status_code == 404
    assert await find(scim, email) == []


async def test_an_okta_cycle_with_set_password_links(tree, sign_in, http):
    await Organisation.filter(id=tree.acme.id).update(
        scim_new_people=ScimNewPeople.SET_PASSWORD_LINK
    )
    scim = await scim_for(tree, sign_in, http)
    email = "katherine@acme.example.com"
    created = await scim.create(email, "Katherine", "Johnson", externalId="00u1okta")
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    membership = await Membership.get(id=int(user_id)).select_related("user")
    assert membership.status is MembershipStatus.ACTIVE
    assert membership.user.status is UserStatus.ACTIVE and membership.user.password_hash is None
    assert await OutboxMail.filter(recipient=email, kind="welcome_set_password").count() == 1

    # Okta updates with PUT, the whole resource.
    replaced = await scim.request(
        "PUT",
        f"/Users/{user_id}",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": user_id,
            "userName": email,
            "name": {"givenName": "Katherine", "familyName": "Goble Johnson"},
            "externalId": "00u1okta",
            "active": True,
        },
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["name"]["familyName"] == "Goble Johnson"

    # Okta deactivates with a PATCH of a value object, no path.
    off = await scim.patch(user_id, {"op": "replace", "value": {"active": False}})
    assert off.status_code == 200 and off.json()["active"] is False
    on = await scim.patch(user_id, {"op": "replace", "value": {"active": True}})
    assert on.json()["active"] is True
    assert (await Membership.get(id=int(user_id))).status is MembershipStatus.ACTIVE


async def test_someone_with_an_account_elsewhere_is_invited_and_keeps_it(tree, sign_in, http):
    await Organisation.filter(id=tree.acme.id).update(
        scim_new_people=ScimNewPeople.SET_PASSWORD_LINK
    )
    scim = await scim_for(tree, sign_in, http)
    elsewhere = tree["globex.member"]
    created = await scim.create(elsewhere.email, "Someone", "Else")
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    # They confirm that they join: invited, whatever the setting; their profile is theirs.
    membership = await Membership.get(id=int(user_id))
    assert membership.status is MembershipStatus.INVITED
    assert await OutboxMail.filter(recipient=elsewhere.email, kind="invitation").count() == 1
    assert (await User.get(id=elsewhere.user.id)).first_name == "Member"
    # Their sign-in address and names are not this organisation's to change.
    renamed = await scim.patch(
        user_id, {"op": "replace", "path": "userName", "value": "x@acme.example.com"}
    )
    assert renamed.status_code == 400 and renamed.json()["scimType"] == "mutability"
    assert (await User.get(id=elsewhere.user.id)).email == elsewhere.email

    deleted = await scim.request("DELETE", f"/Users/{user_id}")
    assert deleted.status_code == 204
    assert not await Membership.exists(id=int(user_id))
    # Their other membership and their account are untouched.
    other = await Membership.get(id=elsewhere.membership.id)
    assert other.status is MembershipStatus.ACTIVE
    assert (await User.get(id=elsewhere.user.id)).status is UserStatus.ACTIVE


async def test_filters_and_paging(tree, sign_in, http):
    scim = await scim_for(tree, sign_in, http)
    for n, (given, family) in enumerate(
        [("Ada", "Lovelace"), ("Alan", "Turing"), ("Edsger", "Dijkstra")]
    ):
        response = await scim.create(
            f"{given.lower()}@acme.example.com", given, family, externalId=f"x{n}"
        )
        assert response.status_code == 201, response.text

    async def names(**params: str) -> list[str]:
        response = await scim.request("GET", "/Users", **params)
        assert response.status_code == 200, response.text
        return sorted(r["userName"].split("@")[0] for r in response.json().get("Resources", []))

    assert await names(filter='userName eq "ALAN@acme.example.com"') == ["alan"]
    assert await names(filter='userName sw "ad"') == ["ada", "admin"]
    assert await names(filter='name.familyName co "ur"') == ["alan"]
    assert await names(filter="externalId pr") == ["ada", "alan", "edsger"]
    assert await names(filter='externalId eq "X1"') == []  # externalId is case-exact
    assert await names(filter='userName sw "a" and name.givenName ew "lan"') == ["alan"]
    assert await names(filter='name.givenName eq "Ada" or name.familyName eq "Dijkstra"') == [
        "ada",
        "edsger",
    ]
    assert await names(filter='not (externalId pr) and userName ew "acme.example.com"') == [
        "admin",
        "member",
        "owner",
    ]
    # Six members, in the order they joined: pages of two.
    everyone = (await scim.request("GET", "/Users")).json()
    assert everyone["totalResults"] == 6 and everyone["startIndex"] == 1
    second = (await scim.request("GET", "/Users", startIndex="3", count="2")).json()
    assert second["totalResults"] == 6 and second["itemsPerPage"] == 2
    assert [r["id"] for r in second["Resources"]] == [r["id"] for r in everyone["Resources"][2:4]]
    none = (await scim.request("GET", "/Users", count="0")).json()
    assert none["totalResults"] == 6 and none["itemsPerPage"] == 0
    # Only this organisation's people, never Globex's.
    assert "member" in await names(filter='userName ew "acme.example.com"')
    assert await names(filter='userName ew "globex.example.com"') == []
