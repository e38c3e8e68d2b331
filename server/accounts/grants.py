"""Feature grants on a membership: ticket access, `canImpersonate`, `portalAccess`
and the `restrictRecordingDeletion` restriction. Chosen when an admin adds or invites
a person, or later (`setFeatureAccess`), by the same rules:

- nobody grants what they do not hold (the actor's `held_grants`);
- ticket access is set by ticket administrators only;
- `canImpersonate` only for admins and owners;
- an organisation may keep ticket access for people who have signed in once
  (`ticketAccessAfterFirstSignIn`, UKCloud's rule; off by default);
- a restriction can always be set, and so can portal access (the OpenID Connect
  clients whose access rule asks for it: server/oidc).
"""

from __future__ import annotations

from dataclasses import dataclass

from server.core.actor import Actor
from server.core.errors import DomainError, ErrorCode
from server.core.permissions import Role, TicketAccess
from server.tenancy.models import Organisation


@dataclass(frozen=True)
class Grants:
    """What to change; None leaves a grant as it is (or at the role's default)."""

    ticket_access: TicketAccess | None = None
    can_impersonate: bool | None = None
    restrict_recording_deletion: bool | None = None
    # "Portal access": may sign in to the OpenID Connect clients whose access rule asks for it.
    portal_access: bool | None = None


def checked_grants(
    actor: Actor, organisation: Organisation, role: Role, grants: Grants, *, signed_in: bool
) -> dict[str, object]:
    """The membership fields to set for `grants`, or the DomainError that refuses them."""
    held_tickets, held_impersonate = actor.held_grants(organisation)
    changes: dict[str, object] = {}
    if grants.ticket_access is not None:
        if held_tickets is not TicketAccess.ADMIN:
            raise DomainError(
                ErrorCode.OUT_OF_SCOPE_PERMISSION,
                "Only ticket administrators set other members' ticket access.",
                "ticketAccess",
            )
        if organisation.ticket_access_after_first_sign_in and not signed_in:
            raise DomainError(
                ErrorCode.NEVER_LOGGED_IN,
                "Here ticket access is given once the person has signed in at least once.",
                "ticketAccess",
            )
        changes["ticket_access"] = grants.ticket_access
    if grants.can_impersonate is not None:
        if grants.can_impersonate and not held_impersonate:
            raise DomainError(
                ErrorCode.OUT_OF_SCOPE_PERMISSION,
                "You cannot grant a permission you do not hold.",
                "canImpersonate",
            )
        if grants.can_impersonate and not role.administers:
            raise DomainError(
                ErrorCode.INVALID,
                "Only admins and owners may open members' portals.",
                "canImpersonate",
            )
        changes["can_impersonate"] = grants.can_impersonate
    if grants.restrict_recording_deletion is not None:
        changes["restrict_recording_deletion"] = grants.restrict_recording_deletion
    if grants.portal_access is not None:
        changes["portal_access"] = grants.portal_access
    return changes
