"""Members: roles, feature grants, disable / enable / remove / delete, profiles.

Every function takes the acting `Actor` explicitly; the field guard has
already checked the permission in the membership's organisation, so these
enforce the rules between people: rank, the last owner, grants one holds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Sum
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from server.accounts.grants import Grants, checked_grants
from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.accounts.profile import audit_values, clean_profile
from server.api_tokens import service as api_tokens
from server.audit import service as audit
from server.auth import two_factor
from server.auth.sessions import end_sessions
from server.core import clock
from server.core.actor import Actor
from server.core.errors import DomainError, ErrorCode
from server.core.i18n import LANGUAGES, supported
from server.core.pagination import RankTier
from server.core.permissions import Permission, Role, TicketAccess
from server.core.search import Sql, is_sqlite, search_words, where
from server.core.subtree import subtree
from server.invitations.models import Invitation
from server.members.search import member_rank_tiers, search_members
from server.tenancy.models import Organisation


@dataclass(frozen=True)
class MemberList:
    """The members a list shows, and how to count them: without filters, from the
    organisations' member counters (tenancy/models.py) rather than a COUNT over
    every membership of the tree; None counts the rows."""

    rows: QuerySet[Membership]
    total: Callable[[], Awaitable[int]] | None
    tiers: list[RankTier[Membership]] | None = None
    # The same rows as `rows`, as a search's count reads them fastest.
    counted_rows: QuerySet[Membership] | None = None


def members_visible_to(
    actor: Actor,
    *,
    organisation: Organisation,
    include_descendants: bool = False,
    search: str | None = None,
    role: Role | None = None,
    status: MembershipStatus | None = None,
    two_factor: bool | None = None,
) -> MemberList:
    """Members of an organisation, or of every organisation below it the actor
    may list; `search` finds what the list shows (members/search.py). Pending
    invitations are the INVITED status."""
    whole_subtree = include_descendants and actor.holds_throughout(
        Permission.MEMBERS_VIEW, organisation
    )

    def filtered(members: QuerySet[Membership]) -> QuerySet[Membership]:
        if role is not None:
            members = members.filter(role=role)
        if status is not None:
            members = members.filter(status=status)
        if two_factor is not None:
            enrolled = Q(user__totp_confirmed_at__isnull=False) | Q(user__email_two_factor=True)
            members = members.filter(enrolled if two_factor else ~enrolled)
        return members

    if whole_subtree:
        members = members_below(organisation)
    elif include_descendants:
        members = Membership.filter(
            actor.organisations_with(Permission.MEMBERS_VIEW, prefix="organisation__"),
            subtree(organisation.path, "organisation__"),
        )
    else:
        members = Membership.filter(organisation_id=organisation.id)
    members = filtered(members)
    words = search_words(search)
    if words:
        found = search_members(members, words)
        counted_rows = None
        if whole_subtree and large_subtree(organisation):
            counted_rows = search_members(filtered(members_below_by_index(organisation)), words)
        return MemberList(found, None, member_rank_tiers(members, found, words), counted_rows)
    if role is not None or status is not None or two_factor is not None:
        return MemberList(members, None)

    async def counted() -> int:
        if not include_descendants:
            return organisation.member_count
        if whole_subtree:
            return organisation.subtree_member_count
        # Part of the subtree only: one row per organisation the actor may list,
        # read from the path index alone.
        [summed] = await (
            Organisation.filter(
                actor.organisations_with(Permission.MEMBERS_VIEW), subtree(organisation.path)
            )
            .annotate(total=Sum("member_count"))
            .values("total")
        )
        return int(summed["total"] or 0)

    return MemberList(members, counted)


# Below this many people a subtree is read organisation by organisation (the
# organisations' path index, then each one's members); above it the memberships'
# own paths, walked in id order, fill a page sooner. Two ways to say the same
# set: PostgreSQL's planner only chooses within one, the counter knows its size.
SMALL_SUBTREE = 2_000


def large_subtree(organisation: Organisation) -> bool:
    """PostgreSQL, more than SMALL_SUBTREE people at or below `organisation`."""
    return not is_sqlite() and organisation.subtree_member_count > SMALL_SUBTREE


def members_below(organisation: Organisation) -> QuerySet[Membership]:
    """The memberships of `organisation` and of every organisation below it."""
    if large_subtree(organisation):
        return members_by_own_path_below(organisation)
    return members_of_organisations_below(organisation)


def members_of_organisations_below(organisation: Organisation) -> QuerySet[Membership]:
    """`members_below` through the organisations below it: a small subtree's
    organisations from their path index, their members from theirs."""
    return Membership.filter(subtree(organisation.path, "organisation__"))


def members_by_own_path_below(organisation: Organisation) -> QuerySet[Membership]:
    """PostgreSQL: `members_below` from each membership's own copy of the path
    (migration 0020), no join to `organisation` per row: what a page walking a
    large subtree in id order tests row by row."""
    below = Sql('"membership"."organisation_path" LIKE {}', organisation.path + "%")
    return where(Membership.all(), "in_subtree", below)


def members_below_by_index(organisation: Organisation) -> QuerySet[Membership]:
    """PostgreSQL: `members_below`'s rows as migration 0022's GIN index finds
    them with a search's words (the path's segments are the ids of the
    organisation and its ancestors): how a search below a large organisation
    counts its matches fastest."""
    below = Sql(
        'string_to_array("membership"."organisation_path", \'/\') @> ARRAY[{}]::text[]',
        str(organisation.id),
    )
    return where(Membership.all(), "in_subtree", below)


# --- the rules between people -------------------------------------------------


def check_rank(actor: Actor, membership: Membership, organisation: Organisation) -> None:
    """Nobody acts on someone who ranks above them (an ADMIN on an OWNER)."""
    if actor.outranked_by(membership, organisation):
        raise DomainError(
            ErrorCode.HIGHER_ROLE, "You cannot change a member whose role is above yours."
        )


def _check_not_self(actor: Actor, membership: Membership) -> None:
    if membership.user_id == actor.user.id:
        raise DomainError(ErrorCode.SELF_ACTION, "You cannot do this to your own membership.")


async def lock_members(membership_id: int) -> tuple[Membership, Organisation]:
    """Re-read the membership inside the transaction, its organisation row locked
    (on PostgreSQL) so concurrent changes to the same organisation's owners queue."""
    membership = await Membership.get_or_none(id=membership_id)
    if membership is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Member not found.", "membershipId")
    organisation = await Organisation.select_for_update().get(id=membership.organisation_id)
    membership = await Membership.get(id=membership_id)
    return membership, organisation


async def _check_keeps_an_owner(membership: Membership) -> None:
    if membership.role is not Role.OWNER or membership.status is not MembershipStatus.ACTIVE:
        return
    others = await (
        Membership.filter(
            organisation_id=membership.organisation_id,
            role=Role.OWNER,
            status=MembershipStatus.ACTIVE,
        )
        .exclude(id=membership.id)
        .count()
    )
    if others == 0:
        raise DomainError(
            ErrorCode.LAST_OWNER, "An organisation must keep at least one active owner."
        )


# --- operations -----------------------------------------------------------------


async def change_role(*, actor: Actor, membership_id: int, role: Role) -> Membership:
    async with in_transaction():
        membership, organisation = await lock_members(membership_id)
        check_rank(actor, membership, organisation)
        if not actor.may_grant_role(role, organisation):
            raise DomainError(
                ErrorCode.OUT_OF_SCOPE_ROLE, "You cannot grant a role above your own.", "role"
            )
        if role is membership.role:
            return membership
        if role is not Role.OWNER:
            await _check_keeps_an_owner(membership)
        before = membership.role
        membership.role = role
        if not role.administers:
            membership.can_impersonate = False
        await membership.save(update_fields=["role", "can_impersonate", "updated_at"])
        await audit.record(
            "member.role_changed",
            actor=actor,
            organisation_id=organisation.id,
            target=membership,
            subject_user_id=membership.user_id,
            details={"before": {"role": before.value}, "after": {"role": role.value}},
        )
    return membership


async def set_feature_access(
    *,
    actor: Actor,
    membership_id: int,
    ticket_access: TicketAccess | None = None,
    can_impersonate: bool | None = None,
    restrict_recording_deletion: bool | None = None,
    portal_access: bool | None = None,
) -> Membership:
    async with in_transaction():
        membership, organisation = await lock_members(membership_id)
        check_rank(actor, membership, organisation)
        user = await User.get(id=membership.user_id)
        grants = Grants(ticket_access, can_impersonate, restrict_recording_deletion, portal_access)
        changes = checked_grants(
            actor, organisation, membership.role, grants, signed_in=user.last_login_at is not None
        )
        before = {name: _plain(getattr(membership, name)) for name in changes}
        for name, value in changes.items():
            setattr(membership, name, value)
        if changes:
            await membership.save(update_fields=[*changes, "updated_at"])
            await audit.record(
                "member.feature_access_changed",
                actor=actor,
                organisation_id=organisation.id,
                target=membership,
                subject_user_id=membership.user_id,
                details={"before": before, "after": {k: _plain(v) for k, v in changes.items()}},
            )
    return membership


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


async def disable_member(*, actor: Actor, membership_id: int) -> Membership:
    """Keep the member listed, end their sessions, refuse their log-ins here. An
    invited member can be disabled too: their pending invitation dies with it."""
    async with in_transaction():
        membership, organisation = await lock_members(membership_id)
        _check_not_self(actor, membership)
        check_rank(actor, membership, organisation)
        before = membership.status
        if before is MembershipStatus.DISABLED:
            raise DomainError(ErrorCode.INVALID_STATE, "This member is already disabled.")
        await _check_keeps_an_owner(membership)
        membership.status = MembershipStatus.DISABLED
        await membership.save(update_fields=["status", "updated_at"])
        await Invitation.filter(
            membership_id=membership.id, accepted_at=None, revoked_at=None
        ).update(revoked_at=clock.now())
        await end_sessions(membership.user_id)
        await api_tokens.revoke_made_through(actor=actor, membership=membership)
        await audit.record(
            "member.disabled",
            actor=actor,
            organisation_id=organisation.id,
            target=membership,
            subject_user_id=membership.user_id,
            details={"before": {"status": before.value}, "after": {"status": "DISABLED"}},
        )
    return membership


async def enable_member(*, actor: Actor, membership_id: int) -> Membership:
    """Undo a disable. Someone disabled before accepting their invitation goes
    back to INVITED (invite them again); everyone else is ACTIVE again. Old
    sessions stay dead."""
    async with in_transaction():
        membership, organisation = await lock_members(membership_id)
        check_rank(actor, membership, organisation)
        if membership.status is not MembershipStatus.DISABLED:
            raise DomainError(ErrorCode.INVALID_STATE, "Only disabled members can be enabled.")
        invitations = Invitation.filter(membership_id=membership.id)
        joined = (
            not await invitations.exists()
            or await invitations.filter(accepted_at__isnull=False).exists()
        )
        membership.status = MembershipStatus.ACTIVE if joined else MembershipStatus.INVITED
        await membership.save(update_fields=["status", "updated_at"])
        await audit.record(
            "member.enabled",
            actor=actor,
            organisation_id=organisation.id,
            target=membership,
            subject_user_id=membership.user_id,
            details={
                "before": {"status": "DISABLED"},
                "after": {"status": membership.status.value},
            },
        )
    return membership


async def remove_member(*, actor: Actor, membership_id: int) -> int:
    """Unlink a member; returns the user's id. The audit trail keeps what happened."""
    async with in_transaction():
        membership, organisation = await lock_members(membership_id)
        _check_not_self(actor, membership)
        check_rank(actor, membership, organisation)
        await _check_keeps_an_owner(membership)
        user = await User.get(id=membership.user_id)
        await api_tokens.revoke_made_through(actor=actor, membership=membership)
        await audit.record(
            "member.removed",
            actor=actor,
            organisation_id=organisation.id,
            target=membership,
            target_label=user.email,
            subject_user_id=user.id,
            details={"role": membership.role.value, "status": membership.status.value},
        )
        await membership.delete()
        await end_sessions(user.id)
        if user.status is UserStatus.INVITED and not await Membership.exists(user_id=user.id):
            # Never signed up: nothing of theirs is worth keeping.
            await audit.pseudonymise_user(user.id)
            await user.delete()
    return user.id


async def delete_user(*, actor: Actor, membership_id: int) -> int:
    """Remove the member and erase the person, if this was their last membership."""
    async with in_transaction():
        membership, organisation = await lock_members(membership_id)
        _check_not_self(actor, membership)
        check_rank(actor, membership, organisation)
        if await Membership.filter(user_id=membership.user_id).exclude(id=membership.id).exists():
            raise DomainError(
                ErrorCode.HAS_MEMBERSHIPS,
                "This person belongs to other organisations; remove them from here instead.",
            )
        await _check_keeps_an_owner(membership)
        user_id = membership.user_id
        await api_tokens.revoke_made_through(actor=actor, membership=membership)
        await audit.record(
            "user.deleted",
            actor=actor,
            organisation_id=organisation.id,
            target=membership,
            subject_user_id=user_id,
        )
        await audit.pseudonymise_user(user_id)
        await User.filter(id=user_id).delete()
    return user_id


async def reset_two_factor(*, actor: Actor, membership_id: int) -> Membership:
    membership = await Membership.get(id=membership_id)
    organisation = await Organisation.get(id=membership.organisation_id)
    _check_not_self(actor, membership)
    check_rank(actor, membership, organisation)
    user = await User.get(id=membership.user_id)
    await two_factor.reset_two_factor(actor, user, organisation.id)
    return membership


async def check_may_edit_person(actor: Actor, membership: Membership, user: User) -> None:
    """The shared profile's rule (core/actor.py `may_edit_person`); someone with an
    account who has not yet accepted this organisation's invitation is not its to edit."""
    if membership.status is MembershipStatus.INVITED and user.status is not UserStatus.INVITED:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            "This person has not accepted the invitation yet; their details are their own.",
        )
    memberships = await Membership.filter(user_id=user.id).select_related("organisation")
    if not actor.may_edit_person(memberships):
        raise DomainError(
            ErrorCode.PROFILE_SHARED,
            "This person also belongs to organisations you do not administer; "
            "they change these details themselves.",
        )


async def update_member(
    *, actor: Actor, membership_id: int, changes: dict[str, str | None]
) -> Membership:
    """An administrator changes a person's names, title and phones (audited with
    before and after)."""
    cleaned = clean_profile(changes)
    async with in_transaction():
        membership, organisation = await lock_members(membership_id)
        check_rank(actor, membership, organisation)
        user = await User.get(id=membership.user_id)
        await check_may_edit_person(actor, membership, user)
        changed = {name: value for name, value in cleaned.items() if getattr(user, name) != value}
        if changed:
            before = {name: getattr(user, name) for name in changed}
            for name, value in changed.items():
                setattr(user, name, value)
            await user.save(update_fields=[*changed, "updated_at"])
            await audit.record(
                "member.profile_updated",
                actor=actor,
                organisation_id=organisation.id,
                target=membership,
                subject_user_id=user.id,
                details={"before": audit_values(before), "after": audit_values(changed)},
            )
    return membership


def _checked_language(value: str | None) -> str | None:
    """A supported language ("de", "de-CH" → "de"), or None (empty: back to the default)."""
    if value is None or not value.strip():
        return None
    language = supported(value)
    if language is None:
        raise DomainError(
            ErrorCode.INVALID, f"Choose one of these languages: {', '.join(LANGUAGES)}.", "language"
        )
    return language


async def update_profile(*, actor: Actor, changes: dict[str, str | None]) -> User:
    user = actor.user
    cleaned: dict[str, str | None] = {**clean_profile(changes)}
    if "language" in changes:
        cleaned["language"] = _checked_language(changes["language"])
    before = {name: getattr(user, name) for name in cleaned}
    async with in_transaction():
        for name, value in cleaned.items():
            setattr(user, name, value)
        if cleaned:
            await user.save(update_fields=[*cleaned, "updated_at"])
            await audit.record(
                "user.profile_updated",
                actor=actor,
                target=user,
                subject_user_id=user.id,
                details={"before": before, "after": cleaned},
            )
    return user
