"""SCIM tokens made through GraphQL, and a small SCIM client over the real app."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from server.core import clock
from tests.helpers.fixtures import GraphQLClient, gid

SCIM_JSON = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"

CREATE_TOKEN = """
mutation($org: ID!, $name: String!, $expires: DateTime!) {
  createScimToken(input: {organisationId: $org, name: $name, expiresAt: $expires}) {
    secret scimToken { id name hint active organisation { name } createdBy { email } }
    errors { field code message }
  }
}"""
REVOKE_TOKEN = """mutation($id: ID!) { revokeScimToken(input: {scimTokenId: $id}) {
  scimToken { active revokedAt } errors { code } } }"""
SET_NEW_PEOPLE = """mutation($org: ID!, $how: ScimNewPeople!) {
  setScimNewPeople(input: {organisationId: $org, newPeople: $how}) {
    scimProvisioning { baseUrl newPeople } errors { code } } }"""


def expiry(days: int = 30) -> str:
    return (clock.now() + timedelta(days=days)).isoformat()


async def create_scim_token(client: GraphQLClient, org_id: int, name: str = "Entra ID") -> dict:  # type: ignore[type-arg]
    return await client.ok(
        CREATE_TOKEN, {"org": gid("Organisation", org_id), "name": name, "expires": expiry()}
    )


class Scim:
    """Requests to /scim/v2 with a token, as an identity provider sends them."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.token = token

    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}", "content-type": SCIM_JSON}

    async def request(
        self, method: str, path: str, body: Any = None, **params: str
    ) -> httpx.Response:
        response = await self.http.request(
            method,
            f"/scim/v2{path}",
            json=body,
            params=params or None,
            headers={**self._headers(), "origin": ""},
        )
        if response.status_code != 204:
            assert response.headers["content-type"] == SCIM_JSON, response.headers
        return response

    async def create(
        self, email: str, given: str = "Ada", family: str = "Lovelace", **extra: Any
    ) -> httpx.Response:
        body = {
            "schemas": [USER_SCHEMA],
            "userName": email,
            "name": {"givenName": given, "familyName": family},
            "active": True,
            **extra,
        }
        return await self.request("POST", "/Users", body)

    async def patch(self, user_id: str, *operations: dict[str, Any]) -> httpx.Response:
        body = {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}
        return await self.request("PATCH", f"/Users/{user_id}", body)


def scim_error(response: httpx.Response, status: int, scim_type: str | None = None) -> str:
    """Checks a SCIM error response; returns its detail."""
    body = response.json()
    assert response.status_code == status, (response.status_code, body)
    assert body["schemas"] == [ERROR_SCHEMA] and body["status"] == str(status), body
    assert body.get("scimType") == scim_type, body
    return str(body.get("detail", ""))
