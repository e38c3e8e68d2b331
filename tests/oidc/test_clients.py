"""OpenID Connect clients in GraphQL: registered by a provider's or a reseller's
owners and admins, the secret shown once and kept hashed, redirect addresses
exact, an access rule inside the owner's subtree, every change audited."""

from __future__ import annotations

import pytest

from server.audit.models import AuditEvent
from server.audit.summaries import summarise
from server.core.tokens import hash_token
from server.oidc.models import OidcClient
from tests.api_tokens.test_api_tokens import create_token
from tests.helpers.fixtures import GraphQLClient, gid
from tests.oidc.helpers import (
    CREATE_CLIENT,
    DELETE_CLIENT,
    LIST_CLIENTS,
    ROTATE_SECRET,
    RP,
    UPDATE_CLIENT,
    client_input,
    create_client,
)


async def test_a_confidential_client_gets_a_secret_once_stored_hashed(tree, sign_in):
    admin = await sign_in(tree["reseller.admin"].email)
    created = await create_client(
        admin,
        tree.reseller.id,
        apiPermissions=["MEMBERS_VIEW"],
        accessRule={
            "organisationIds": [gid("Organisation", tree.acme.id)],
            "roles": ["ADMIN", "OWNER"],
            "requiresPortalAccess": True,
        },
    )
    secret = created["clientSecret"]
    client = created["oidcClient"]
    assert secret.startswith("fdcs_") and len(secret) > 40
    assert client["clientId"].startswith("fdc_") and client["public"] is False
    assert client["secretHint"] == secret[:9]
    assert client["redirectUris"] == [RP]
    assert client["organisation"]["name"] == "Reseller"
    assert client["createdBy"]["email"] == tree["reseller.admin"].email
    assert client["apiPermissions"] == ["MEMBERS_VIEW"]
    assert client["accessRule"] == {
        "organisations": [{"name": "Acme"}],
        "roles": ["ADMIN", "OWNER"],
        "requiresPortalAccess": True,
    }
    row = await OidcClient.get(client_id=client["clientId"])
    assert row.secret_hash == hash_token(secret) and secret not in str(row.__dict__)

    listed = await admin.data(LIST_CLIENTS, {"org": gid("Organisation", tree.reseller.id)})
    assert listed["oidcClients"]["totalCount"] == 1
    assert secret not in str(listed)

    event = await AuditEvent.get(action="oidc_client.created")
    assert summarise(event, "en") == "Admin Test registered the OpenID Connect client Wiki"
    assert summarise(event, "de") == "Admin Test hat den OpenID-Connect-Client Wiki registriert"


async def test_a_public_client_has_no_secret_and_cannot_rotate_one(tree, sign_in):
    admin = await sign_in(tree["provider.owner"].email)
    created = await create_client(admin, tree.provider.id, public=True)
    assert created["clientSecret"] is None
    assert created["oidcClient"]["public"] is True
    assert created["oidcClient"]["secretHint"] is None
    assert await admin.refused(ROTATE_SECRET, {"id": created["oidcClient"]["id"]}) == [
        "INVALID_STATE"
    ]


async def test_rotating_a_secret_replaces_it(tree, sign_in):
    admin = await sign_in(tree["reseller.owner"].email)
    created = await create_client(admin, tree.reseller.id)
    rotated = await admin.ok(ROTATE_SECRET, {"id": created["oidcClient"]["id"]})
    assert rotated["clientSecret"] != created["clientSecret"]
    row = await OidcClient.get()
    assert row.secret_hash == hash_token(rotated["clientSecret"])
    assert await AuditEvent.filter(action="oidc_client.secret_rotated").count() == 1


@pytest.mark.parametrize(
    ("uri", "code"),
    [
        ("https://*.example.net/cb", "INVALID"),
        ("https://rp.example.net/*", "INVALID"),
        ("https://rp.example.net/cb#frag", "INVALID"),
        ("http://rp.example.net/cb", "INVALID"),
        ("/relative/cb", "INVALID"),
        ("https://user:pw@rp.example.net/cb", "INVALID"),
        ("https://rp.example.net/c b", "INVALID"),
        ("javascript:alert(1)", "INVALID"),
    ],
)
async def test_redirect_addresses_are_exact_https_addresses(tree, sign_in, uri, code):
    admin = await sign_in(tree["reseller.admin"].email)
    variables = {"input": client_input(tree.reseller.id, redirectUris=[uri])}
    assert await admin.refused(CREATE_CLIENT, variables) == [code]
    assert await OidcClient.all().count() == 0


async def test_loopback_http_is_allowed_and_an_empty_list_is_not(tree, sign_in):
    admin = await sign_in(tree["reseller.admin"].email)
    created = await create_client(
        admin, tree.reseller.id, redirectUris=["http://127.0.0.1:8765/cb", "http://localhost/cb"]
    )
    assert len(created["oidcClient"]["redirectUris"]) == 2
    empty = {"input": client_input(tree.reseller.id, redirectUris=[])}
    assert await admin.refused(CREATE_CLIENT, empty) == ["REQUIRED"]
    assert await admin.refused(
        CREATE_CLIENT, {"input": client_input(tree.reseller.id, name=" ")}
    ) == ["REQUIRED"]


async def test_only_providers_and_resellers_register_clients(tree, sign_in):
    owner = await sign_in(tree["acme.owner"].email)
    assert await owner.refused(CREATE_CLIENT, {"input": client_input(tree.acme.id)}) == [
        "NOT_RESELLER"
    ]
    # A reseller's admin administers Acme, but Acme is a customer all the same.
    admin = await sign_in(tree["reseller.admin"].email)
    assert await admin.refused(CREATE_CLIENT, {"input": client_input(tree.acme.id)}) == [
        "NOT_RESELLER"
    ]
    assert await OidcClient.all().count() == 0


async def test_members_strangers_and_tokens_are_refused(tree, sign_in, http):
    variables = {"input": client_input(tree.reseller.id)}
    member = await sign_in(tree["reseller.member"].email)
    assert await member.error_code(CREATE_CLIENT, variables) == "FORBIDDEN"
    org = {"org": gid("Organisation", tree.reseller.id)}
    assert await member.error_code(LIST_CLIENTS, org) == "FORBIDDEN"
    stranger = await sign_in(tree["globex.admin"].email)
    assert await stranger.refused(CREATE_CLIENT, variables) == ["NOT_FOUND"]
    admin = await sign_in(tree["reseller.admin"].email)
    api_secret = (await create_token(admin, tree.reseller.id, ["MEMBERS_VIEW"]))["secret"]
    assert await GraphQLClient(http, api_secret).error_code(CREATE_CLIENT, variables) == (
        "API_TOKEN_FORBIDDEN"
    )
    assert await OidcClient.all().count() == 0


async def test_the_access_rule_stays_inside_the_subtree(tree, sign_in):
    admin = await sign_in(tree["reseller.admin"].email)
    outside = {"organisationIds": [gid("Organisation", tree.provider.id)]}
    variables = {"input": client_input(tree.reseller.id, accessRule=outside)}
    assert await admin.refused(CREATE_CLIENT, variables) == ["NOT_FOUND"]
    wrong_type = {"organisationIds": [gid("Membership", 1)]}
    variables = {"input": client_input(tree.reseller.id, accessRule=wrong_type)}
    assert await admin.refused(CREATE_CLIENT, variables) == ["NOT_FOUND"]
    assert await OidcClient.all().count() == 0


async def test_update_changes_only_what_is_given_and_delete_removes(tree, sign_in):
    admin = await sign_in(tree["reseller.admin"].email)
    created = await create_client(admin, tree.reseller.id)
    client_id = created["oidcClient"]["id"]
    updated = await admin.ok(
        UPDATE_CLIENT,
        {
            "input": {
                "oidcClientId": client_id,
                "name": "Wiki 2",
                "accessRule": {"roles": ["VIEWER"]},
            }
        },
    )
    client = updated["oidcClient"]
    assert client["name"] == "Wiki 2" and client["redirectUris"] == [RP]
    assert client["accessRule"]["roles"] == ["VIEWER"]
    bad = {"input": {"oidcClientId": client_id, "redirectUris": ["https://x/*"]}}
    assert await admin.refused(UPDATE_CLIENT, bad) == ["INVALID"]
    assert (await OidcClient.get()).redirect_uris == [RP]
    # Someone who does not reach the reseller sees no such client.
    stranger = await sign_in(tree["acme.owner"].email)
    assert await stranger.refused(DELETE_CLIENT, {"id": client_id}) == ["NOT_FOUND"]
    deleted = await admin.ok(DELETE_CLIENT, {"id": client_id})
    assert deleted["deletedOidcClientId"] == client_id
    assert await OidcClient.all().count() == 0
    actions = [e.action for e in await AuditEvent.filter(action__startswith="oidc").order_by("id")]
    assert actions == ["oidc_client.created", "oidc_client.updated", "oidc_client.deleted"]
