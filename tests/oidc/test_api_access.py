"""An OpenID Connect access token calls /graphql with the `api:` scopes the
person granted (and the client was given), nothing more; inside the client's
subtree only; never what is closed to API tokens."""

from __future__ import annotations

from server.audit.models import AuditEvent
from server.core import clock
from server.oidc.models import OidcToken
from tests.helpers.fixtures import GraphQLClient, gid
from tests.oidc.flow import authorize_params, browser_sign_in, code_for, exchange, pkce, registered

MEMBERS = """query($org: ID!) { members(organisationId: $org) { totalCount } }"""
DISABLE = """mutation($id: ID!) { disableMember(input: {membershipId: $id}) { errors { code } } }"""
CREATE_TOKEN = """mutation($org: ID!) { createApiToken(input: {organisationId: $org, name: "x",
  permissions: [MEMBERS_VIEW], expiresAt: "2099-01-01T00:00:00Z"}) { errors { code } } }"""


async def _token(http, sign_in, tree, scope: str, api: list[str]) -> str:  # type: ignore[no-untyped-def]
    admin = await sign_in(tree["reseller.admin"].email)
    client_id, secret = await registered(
        admin, tree.reseller.id, firstParty=True, apiPermissions=api
    )
    await browser_sign_in(http, tree["acme.admin"].email)
    verifier, challenge = pkce()
    code = await code_for(http, authorize_params(client_id, challenge, scope=scope))
    answer = await exchange(http, client_id, secret, code, verifier)
    assert answer.status_code == 200, answer.text
    http.cookies.clear()
    token: str = answer.json()["access_token"]
    return token


async def test_an_access_token_uses_only_its_api_scopes(tree, sign_in, http):
    token = await _token(http, sign_in, tree, "openid api:MEMBERS_VIEW", ["MEMBERS_VIEW"])
    client = GraphQLClient(http, token)
    acme = gid("Organisation", tree.acme.id)
    assert (await client.data(MEMBERS, {"org": acme}))["members"]["totalCount"] == 3
    # The person may manage members, but the token was not granted that.
    assert await client.error_code(DISABLE, {"id": tree["acme.member"].membership_id}) == (
        "FORBIDDEN"
    )
    # Never what is closed to API tokens.
    assert await client.error_code(CREATE_TOKEN, {"org": acme}) == "API_TOKEN_FORBIDDEN"
    # Outside the person's reach: not found.
    globex = gid("Organisation", tree.globex.id)
    assert await client.error_code(MEMBERS, {"org": globex}) == "NOT_FOUND"
    assert await AuditEvent.filter(action="member.disabled").count() == 0


async def test_without_api_scopes_a_token_may_do_nothing(tree, sign_in, http):
    token = await _token(http, sign_in, tree, "openid", ["MEMBERS_VIEW"])
    client = GraphQLClient(http, token)
    acme = gid("Organisation", tree.acme.id)
    assert await client.error_code(MEMBERS, {"org": acme}) == "FORBIDDEN"


async def test_a_revoked_or_unknown_access_token_is_no_credential(tree, sign_in, http):
    token = await _token(http, sign_in, tree, "openid api:MEMBERS_VIEW", ["MEMBERS_VIEW"])
    acme = gid("Organisation", tree.acme.id)
    assert await GraphQLClient(http, "fdat_nonsense").error_code(MEMBERS, {"org": acme}) == (
        "UNAUTHENTICATED"
    )
    assert (await GraphQLClient(http, token).data(MEMBERS, {"org": acme}))["members"]
    await OidcToken.all().update(revoked_at=clock.now())
    assert await GraphQLClient(http, token).error_code(MEMBERS, {"org": acme}) == (
        "UNAUTHENTICATED"
    )
