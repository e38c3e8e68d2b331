"""The GraphQL documents the brand tests send."""

from __future__ import annotations

from typing import Any

from tests.helpers.fixtures import GraphQLClient, gid

SET_BRAND = """
mutation SetBrand($input: SetBrandInput!) {
  setBrand(input: $input) {
    organisation { id name }
    errors { field code message }
  }
}"""

BRAND = """
query Brand($id: ID!) {
  organisation(id: $id) {
    brand {
      effective { portalName senderName senderAddress supportContact logoUrl colour language }
      values { field value setHere inheritedFrom }
    }
  }
}"""

SETTINGS = """
query Settings($id: ID!) {
  organisation(id: $id) {
    brandSettings {
      portalName senderName senderAddress senderVerified senderVerifiedAt supportContact
      logoUrl colour language hostName
    }
  }
}"""

SIGN_IN_BRAND = "{ signInBrand { portalName supportContact logoUrl colour language } }"

CONFIRM_SENDER = """
mutation Confirm($token: String!) {
  confirmSenderAddress(input: {token: $token}) {
    senderAddress organisationName errors { field code message }
  }
}"""


def brand_input(organisation_id: int, **values: Any) -> dict[str, Any]:
    return {"input": {"organisationId": gid("Organisation", organisation_id), **values}}


async def set_brand(client: GraphQLClient, organisation_id: int, **values: Any) -> dict[str, Any]:
    return await client.ok(SET_BRAND, brand_input(organisation_id, **values))


async def brand_of(client: GraphQLClient, organisation_id: int) -> dict[str, Any]:
    data = await client.data(BRAND, {"id": gid("Organisation", organisation_id)})
    return data["organisation"]["brand"]


async def settings_of(client: GraphQLClient, organisation_id: int) -> dict[str, Any]:
    data = await client.data(SETTINGS, {"id": gid("Organisation", organisation_id)})
    return data["organisation"]["brandSettings"]


def by_field(brand: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {value["field"]: value for value in brand["values"]}
