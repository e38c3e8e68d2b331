"""An admin edits a person (Sangoma): title and phones when adding them, then
names, title and phones with `updateMember`, within the rank rules and the
shared profile's rule (a person in several organisations)."""

from __future__ import annotations

import pytest

from server.accounts.models import User
from server.audit.models import AuditEvent
from server.core.permissions import Role
from tests.helpers.fixtures import add_person, gid
from tests.helpers.smtp import links_in
from tests.invitations.test_invitations import token_from

UPDATE = """mutation($id: ID!, $first: String, $last: String, $title: String, $office: String,
                     $mobile: String, $fax: String) {
  updateMember(input: {membershipId: $id, firstName: $first, lastName: $last, title: $title,
                       officePhone: $office, mobilePhone: $mobile, fax: $fax}) {
    membership { user { firstName lastName title officePhone mobilePhone fax } }
    errors { field code message } } }"""
CREATE_USER = """mutation($org: ID!, $email: String!, $title: String, $office: String,
                          $mobile: String, $fax: String) {
  createUser(input: {organisationId: $org, email: $email, role: MEMBER, firstName: "Carla",
                     lastName: "Caller", password: "an initial passphrase 7", title: $title,
                     officePhone: $office, mobilePhone: $mobile, fax: $fax}) {
    membership { user { firstName title officePhone mobilePhone fax } }
    errors { field code } } }"""
INVITE = """mutation($org: ID!, $email: String!, $title: String,
                     $office: String = "+44 20 7946 0001", $mobile: String, $fax: String) {
  inviteUser(input: {organisationId: $org, email: $email, role: MEMBER, firstName: "Ivy",
                     title: $title, officePhone: $office, mobilePhone: $mobile, fax: $fax}) {
    invitation { id } errors { field code } } }"""
CONFIRM = """mutation($token: String!) { confirmInvitation(input: {token: $token,
  password: "my chosen passphrase 9"}) { token errors { code } } }"""
PROFILE = ("first_name", "last_name", "title", "office_phone", "mobile_phone", "fax")


def _profile(user: User) -> tuple[str, ...]:
    return tuple(getattr(user, name) for name in PROFILE)


async def test_create_user_takes_title_and_phones(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    created = await admin.ok(
        CREATE_USER,
        {"org": gid("Organisation", tree.acme.id), "email": "carla@acme.example.com",
         "title": "Head of Sales", "office": "+44 20 7946 0000", "mobile": "07700 900123",
         "fax": "+44 (20) 7946-0999"},
    )  # fmt: skip
    assert created["membership"]["user"] == {
        "firstName": "Carla",
        "title": "Head of Sales",
        "officePhone": "+44 20 7946 0000",
        "mobilePhone": "07700 900123",
        "fax": "+44 (20) 7946-0999",
    }


@pytest.mark.parametrize(
    ("variables", "field", "code"),
    [
        ({"title": "x" * 101}, "title", "TOO_LONG"),
        ({"title": "Boss\x07"}, "title", "INVALID"),
        ({"fax": "call me"}, "fax", "INVALID_PHONE"),
        ({"mobile": "+44\n20"}, "mobilePhone", "INVALID_PHONE"),
    ],
)
async def test_adding_a_person_with_bad_details_changes_nothing(
    tree, sign_in, variables, field, code
):
    admin = await sign_in(tree["acme.admin"].email)
    org = gid("Organisation", tree.acme.id)
    for query in (CREATE_USER, INVITE):
        data = await admin.data(query, {"org": org, "email": "new@acme.example.com", **variables})
        [payload] = data.values()
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert not await User.exists(email="new@acme.example.com")


async def test_an_invitation_gives_a_new_person_the_details_typed(
    tree, sign_in, anonymous, smtp_server
):
    admin = await sign_in(tree["acme.admin"].email)
    org = gid("Organisation", tree.acme.id)
    await admin.ok(INVITE, {"org": org, "email": "ivy@acme.example.com", "title": "Buyer",
                            "fax": "+44 20 7946 0002"})  # fmt: skip
    [mail] = await smtp_server.deliver()
    await anonymous.ok(CONFIRM, {"token": token_from(links_in(mail)[0])})
    ivy = await User.get(email="ivy@acme.example.com")
    assert (ivy.first_name, ivy.title, ivy.office_phone, ivy.fax) == (
        "Ivy",
        "Buyer",
        "+44 20 7946 0001",
        "+44 20 7946 0002",
    )


async def test_an_invitation_leaves_an_existing_persons_details_alone(
    tree, sign_in, anonymous, smtp_server
):
    """Globex invites someone who already has an account: their own title and
    phones stay theirs, before and after they accept."""
    person = tree["acme.member"].user
    person.title, person.fax = "Engineer", "+1 555 0100"
    await person.save()
    before = _profile(await User.get(id=person.id))
    admin = await sign_in(tree["globex.admin"].email)
    org = gid("Organisation", tree.globex.id)
    await admin.ok(INVITE, {"org": org, "email": person.email, "title": "Intern",
                            "fax": "+1 555 0199"})  # fmt: skip
    assert _profile(await User.get(id=person.id)) == before
    [mail] = await smtp_server.deliver()
    signed_in = await sign_in(person.email)
    await signed_in.ok(CONFIRM, {"token": token_from(links_in(mail)[0])})
    assert _profile(await User.get(id=person.id)) == before


async def test_an_admin_edits_a_member_audited_with_before_and_after(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    member = tree["acme.member"]
    edited = await admin.ok(
        UPDATE,
        {"id": member.membership_id, "first": " Mona ", "title": "Dispatcher",
         "office": "+44 20 7946 0100", "fax": "+44 20 7946 0101"},
    )  # fmt: skip
    assert edited["membership"]["user"] == {
        "firstName": "Mona",
        "lastName": "Test",
        "title": "Dispatcher",
        "officePhone": "+44 20 7946 0100",
        "mobilePhone": "",
        "fax": "+44 20 7946 0101",
    }
    event = await AuditEvent.get(action="member.profile_updated")
    assert event.organisation_id == tree.acme.id
    assert event.subject_user_id == member.user.id
    assert event.actor_label == tree["acme.admin"].email
    assert {key: event.details[key] for key in ("before", "after")} == {
        "before": {"firstName": "Member", "title": "", "officePhone": "", "fax": ""},
        "after": {
            "firstName": "Mona",
            "title": "Dispatcher",
            "officePhone": "+44 20 7946 0100",
            "fax": "+44 20 7946 0101",
        },
    }
    # Nothing changed: nothing audited.
    await admin.ok(UPDATE, {"id": member.membership_id, "title": "Dispatcher"})
    assert await AuditEvent.filter(action="member.profile_updated").count() == 1
    # An empty string clears a field.
    cleared = await admin.ok(UPDATE, {"id": member.membership_id, "fax": ""})
    assert cleared["membership"]["user"]["fax"] == ""


@pytest.mark.parametrize(
    ("variables", "field", "code"),
    [
        ({"first": "x" * 101}, "firstName", "TOO_LONG"),
        ({"last": "Null\x00Byte"}, "lastName", "INVALID"),
        ({"office": "12"}, "officePhone", "INVALID_PHONE"),
        ({"mobile": "+" + "1" * 40}, "mobilePhone", "INVALID_PHONE"),
        ({"fax": "fax me"}, "fax", "INVALID_PHONE"),
    ],
)
async def test_bad_input_changes_nothing(tree, sign_in, variables, field, code):
    admin = await sign_in(tree["acme.admin"].email)
    member = tree["acme.member"]
    before = _profile(await User.get(id=member.user.id))
    data = await admin.data(UPDATE, {"id": member.membership_id, "first": "Changed", **variables})
    errors = data["updateMember"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [(field, code)]
    assert _profile(await User.get(id=member.user.id)) == before
    assert not await AuditEvent.exists(action="member.profile_updated")


async def test_rank_rules_refuse_and_change_nothing(tree, sign_in):
    owner = tree["acme.owner"]
    before = _profile(await User.get(id=owner.user.id))
    admin = await sign_in(tree["acme.admin"].email)
    assert await admin.refused(UPDATE, {"id": owner.membership_id, "first": "Mallory"}) == [
        "HIGHER_ROLE"
    ]
    member = await sign_in(tree["acme.member"].email)
    assert (
        await member.error_code(UPDATE, {"id": tree["acme.admin"].membership_id, "first": "M"})
        == "FORBIDDEN"
    )
    # Another customer's people are out of reach altogether.
    foreign = {"id": tree["globex.member"].membership_id, "first": "M"}
    assert await admin.refused(UPDATE, foreign) == ["NOT_FOUND"]
    assert _profile(await User.get(id=owner.user.id)) == before
    assert not await AuditEvent.exists(action="member.profile_updated")
    # The owner may edit the admin; the reseller's admin (delegated) the owner.
    owner_client = await sign_in(owner.email)
    await owner_client.ok(UPDATE, {"id": tree["acme.admin"].membership_id, "title": "Deputy"})
    reseller = await sign_in(tree["reseller.admin"].email)
    await reseller.ok(UPDATE, {"id": owner.membership_id, "title": "Founder"})
    assert (await User.get(id=owner.user.id)).title == "Founder"


async def test_a_person_in_several_organisations_is_edited_only_by_who_administers_them_all(
    tree, sign_in
):
    """Acme's admin cannot rename someone who is also an owner at Globex (or a
    member there: Globex is not theirs); the reseller's admin, above both, can."""
    person = tree["acme.member"]
    await add_person(tree.globex, person.email, Role.MEMBER)
    before = _profile(await User.get(id=person.user.id))
    admin = await sign_in(tree["acme.admin"].email)
    assert await admin.refused(UPDATE, {"id": person.membership_id, "first": "Mallory"}) == [
        "PROFILE_SHARED"
    ]
    assert _profile(await User.get(id=person.user.id)) == before
    reseller = await sign_in(tree["reseller.admin"].email)
    await reseller.ok(UPDATE, {"id": person.membership_id, "first": "Maria"})
    assert (await User.get(id=person.user.id)).first_name == "Maria"

    # An admin in both organisations edits them too, unless they rank above there.
    both = tree["globex.admin"]
    await add_person(tree.acme, both.email, Role.ADMIN)
    globex_admin = await sign_in(both.email)
    await globex_admin.ok(UPDATE, {"id": person.membership_id, "title": "Shared"})
    owner_elsewhere = tree["acme.owner"]
    await add_person(tree.globex, owner_elsewhere.email, Role.OWNER)
    globex_member_admin = await sign_in(tree["globex.admin"].email)
    codes = await globex_member_admin.refused(
        UPDATE, {"id": owner_elsewhere.membership_id, "title": "x"}
    )
    assert codes == ["HIGHER_ROLE"]


async def test_an_invited_existing_person_is_not_edited_before_accepting(tree, sign_in):
    admin = await sign_in(tree["globex.admin"].email)
    person = tree["acme.member"]
    invited = await admin.data(
        """mutation($org: ID!, $email: String!) { inviteUser(input: {organisationId: $org,
        email: $email, role: MEMBER}) { invitation { membership { id } } errors { code } } }""",
        {"org": gid("Organisation", tree.globex.id), "email": person.email},
    )
    membership_id = invited["inviteUser"]["invitation"]["membership"]["id"]
    assert await admin.refused(UPDATE, {"id": membership_id, "first": "Mallory"}) == [
        "INVALID_STATE"
    ]
    assert (await User.get(id=person.user.id)).first_name == "Member"
