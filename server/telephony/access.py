"""Who sees and changes which extensions and calls: the one place that knows.

- EXTENSIONS_VIEW: every extension and call record of the organisation.
- OWN_EXTENSION: the extension assigned to one's own membership, and the calls
  made while it was theirs; set its do-not-disturb and forwarding.
- EXTENSIONS_MANAGE: everything, for every extension.
- RECORDINGS_DELETE: delete recordings of calls one can see, unless a
  membership that gives the right carries `restrictRecordingDeletion`.

An extension or call out of reach answers exactly like a missing one.
"""

from __future__ import annotations

from tortoise.expressions import Q

from server.core.actor import Actor
from server.core.permissions import ROLE_PERMISSIONS, Permission
from server.organisations.models import Organisation
from server.telephony.models import CallRecord, Extension


def own_membership_ids(actor: Actor) -> list[int]:
    """The actor's memberships that may use their own extension."""
    # Through the actor, so that whatever narrows its rights (an API token) applies.
    return [m.id for m in actor.memberships if actor.can(Permission.OWN_EXTENSION, m.organisation)]


def owns(actor: Actor, membership_id: int | None) -> bool:
    return membership_id is not None and membership_id in own_membership_ids(actor)


def may_view_extension(actor: Actor, extension: Extension, organisation: Organisation) -> bool:
    return actor.can(Permission.EXTENSIONS_VIEW, organisation) or owns(
        actor, extension.membership_id
    )


def may_change_extension(actor: Actor, extension: Extension, organisation: Organisation) -> bool:
    """Do-not-disturb and forwarding: admins on every extension, a member on theirs."""
    return actor.can(Permission.EXTENSIONS_MANAGE, organisation) or owns(
        actor, extension.membership_id
    )


def may_view_call(actor: Actor, call: CallRecord, organisation: Organisation) -> bool:
    return actor.can(Permission.EXTENSIONS_VIEW, organisation) or owns(actor, call.membership_id)


def own_filter(actor: Actor) -> Q:
    ids = own_membership_ids(actor)
    return Q(membership_id__in=ids) if ids else Q(id=-1)


def recording_deletion_restricted(actor: Actor, organisation: Organisation) -> bool:
    """True if a membership giving the actor rights there forbids deleting recordings:
    their own membership in the organisation, or a delegating one above it."""
    for m in actor.memberships:
        if not m.restrict_recording_deletion:
            continue
        if m.organisation_id == organisation.id:
            return True
        delegates = Permission.CUSTOMERS_MANAGE in ROLE_PERMISSIONS[m.role]
        if delegates and organisation.is_within(m.organisation.path):
            return True
    return False
