"""SCIM tokens in GraphQL: shown once, stored hashed, listed, revoked, audited,
guarded by SCIM_MANAGE; the setting for how provisioned people join."""

from __future__ import annotations

from server.audit.models import AuditEvent
from server.audit.summaries import summarise
from server.scim.models import ScimToken
from tests.api_tokens.test_api_tokens import create_token
from tests.helpers.fixtures import GraphQLClient, gid
from tests.scim.helpers import (
    CREATE_TOKEN,
    REVOKE_TOKEN,
    SET_NEW_PEOPLE,
    Scim,
    create_scim_token,
    expiry,
    scim_error,
)

LIST = """query($org: ID!) {
  scimTokens(organisationId: $org) { totalCount nodes { id name hint active revokedAt } }
  organisation(id: $org) { scimProvisioning { baseUrl newPeople } }
}"""


async def test_a_token_is_shown_once_stored_hashed_listed_and_revoked(tree, sign_in, http):
    admin = await sign_in(tree["acme.admin"].email)
    created = await create_scim_token(admin, tree.acme.id)
    secret = created["secret"]
    assert secret.startswith("fdscim_") and len(secret) > 40
    token = created["scimToken"]
    assert token["hint"] == secret[:13] and token["active"] is True
    assert token["organisation"]["name"] == "Acme"
    assert token["createdBy"]["email"] == tree["acme.admin"].email
    stored = await ScimToken.get(organisation_id=tree.acme.id)
    assert secret not in (stored.token_hash, stored.hint) and len(stored.token_hash) == 64

    org = gid("Organisation", tree.acme.id)
    listed = await admin.data(LIST, {"org": org})
    assert secret not in str(listed)
    assert listed["scimTokens"]["nodes"][0]["hint"] == token["hint"]
    assert listed["organisation"]["scimProvisioning"] == {
        "baseUrl": "https://portal.example.test/scim/v2",
        "newPeople": "INVITE",
    }
    scim = Scim(http, secret)
    assert (await scim.request("GET", "/Users")).status_code == 200

    revoked = await admin.ok(REVOKE_TOKEN, {"id": token["id"]})
    assert revoked["scimToken"]["active"] is False
    scim_error(await scim.request("GET", "/Users"), 401)

    events = await AuditEvent.filter(organisation_id=tree.acme.id).order_by("id")
    actions = [e.action for e in events]
    assert actions[-2:] == ["scim_token.created", "scim_token.revoked"]
    assert summarise(events[-2], "en") == "Admin Test created the SCIM token Entra ID"
    german = summarise(events[-1], "de")
    assert german == "Admin Test hat das SCIM-Token Entra ID widerrufen"


async def test_only_owners_and_admins_manage_scim_and_never_through_tokens(tree, sign_in, http):
    org = gid("Organisation", tree.acme.id)
    variables = {"org": org, "name": "Okta", "expires": expiry()}
    member = await sign_in(tree["acme.member"].email)
    assert await member.error_code(CREATE_TOKEN, variables) == "FORBIDDEN"
    assert await member.error_code(LIST, {"org": org}) == "FORBIDDEN"
    # Another organisation's admin does not see Acme at all.
    stranger = await sign_in(tree["globex.admin"].email)
    assert await stranger.refused(CREATE_TOKEN, variables) == ["NOT_FOUND"]
    # An API token cannot make SCIM tokens, even one allowed to manage them.
    admin = await sign_in(tree["acme.admin"].email)
    api_secret = (await create_token(admin, tree.acme.id, ["SCIM_MANAGE"]))["secret"]
    assert await GraphQLClient(http, api_secret).error_code(CREATE_TOKEN, variables) == (
        "API_TOKEN_FORBIDDEN"
    )
    assert await ScimToken.all().count() == 0
    # A SCIM token is no credential for /graphql.
    secret = (await create_scim_token(admin, tree.acme.id))["secret"]
    assert await GraphQLClient(http, secret).error_code(LIST, {"org": org}) == "UNAUTHENTICATED"
    # The reseller's admins administer Acme (delegated administration).
    reseller = await sign_in(tree["reseller.admin"].email)
    assert (await reseller.ok(CREATE_TOKEN, variables))["secret"].startswith("fdscim_")


async def test_a_token_expiry_must_be_within_a_year(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    org = gid("Organisation", tree.acme.id)
    for days in (-1, 400):
        variables = {"org": org, "name": "Okta", "expires": expiry(days)}
        assert await admin.refused(CREATE_TOKEN, variables) == ["INVALID"]
    assert await admin.refused(CREATE_TOKEN, {"org": org, "name": " ", "expires": expiry()}) == [
        "REQUIRED"
    ]
    assert await ScimToken.all().count() == 0


async def test_the_new_people_setting_is_changed_and_audited(tree, sign_in):
    admin = await sign_in(tree["acme.admin"].email)
    org = gid("Organisation", tree.acme.id)
    changed = await admin.ok(SET_NEW_PEOPLE, {"org": org, "how": "SET_PASSWORD_LINK"})
    assert changed["scimProvisioning"]["newPeople"] == "SET_PASSWORD_LINK"
    event = await AuditEvent.get(action="scim.settings_changed")
    assert summarise(event, "en") == (
        "Admin Test changed how SCIM adds people to Acme from an invitation to a set-password link"
    )
    member = await sign_in(tree["acme.member"].email)
    assert await member.error_code(SET_NEW_PEOPLE, {"org": org, "how": "INVITE"}) == "FORBIDDEN"
