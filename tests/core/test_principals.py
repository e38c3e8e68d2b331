"""One authorization model for every principal: the leaks found when API tokens,
impersonation and invitations were tried as a new user would, each pinned
through GraphQL (issue 13)."""

from __future__ import annotations

from datetime import timedelta

import orjson

from server.accounts.models import User, UserStatus
from server.api_tokens.models import ApiToken
from server.audit.models import AuditEvent
from server.core import clock
from server.core.permissions import Role
from server.invitations.models import Invitation
from server.tenancy.models import OrganisationStatus
from server.webhooks.models import WebhookDelivery
from tests.api_tokens.test_api_tokens import create_token, expiry
from tests.helpers.fixtures import ORIGIN, GraphQLClient, add_person, gid
from tests.helpers.smtp import links_in
from tests.invitations.test_invitations import token_from

INVITE = """mutation($org: ID!, $email: String!) {
  inviteUser(input: {organisationId: $org, email: $email, role: MEMBER}) {
    invitation { id email membership { id user { id email firstName lastName title
      officePhone mobilePhone lastLoginAt twoFactorEnabled status } } }
    errors { code } } }"""
NODE_USER = """query($id: ID!) { node(id: $id) { __typename ... on User { email firstName
  officePhone lastLoginAt } } }"""
MEMBERS = """query($org: ID!) { members(organisationId: $org) { nodes { status user {
  email firstName lastName mobilePhone lastLoginAt } } } }"""
SESSIONS = "{ sessions { id clientIp userAgent } }"
UPDATE_PROFILE = """mutation { updateProfile(input: {firstName: "Hijacked"}) {
  user { firstName } errors { code } } }"""
VIEWER = "{ viewer { user { email } memberships { organisation { name } } } }"
TOKEN_VIEWER = """{ viewer { user { email firstName mobilePhone lastLoginAt twoFactorEnabled }
  apiToken { name permissions } } }"""
CHANGE_ROLE = """mutation($id: ID!, $role: Role!) { changeRole(input: {membershipId: $id, role: $role}) {
  membership { role } errors { code } } }"""
CREATE_WEBHOOK = """mutation($org: ID!) { createWebhook(input: {organisationId: $org,
  url: "https://hooks.example.com/x", events: ["member.role_changed"]}) { secret errors { code } } }"""
DISABLE = """mutation($id: ID!) { disableMember(input: {membershipId: $id}) { errors { code } } }"""
ENABLE = """mutation($id: ID!) { enableMember(input: {membershipId: $id}) { errors { code } } }"""
REMOVE = """mutation($id: ID!) { removeMember(input: {membershipId: $id}) { errors { code } } }"""
AUDIT = """query($org: ID!) { auditEvents(organisationId: $org, action: "member.") { nodes {
  action actorLabel apiTokenId apiTokenLabel } } }"""
CONFIRM = """mutation($token: String!) { confirmInvitation(input: {token: $token,
  password: "a fresh long password 42"}) { errors { code message } } }"""
SUSPEND = """mutation($id: ID!) { suspendOrganisation(input: {organisationId: $id}) {
  errors { code } } }"""


# --- a pending invitation reveals nothing of an existing person --------------------------


async def test_inviting_someone_elses_address_reveals_nothing_about_them(tree, sign_in):
    # Globex's owner has a full profile and has signed in; Acme's admin types their address.
    outsider = tree["globex.owner"].user
    outsider.mobile_phone, outsider.title = "+44 7700 900123", "CFO"
    await outsider.save()
    acme_admin = await sign_in(tree["acme.admin"].email)

    payload = await acme_admin.ok(
        INVITE, {"org": gid("Organisation", tree.acme.id), "email": outsider.email}
    )
    shown = payload["invitation"]["membership"]["user"]
    assert shown == {
        "id": gid("User", outsider.id),
        "email": outsider.email,  # what the inviter typed
        "firstName": "",
        "lastName": "",
        "title": "",
        "officePhone": "",
        "mobilePhone": "",
        "lastLoginAt": None,
        "twoFactorEnabled": False,
        "status": "INVITED",
    }
    # The members list and node(id:) agree: pending, nothing more.
    members = (await acme_admin.data(MEMBERS, {"org": gid("Organisation", tree.acme.id)}))[
        "members"
    ]["nodes"]
    [pending] = [m for m in members if m["status"] == "INVITED"]
    assert pending["user"] == {
        "email": outsider.email,
        "firstName": "",
        "lastName": "",
        "mobilePhone": "",
        "lastLoginAt": None,
    }
    found = await acme_admin.data(NODE_USER, {"id": gid("User", outsider.id)})
    missing = await acme_admin.data(NODE_USER, {"id": gid("User", 99_999)})
    assert found == missing == {"node": None}


async def test_a_person_the_invitation_created_shows_what_the_inviter_typed(tree, sign_in):
    acme_admin = await sign_in(tree["acme.admin"].email)
    payload = await acme_admin.ok(
        INVITE, {"org": gid("Organisation", tree.acme.id), "email": "new.person@example.com"}
    )
    user = await User.get(email="new.person@example.com")
    assert payload["invitation"]["membership"]["user"]["id"] == gid("User", user.id)
    found = await acme_admin.data(NODE_USER, {"id": gid("User", user.id)})
    assert found["node"]["email"] == "new.person@example.com"


# --- API tokens reach exactly what they were given ---------------------------------------


async def test_a_token_never_reaches_its_creators_personal_account(tree, sign_in, http):
    await User.filter(id=tree["acme.admin"].user.id).update(mobile_phone="+44 7700 900555")
    admin = await sign_in(tree["acme.admin"].email)
    secret = (await create_token(admin, tree.acme.id, ["ORGANISATION_VIEW", "MEMBERS_VIEW"]))[
        "secret"
    ]
    token = GraphQLClient(http, secret)

    assert await token.error_code(SESSIONS) == "API_TOKEN_FORBIDDEN"
    assert await token.error_code(UPDATE_PROFILE) == "API_TOKEN_FORBIDDEN"
    assert (await User.get(id=tree["acme.admin"].user.id)).first_name != "Hijacked"
    # The creator's own profile, through node(id:), as for any member it may list...
    creator = gid("User", tree["acme.admin"].user.id)
    assert (await token.data(NODE_USER, {"id": creator}))["node"]["email"] == tree[
        "acme.admin"
    ].email
    # ...but without MEMBERS_VIEW, the creator is nobody to the token.
    narrow = (await create_token(admin, tree.acme.id, ["ORGANISATION_VIEW"]))["secret"]
    assert (await GraphQLClient(http, narrow).data(NODE_USER, {"id": creator})) == {"node": None}
    viewer = (await token.data(VIEWER))["viewer"]
    assert [m["organisation"]["name"] for m in viewer["memberships"]] == ["Acme"]
    # Whom it acts for, by name only; and which token it is.
    seen = (await GraphQLClient(http, narrow).data(TOKEN_VIEWER))["viewer"]
    assert seen == {
        "user": {
            "email": tree["acme.admin"].email,
            "firstName": tree["acme.admin"].user.first_name,
            "mobilePhone": "",
            "lastLoginAt": None,
            "twoFactorEnabled": False,
        },
        "apiToken": {"name": "CRM sync", "permissions": ["ORGANISATION_VIEW"]},
    }
    assert (await admin.data(TOKEN_VIEWER))["viewer"]["apiToken"] is None


async def test_a_token_sent_as_the_session_cookie_is_no_session(tree, sign_in, http):
    admin = await sign_in(tree["acme.admin"].email)
    secret = (await create_token(admin, tree.acme.id, ["ORGANISATION_VIEW"]))["secret"]
    http.cookies.set("__Host-frontdesk_session", secret, domain="portal.example.test")
    try:
        response = await http.post(
            "/graphql",
            json={"query": VIEWER},
            headers={"content-type": "application/json", "origin": ORIGIN},
        )
    finally:
        http.cookies.clear()
    assert response.status_code == 200 and response.json()["data"] == {"viewer": None}
    # The same secret as a bearer token works: it was the delivery that was refused.
    assert (await GraphQLClient(http, secret).data(VIEWER))["viewer"] is not None


async def test_a_token_needs_the_privileged_grant_for_what_needs_a_recent_sign_in(
    tree, sign_in, http
):
    owner = await sign_in(tree["acme.owner"].email)
    perms = ["MEMBERS_VIEW", "MEMBERS_MANAGE", "WEBHOOKS_MANAGE"]
    plain = GraphQLClient(http, (await create_token(owner, tree.acme.id, perms))["secret"])
    member = tree["acme.member"].membership_id
    org = gid("Organisation", tree.acme.id)

    assert await plain.error_code(CHANGE_ROLE, {"id": member, "role": "OWNER"}) == (
        "REAUTH_REQUIRED"
    )
    assert await plain.error_code(CREATE_WEBHOOK, {"org": org}) == "REAUTH_REQUIRED"
    assert not await WebhookDelivery.exists()
    # What needs no step-up still works: a role below ADMIN.
    assert (await plain.ok(CHANGE_ROLE, {"id": member, "role": "VIEWER"}))["membership"] == {
        "role": "VIEWER"
    }

    privileged = await create_token(owner, tree.acme.id, perms, privileged=True)
    assert privileged["apiToken"]["permissions"] == sorted(perms)
    elevated = GraphQLClient(http, privileged["secret"])
    assert (await elevated.ok(CHANGE_ROLE, {"id": member, "role": "OWNER"}))["membership"] == {
        "role": "OWNER"
    }
    assert (await elevated.ok(CREATE_WEBHOOK, {"org": org}))["secret"].startswith("whsec_")


async def test_only_a_recent_sign_in_can_create_a_privileged_token(tree, sign_in, http):
    owner = await sign_in(tree["acme.owner"].email)
    clock.advance(timedelta(minutes=6))
    body = await owner(
        """mutation($org: ID!, $expires: DateTime!) { createApiToken(input: {organisationId: $org,
        name: "x", permissions: [MEMBERS_VIEW], expiresAt: $expires, privileged: true}) {
        secret errors { code } } }""",
        {"org": gid("Organisation", tree.acme.id), "expires": expiry()},
    )
    assert body["errors"][0]["extensions"]["code"] == "REAUTH_REQUIRED"
    assert not await ApiToken.exists()


async def test_the_audit_trail_and_webhooks_name_the_token(tree, sign_in, http):
    owner = await sign_in(tree["acme.owner"].email)
    created = await create_token(
        owner, tree.acme.id, ["MEMBERS_MANAGE", "WEBHOOKS_MANAGE", "AUDIT_VIEW"], privileged=True
    )
    token = GraphQLClient(http, created["secret"])
    await token.ok(CREATE_WEBHOOK, {"org": gid("Organisation", tree.acme.id)})
    await token.ok(CHANGE_ROLE, {"id": tree["acme.member"].membership_id, "role": "VIEWER"})

    events = (await owner.data(AUDIT, {"org": gid("Organisation", tree.acme.id)}))["auditEvents"]
    [changed] = [e for e in events["nodes"] if e["action"] == "member.role_changed"]
    stored = await ApiToken.get(name="CRM sync")
    assert changed == {
        "action": "member.role_changed",
        "actorLabel": tree["acme.owner"].email,
        "apiTokenId": created["apiToken"]["id"],
        "apiTokenLabel": f"CRM sync ({stored.hint}…)",
    }
    delivery = await WebhookDelivery.get(event="member.role_changed")
    actor = orjson.loads(delivery.payload)["actor"]
    assert actor["apiToken"] == {
        "id": created["apiToken"]["id"],
        "name": f"CRM sync ({stored.hint}…)",
    }
    assert actor["label"] == tree["acme.owner"].email and actor["impersonator"] is None

    csv = await http.get(
        f"/audit/export.csv?organisationId={gid('Organisation', tree.acme.id)}",
        headers={"authorization": f"Bearer {owner.token}"},
    )
    header, *rows = csv.text.splitlines()
    assert "api_token_id" in header.split(",") and "api_token" in header.split(",")
    assert any(f"CRM sync ({stored.hint}…)" in row for row in rows)


async def test_disabling_the_creator_revokes_their_tokens_for_good(tree, sign_in, http):
    acme_admin = await sign_in(tree["acme.admin"].email)
    secret = (await create_token(acme_admin, tree.acme.id, ["ORGANISATION_VIEW"]))["secret"]
    token = GraphQLClient(http, secret)
    assert (await token.data(VIEWER))["viewer"] is not None
    owner = await sign_in(tree["acme.owner"].email)
    membership = tree["acme.admin"].membership_id

    await owner.ok(DISABLE, {"id": membership})
    assert (await token.data(VIEWER))["viewer"] is None
    await owner.ok(ENABLE, {"id": membership})
    assert (await token.data(VIEWER))["viewer"] is None  # revoked, not suspended
    stored = await ApiToken.get(name="CRM sync")
    assert stored.revoked_at is not None
    assert await AuditEvent.filter(action="api_token.revoked", target_id=stored.id).count() == 1


async def test_removing_the_creator_revokes_their_tokens(tree, sign_in, http):
    acme_admin = await sign_in(tree["acme.admin"].email)
    await create_token(acme_admin, tree.acme.id, ["ORGANISATION_VIEW"])
    owner = await sign_in(tree["acme.owner"].email)
    await owner.ok(REMOVE, {"id": tree["acme.admin"].membership_id})
    assert (await ApiToken.get(name="CRM sync")).revoked_at is not None


# --- invitations into suspended organisations ---------------------------------------------


async def test_an_invitation_into_a_suspended_organisation_cannot_be_accepted(
    tree, sign_in, anonymous, smtp_server
):
    acme_admin = await sign_in(tree["acme.admin"].email)
    await acme_admin.ok(
        INVITE, {"org": gid("Organisation", tree.acme.id), "email": "joiner@example.com"}
    )
    [message] = await smtp_server.deliver()
    [link] = links_in(message)
    link_token = token_from(link)
    reseller = await sign_in(tree["reseller.admin"].email)
    await reseller.ok(SUSPEND, {"id": gid("Organisation", tree.acme.id)})

    assert await anonymous.refused(CONFIRM, {"token": link_token}) == ["INVALID_STATE"]
    joiner = await User.get(email="joiner@example.com")
    assert joiner.status is UserStatus.INVITED and joiner.password_hash is None
    tree.acme.status = OrganisationStatus.ACTIVE
    await tree.acme.save()
    assert await anonymous.ok(CONFIRM, {"token": link_token}) == {"errors": []}


async def test_a_person_added_to_another_tenant_stays_hidden_from_a_token(tree, sign_in, http):
    # A token of the reseller sees its customers' people, not the provider's.
    reseller_admin = await sign_in(tree["reseller.admin"].email)
    secret = (await create_token(reseller_admin, tree.reseller.id, ["MEMBERS_VIEW"]))["secret"]
    person = await add_person(tree.provider, "staff@provider.example.com", Role.MEMBER)
    token = GraphQLClient(http, secret)
    assert (await token.data(NODE_USER, {"id": gid("User", person.user.id)})) == {"node": None}


async def test_an_invitation_is_accepted_by_the_person_not_by_their_token(
    tree, sign_in, smtp_server, http
):
    invitee = tree["globex.owner"]
    own = await sign_in(invitee.email)
    token = GraphQLClient(
        http, (await create_token(own, tree.globex.id, ["ORGANISATION_VIEW"]))["secret"]
    )
    acme_admin = await sign_in(tree["acme.admin"].email)
    await acme_admin.ok(INVITE, {"org": gid("Organisation", tree.acme.id), "email": invitee.email})
    [message] = await smtp_server.deliver()
    link_token = token_from(links_in(message)[0])
    accept = """mutation($token: String!) { confirmInvitation(input: {token: $token}) {
      membership { status } errors { code } } }"""

    assert await token.error_code(accept, {"token": link_token}) == "API_TOKEN_FORBIDDEN"
    assert (await Invitation.get(email=invitee.email)).accepted_at is None
    joined = await own.ok(accept, {"token": link_token})
    assert joined["membership"] == {"status": "ACTIVE"}
