"""An OpenID Connect access token as a principal for /graphql (core/principals.py
`OidcClientGrant`): the person's memberships the client's access rule lets
through, within the client's organisation's subtree, with at most the
permissions of the token's `api:<PERMISSION>` scopes that the client was given."""

from __future__ import annotations

from server.accounts.models import Membership
from server.core.actor import Actor, RequestMeta
from server.core.principals import OidcClientGrant
from server.oidc.authorize import api_permissions_of
from server.oidc.discovery import ACR_TWO_FACTOR
from server.oidc.grants import ACCESS_PREFIX, live_access_token
from server.oidc.rules import reachable_memberships
from server.tenancy.models import Organisation


async def actor_for_access_token(raw: str, meta: RequestMeta) -> Actor | None:
    """The actor of a live access token, its memberships loaded; None otherwise."""
    if not raw.startswith(ACCESS_PREFIX):
        return None
    token = await live_access_token(raw)
    if token is None:
        return None
    client, user = token.client, token.user
    second_factor = "totp" if token.acr == ACR_TWO_FACTOR else None
    memberships = await reachable_memberships(client, user, second_factor)
    owner = await Organisation.get(id=client.organisation_id)
    allowed = {p for p in api_permissions_of(token.scope) if p.value in client.api_permissions}

    async def load() -> tuple[list[Membership], list[Membership]]:
        return memberships, []

    grant = OidcClientGrant(
        client_name=client.name,
        token_hint=raw[: len(ACCESS_PREFIX) + 4],
        scope_path=owner.path,
        granted=frozenset(allowed),
    )
    return await Actor(user=user, principal=grant, load=load, meta=meta).load_memberships()
