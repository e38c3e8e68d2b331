"""API tokens: shown once, hashed, scoped to a subtree and a subset of the
creator's permissions, never beyond the creator's current rights."""

from __future__ import annotations

from datetime import timedelta

from server.accounts.models import Membership, MembershipStatus
from server.api_tokens.models import ApiToken
from server.audit.models import AuditEvent
from server.core import clock
from server.core.permissions import Role
from tests.helpers.fixtures import GraphQLClient, gid

CREATE = """
mutation($org: ID!, $name: String!, $perms: [Permission!]!, $expires: DateTime!,
         $privileged: Boolean! = false) {
  createApiToken(input: {organisationId: $org, name: $name, permissions: $perms, expiresAt: $expires,
                         privileged: $privileged}) {
    secret
    apiToken { id name hint permissions active organisation { name } createdBy { email } }
    errors { field code message }
  }
}"""
LIST = """query($org: ID!) { apiTokens(organisationId: $org) {
  totalCount nodes { name hint active lastUsedAt revokedAt } } }"""
REVOKE = """mutation($id: ID!) { revokeApiToken(input: {apiTokenId: $id}) {
  apiToken { active revokedAt } errors { code } } }"""
MEMBERS = """query($org: ID!) { members(organisationId: $org, includeDescendants: true) {
  totalCount nodes { user { email } organisation { name } } } }"""
CREATE_ORG = """mutation($parent: ID!) { createOrganisation(input: {parentId: $parent, name: "Via token"}) {
  organisation { name } errors { code } } }"""
INVITE = """mutation($org: ID!) { inviteUser(input: {organisationId: $org, email: "t@example.com", role: MEMBER}) {
  errors { code } } }"""


def expiry(days: int = 30) -> str:
    return (clock.now() + timedelta(days=days)).isoformat()


async def create_token(client: GraphQLClient, org_id: int, perms: list[str], **extra) -> dict:  # type: ignore[no-untyped-def]
    variables = {
        "org": gid("Organisation", org_id),
        "name": "CRM sync",
        "perms": perms,
        "expires": expiry(),
    }
    return await client.ok(CREATE, {**variables, **extra})


async def test_token_is_shown_once_hashed_and_scoped(tree, sign_in, http):
    admin = await sign_in(tree["reseller.admin"].email)
    created = await create_token(admin, tree.reseller.id, ["MEMBERS_VIEW", "CUSTOMERS_MANAGE"])
    secret = created["secret"]
    assert secret.startswith("fdt_") and len(secret) > 40
    assert created["apiToken"]["hint"] == secret[:10]
    stored = await ApiToken.get(name="CRM sync")
    assert secret not in (stored.token_hash, stored.hint) and len(stored.token_hash) == 64
    listed = (await admin.data(LIST, {"org": gid("Organisation", tree.reseller.id)}))["apiTokens"]
    assert "secret" not in str(listed) and listed["nodes"][0]["hint"] == created["apiToken"]["hint"]

    token = GraphQLClient(http, secret)
    everyone = (await token.data(MEMBERS, {"org": gid("Organisation", tree.reseller.id)}))[
        "members"
    ]
    assert {n["organisation"]["name"] for n in everyone["nodes"]} == {"Reseller", "Acme", "Globex"}
    created_org = await token.ok(CREATE_ORG, {"parent": gid("Organisation", tree.reseller.id)})
    assert created_org["organisation"]["name"] == "Via token"
    event = await AuditEvent.get(action="organisation.created")
    assert event.api_token_id == stored.id and event.actor_id == tree["reseller.admin"].user.id
    # Not granted: MEMBERS_MANAGE.
    assert await token.error_code(INVITE, {"org": gid("Organisation", tree.acme.id)}) == "FORBIDDEN"
    # Out of its subtree: the provider does not exist for it.
    assert (
        await token.error_code(MEMBERS, {"org": gid("Organisation", tree.provider.id)})
        == "NOT_FOUND"
    )
    assert (await ApiToken.get(id=stored.id)).last_used_at is not None


async def test_a_token_never_holds_more_than_its_creator(tree, sign_in, http):
    member = await sign_in(tree["acme.member"].email)
    body = await member(
        CREATE,
        {
            "org": gid("Organisation", tree.acme.id),
            "name": "x",
            "perms": ["MEMBERS_VIEW"],
            "expires": expiry(),
        },
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    admin = await sign_in(tree["acme.admin"].email)
    assert await admin.refused(
        CREATE,
        {
            "org": gid("Organisation", tree.acme.id),
            "name": "x",
            "perms": ["OWNERSHIP_MANAGE"],
            "expires": expiry(),
        },
    ) == ["OUT_OF_SCOPE_PERMISSION"]
    secret = (await create_token(admin, tree.acme.id, ["MEMBERS_VIEW"]))["secret"]
    token = GraphQLClient(http, secret)
    acme = {"org": gid("Organisation", tree.acme.id)}
    assert (await token.data(MEMBERS, acme))["members"]["totalCount"] == 3

    # The creator is demoted: the token shrinks with them.
    await Membership.filter(id=tree["acme.admin"].membership.id).update(role=Role.MEMBER)
    assert await token.error_code(MEMBERS, acme) == "FORBIDDEN"
    # Removed or disabled: it stops working altogether.
    await Membership.filter(id=tree["acme.admin"].membership.id).update(
        role=Role.ADMIN, status=MembershipStatus.DISABLED
    )
    assert await token.error_code(MEMBERS, acme) == "NOT_FOUND"


async def test_revoke_expiry_and_bad_input(tree, sign_in, http):
    admin = await sign_in(tree["acme.admin"].email)
    created = await create_token(admin, tree.acme.id, ["MEMBERS_VIEW"])
    token = GraphQLClient(http, created["secret"])
    acme = {"org": gid("Organisation", tree.acme.id)}
    assert (await admin.ok(REVOKE, {"id": created["apiToken"]["id"]}))["apiToken"][
        "active"
    ] is False
    assert await token.error_code(MEMBERS, acme) == "UNAUTHENTICATED"

    short = await admin.ok(
        CREATE, {**acme, "name": "short", "perms": ["MEMBERS_VIEW"], "expires": expiry(1)}
    )
    clock.advance(timedelta(days=1, seconds=1))
    assert await GraphQLClient(http, short["secret"]).error_code(MEMBERS, acme) == "UNAUTHENTICATED"

    admin = await sign_in(tree["acme.admin"].email)
    before = await ApiToken.all().count()
    for bad, code in [
        ({"expires": expiry(400)}, "INVALID"),
        ({"expires": (clock.now() - timedelta(days=1)).isoformat()}, "INVALID"),
        ({"perms": []}, "REQUIRED"),
        ({"name": "bad\x00name"}, "INVALID"),
    ]:
        variables = {**acme, "name": "t", "perms": ["MEMBERS_VIEW"], "expires": expiry(), **bad}
        assert await admin.refused(CREATE, variables) == [code]
    assert await ApiToken.all().count() == before
    # Another organisation's token cannot be revoked (nor seen).
    other = await sign_in(tree["globex.admin"].email)
    assert await other.refused(REVOKE, {"id": created["apiToken"]["id"]}) == ["NOT_FOUND"]


async def test_tokens_cannot_make_tokens_or_touch_credentials(tree, sign_in, http):
    admin = await sign_in(tree["acme.owner"].email)
    secret = (await create_token(admin, tree.acme.id, ["API_TOKENS_MANAGE", "MEMBERS_MANAGE"]))[
        "secret"
    ]
    token = GraphQLClient(http, secret)
    variables = {
        "org": gid("Organisation", tree.acme.id),
        "name": "child",
        "perms": ["MEMBERS_VIEW"],
        "expires": expiry(),
    }
    assert await token.error_code(CREATE, variables) == "API_TOKEN_FORBIDDEN"
    assert (
        await token.error_code(
            'mutation { changePassword(input: {currentPassword: "a", newPassword: "b"}) { errors { code } } }'
        )
        == "API_TOKEN_FORBIDDEN"
    )


async def test_creating_a_token_needs_a_recent_sign_in(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    clock.advance(timedelta(minutes=6))
    body = await admin(
        CREATE,
        {
            "org": gid("Organisation", tree.acme.id),
            "name": "x",
            "perms": ["MEMBERS_VIEW"],
            "expires": expiry(),
        },
    )
    assert body["errors"][0]["extensions"]["code"] == "REAUTH_REQUIRED"
    assert not await ApiToken.exists()
