"""Who may sign in to a client, and what it learns about them (the claims).

A person may sign in when one of their usable memberships (active, in an
active organisation, meeting its two-step policy for this session) lies in
the client's organisation or below it, and matches the client's access rule:
in one of its organisations or below one (none listed: anywhere in the
subtree), with one of its roles (none listed: any), holding the portal access
grant if the rule asks for it. Those memberships, and only those, are what the
`frontdesk` claim lists.
"""

from __future__ import annotations

from typing import Any

from strawberry.relay import to_base64

from server.accounts.models import Membership, User, usable_memberships
from server.auth.actor import satisfies_two_factor_policy
from server.oidc.models import OidcClient
from server.tenancy.models import Organisation


def _matches(client: OidcClient, owner: Organisation, rule_paths: list[str], m: Membership) -> bool:
    organisation = m.organisation
    if not organisation.is_within(owner.path):
        return False
    if rule_paths and not any(organisation.is_within(path) for path in rule_paths):
        return False
    if client.access_roles and m.role.value not in client.access_roles:
        return False
    return not (client.access_requires_portal_grant and not m.portal_access)


async def reachable_memberships(
    client: OidcClient, user: User, second_factor: str | None
) -> list[Membership]:
    """The person's memberships this client may sign them in with (none: refused)."""
    if user.must_change_password:
        return []
    owner = await Organisation.get(id=client.organisation_id)
    rule_paths = [
        o.path for o in await Organisation.filter(id__in=client.access_organisation_ids or [0])
    ]
    if client.access_organisation_ids and not rule_paths:
        return []  # every organisation the rule named is gone
    return [
        m
        for m in await usable_memberships(user.id)
        if satisfies_two_factor_policy(m, second_factor) and _matches(client, owner, rule_paths, m)
    ]


def frontdesk_claim(memberships: list[Membership]) -> dict[str, Any]:
    """The documented `frontdesk` claim (README, "The provider's other systems")."""
    return {
        "memberships": [
            {
                "organisation": {
                    "id": to_base64("Organisation", m.organisation_id),
                    "name": m.organisation.name,
                },
                "role": m.role.value,
                "ticketAccess": m.ticket_access.value,
                "grants": {
                    "canImpersonate": m.can_impersonate,
                    "restrictRecordingDeletion": m.restrict_recording_deletion,
                    "portalAccess": m.portal_access,
                },
            }
            for m in memberships
        ]
    }


def person_claims(
    user: User, subject: str, scopes: set[str], memberships: list[Membership]
) -> dict[str, Any]:
    """The claims `scopes` release (userinfo and the ID token)."""
    claims: dict[str, Any] = {"sub": subject}
    if "email" in scopes:
        # Everyone active here took their address's invitation or link from its mailbox.
        claims["email"] = user.email
        claims["email_verified"] = True
    if "profile" in scopes:
        claims["name"] = user.display_name
        claims["given_name"] = user.first_name
        claims["family_name"] = user.last_name
    if "frontdesk" in scopes:
        claims["frontdesk"] = frontdesk_claim(memberships)
    return claims
