"""OpenID Connect clients made through GraphQL."""

from __future__ import annotations

from typing import Any

from tests.helpers.fixtures import GraphQLClient, gid

CLIENT_FIELDS = """id name clientId public firstParty secretHint redirectUris
  postLogoutRedirectUris apiPermissions organisation { name } createdBy { email }
  accessRule { organisations { name } roles requiresPortalAccess }"""
CREATE_CLIENT = f"""
mutation($input: CreateOidcClientInput!) {{
  createOidcClient(input: $input) {{
    clientSecret oidcClient {{ {CLIENT_FIELDS} }}
    errors {{ field code message }}
  }}
}}"""
UPDATE_CLIENT = f"""
mutation($input: UpdateOidcClientInput!) {{
  updateOidcClient(input: $input) {{ oidcClient {{ {CLIENT_FIELDS} }} errors {{ field code }} }}
}}"""
ROTATE_SECRET = """mutation($id: ID!) { rotateOidcClientSecret(input: {oidcClientId: $id}) {
  clientSecret oidcClient { secretHint } errors { field code } } }"""
DELETE_CLIENT = """mutation($id: ID!) { deleteOidcClient(input: {oidcClientId: $id}) {
  deletedOidcClientId errors { code } } }"""
LIST_CLIENTS = f"""query($org: ID!) {{
  oidcClients(organisationId: $org) {{ totalCount nodes {{ {CLIENT_FIELDS} }} }}
}}"""
RP = "https://rp.example.net/callback"


def client_input(org_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "organisationId": gid("Organisation", org_id),
        "name": "Wiki",
        "redirectUris": [RP],
        **extra,
    }


async def create_client(client: GraphQLClient, org_id: int, **extra: Any) -> dict[str, Any]:
    return await client.ok(CREATE_CLIENT, {"input": client_input(org_id, **extra)})
