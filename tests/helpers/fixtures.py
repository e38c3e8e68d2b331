"""Shared fixtures: the real ASGI app over httpx, a GraphQL caller, and a
demo-like organisation tree with people in it (built through the services)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from strawberry.relay import to_base64

from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.app import create_app
from server.core import clock
from server.core.passwords import hash_password
from server.core.permissions import DEFAULT_TICKET_ACCESS, Role
from server.organisations import service as organisations
from server.settings import get_settings
from server.tenancy.models import Organisation, OrganisationKind

PASSWORD = "correct horse battery staple"
ORIGIN = "https://portal.example.test"


def gid(type_name: str, pk: int) -> str:
    return to_base64(type_name, pk)


class GraphQLClient:
    """Posts GraphQL over HTTP to the real app; remembers a bearer token if given."""

    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.token = token

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        sent = {"content-type": "application/json", **headers}
        if self.token:
            sent.setdefault("authorization", f"Bearer {self.token}")
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        response = await self.post(query, variables, **headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The data of a call that must not fail."""
        body = await self(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def ok(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The single payload of a mutation that must succeed (no GraphQL or user errors)."""
        data = await self.data(query, variables)
        [payload] = data.values()
        assert payload["errors"] == [], payload["errors"]
        return payload

    async def refused(self, query: str, variables: dict[str, Any] | None = None) -> list[str]:
        """The user-error codes of a mutation that must be refused."""
        data = await self.data(query, variables)
        [payload] = data.values()
        assert payload["errors"], payload
        return [error["code"] for error in payload["errors"]]

    async def error_code(self, query: str, variables: dict[str, Any] | None = None) -> str:
        body = await self(query, variables)
        assert body.get("errors"), body
        return body["errors"][0]["extensions"]["code"]


LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    token errors { field code message }
    viewer { user { email } }
  }
}"""


@dataclass
class Person:
    user: User
    membership: Membership

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def membership_id(self) -> str:
        return gid("Membership", self.membership.id)


@dataclass
class Tree:
    """provider → reseller → (acme, globex), with people by "org.role" keys."""

    provider: Organisation
    reseller: Organisation
    acme: Organisation
    globex: Organisation
    people: dict[str, Person] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Person:
        return self.people[key]


async def add_person(
    organisation: Organisation,
    email: str,
    role: Role,
    *,
    logged_in: bool = True,
    status: MembershipStatus = MembershipStatus.ACTIVE,
) -> Person:
    user = await User.get_or_none(email=email)
    if user is None:
        user = await User.create(
            email=email,
            first_name=email.split("@")[0].title(),
            last_name="Test",
            status=UserStatus.ACTIVE,
            password_hash=await hash_password(PASSWORD),
            last_login_at=clock.now() if logged_in else None,
        )
    membership = await Membership.create(
        organisation=organisation,
        user=user,
        role=role,
        status=status,
        ticket_access=DEFAULT_TICKET_ACCESS[role],
    )
    return Person(user, membership)


@pytest.fixture
async def tree() -> Tree:
    provider = await organisations.create_root("Provider")
    reseller = await organisations.create_child(
        actor=None, parent=provider, name="Reseller", kind=OrganisationKind.RESELLER
    )
    acme = await organisations.create_child(
        actor=None, parent=reseller, name="Acme", kind=OrganisationKind.CUSTOMER
    )
    globex = await organisations.create_child(
        actor=None, parent=reseller, name="Globex", kind=OrganisationKind.CUSTOMER
    )
    result = Tree(provider, reseller, acme, globex)
    for prefix, organisation in [
        ("provider", provider),
        ("reseller", reseller),
        ("acme", acme),
        ("globex", globex),
    ]:
        for role in (Role.OWNER, Role.ADMIN, Role.MEMBER):
            key = f"{prefix}.{role.value.lower()}"
            result.people[key] = await add_person(
                organisation, f"{role.value.lower()}@{prefix}.example.com", role
            )
    return result


@pytest.fixture
async def http(database: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(get_settings(), manage_database=False)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(
        transport=transport, base_url=ORIGIN, headers={"origin": ORIGIN}
    ) as client:
        yield client


@pytest.fixture
def anonymous(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)


@pytest.fixture
def sign_in(http: httpx.AsyncClient):  # type: ignore[no-untyped-def]
    """`await sign_in(email)` → a GraphQLClient holding that person's bearer token."""

    async def signed_in(email: str, password: str = PASSWORD) -> GraphQLClient:
        payload = await GraphQLClient(http).ok(LOGIN, {"email": email, "password": password})
        return GraphQLClient(http, payload["token"])

    return signed_in
