"""Phone extensions, their forwarding and do-not-disturb, and their calls.

The field guard has checked the permission in the extension's organisation;
these functions scope each extension and call with `access` (a member reaches
only their own; anything else is "not found"), validate input and keep the
audit trail, each change in one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.audit import service as audit
from server.core import clock
from server.core.actor import Actor
from server.core.errors import DomainError, ErrorCode, not_found
from server.core.permissions import Permission
from server.core.validation import clean_text
from server.telephony.models import (
    CallDirection,
    CallRecord,
    Extension,
    ForwardingCondition,
    ForwardingRule,
    RecordingFormat,
)
from server.telephony.rules import (
    MAX_RECORDING_BYTES,
    RuleSpec,
    check_seconds,
    check_unknown_extensions,
    clean_call_time,
    clean_extension_number,
    clean_phone_or_extension,
    clean_rules,
    find_loop,
)
from server.tenancy.models import Organisation

# --- lists --------------------------------------------------------------------


def extensions_of(
    organisation: Organisation, *, search: str | None = None, assigned: bool | None = None
) -> QuerySet[Extension]:
    extensions = Extension.filter(organisation_id=organisation.id)
    if assigned is not None:
        extensions = extensions.filter(membership_id__isnull=not assigned)
    if search:
        term = clean_text(search, field="search")
        extensions = extensions.filter(Q(number__startswith=term) | Q(label__icontains=term))
    return extensions


def own_extensions(actor: Actor) -> QuerySet[Extension]:
    return Extension.filter(actor.own_rows())


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _filter_calls(
    calls: QuerySet[CallRecord],
    *,
    extension_id: int | None,
    direction: CallDirection | None,
    since: datetime | None,
    until: datetime | None,
    with_recording: bool | None,
) -> QuerySet[CallRecord]:
    if extension_id is not None:
        calls = calls.filter(extension_id=extension_id)
    if direction is not None:
        calls = calls.filter(direction=direction)
    if since is not None:
        calls = calls.filter(started_at__gte=_aware(since))
    if until is not None:
        calls = calls.filter(started_at__lt=_aware(until))
    if with_recording is not None:
        calls = calls.filter(recording_format__isnull=not with_recording)
    return calls


def calls_of(organisation: Organisation, **filters: Any) -> QuerySet[CallRecord]:
    return _filter_calls(CallRecord.filter(organisation_id=organisation.id), **filters)


def own_calls(actor: Actor, **filters: Any) -> QuerySet[CallRecord]:
    return _filter_calls(CallRecord.filter(actor.own_rows()), **filters)


# --- loading with scope ---------------------------------------------------------


async def _extension(
    actor: Actor, extension_id: int, *, change: bool = False
) -> tuple[Extension, Organisation]:
    extension = await Extension.get_or_none(id=extension_id)
    if extension is None:
        raise not_found("extensionId", "Extension")
    organisation = await Organisation.get(id=extension.organisation_id)
    # Do-not-disturb and forwarding: admins on every extension, a member on theirs.
    permission = Permission.EXTENSIONS_MANAGE if change else Permission.EXTENSIONS_VIEW
    if not actor.may_use(permission, organisation, extension.membership_id):
        raise not_found("extensionId", "Extension")
    return extension, organisation


def _taken(field: str = "number") -> DomainError:
    return DomainError(ErrorCode.NUMBER_TAKEN, "This extension number is already in use.", field)


async def _assignable(organisation: Organisation, membership_id: int) -> Membership:
    """A member of the organisation who signs in, or will once they accept their
    invitation (an admin adding a person gives them their phone at once); not a
    disabled one."""
    membership = await Membership.get_or_none(id=membership_id, organisation_id=organisation.id)
    if membership is None:
        raise not_found("membershipId", "Member")
    user = await User.get(id=membership.user_id)
    if (
        membership.status is MembershipStatus.DISABLED
        or user.status is UserStatus.DISABLED
        or not user.email
    ):
        raise DomainError(
            ErrorCode.CANNOT_SIGN_IN,
            "A disabled member cannot get an extension.",
            "membershipId",
        )
    return membership


async def _assign(actor: Actor, extension: Extension, membership: Membership | None) -> None:
    """Give the extension to `membership` (taking theirs away from any other
    extension) or to nobody. Call inside a transaction."""
    before = extension.membership_id
    if membership is not None:
        previous = await Extension.get_or_none(membership_id=membership.id)
        if previous is not None and previous.id != extension.id:
            previous.membership_id = None
            await previous.save(update_fields=["membership_id", "updated_at"])
            await audit.record(
                "extension.unassigned",
                actor=actor,
                organisation_id=previous.organisation_id,
                target=previous,
                target_label=previous.number,
                subject_user_id=membership.user_id,
                details={
                    "before": {"member": await audit.member_ref(membership.id)},
                    "after": {"member": None},
                    "movedTo": extension.number,
                },
            )
    extension.membership_id = membership.id if membership is not None else None
    if before == extension.membership_id:
        return
    before_member = await audit.member_ref(before)
    # Taking an extension away is about the person who had it.
    holder = await Membership.get_or_none(id=before) if before is not None else None
    subject = membership if membership is not None else holder
    await extension.save(update_fields=["membership_id", "updated_at"])
    if holder is not None and membership is not None:
        # A move: its own event for the person who loses the extension (their activity).
        await audit.record(
            "extension.unassigned",
            actor=actor,
            organisation_id=extension.organisation_id,
            target=extension,
            target_label=extension.number,
            subject_user_id=holder.user_id,
            details={"before": {"member": before_member}, "after": {"member": None}},
        )
    await audit.record(
        "extension.assigned" if membership is not None else "extension.unassigned",
        actor=actor,
        organisation_id=extension.organisation_id,
        target=extension,
        target_label=extension.number,
        subject_user_id=subject.user_id if subject is not None else None,
        details={
            "before": {"member": before_member},
            "after": {"member": await audit.member_ref(extension.membership_id)},
        },
    )


async def _holder(membership_id: int | None) -> int | None:
    """The person an extension (or a call on it) belongs to: its events are about them."""
    if membership_id is None:
        return None
    holder = await Membership.get_or_none(id=membership_id).only("id", "user_id")
    return holder.user_id if holder is not None else None


async def _lock_organisation(organisation_id: int) -> None:
    # Assignment changes of one organisation queue behind each other (PostgreSQL).
    await Organisation.select_for_update().get(id=organisation_id)


# --- extensions ----------------------------------------------------------------


async def create_extension(
    *,
    actor: Actor,
    organisation: Organisation,
    number: str | None,
    label: str | None,
    membership_id: int | None = None,
) -> Extension:
    values: dict[str, Any] = {
        "number": clean_extension_number(number),
        "label": clean_text(label, field="label"),
    }
    try:
        async with in_transaction():
            await _lock_organisation(organisation.id)
            if await Extension.exists(organisation_id=organisation.id, number=values["number"]):
                raise _taken()
            member = await _assignable(organisation, membership_id) if membership_id else None
            extension = await Extension.create(organisation_id=organisation.id, **values)
            await audit.record(
                "extension.created",
                actor=actor,
                organisation_id=organisation.id,
                target=extension,
                subject_user_id=await _holder(extension.membership_id),
                target_label=extension.number,
                details={"after": values},
            )
            await _assign(actor, extension, member)
    except IntegrityError:
        raise _taken() from None  # a concurrent request took the number
    return extension


async def update_extension(
    *, actor: Actor, extension_id: int, changes: dict[str, Any]
) -> Extension:
    cleaned: dict[str, str] = {}
    if "number" in changes:
        cleaned["number"] = clean_extension_number(changes["number"])
    if "label" in changes:
        cleaned["label"] = clean_text(changes["label"], field="label")
    try:
        async with in_transaction():
            extension, organisation = await _extension(actor, extension_id)
            await _lock_organisation(organisation.id)
            before = {name: getattr(extension, name) for name in cleaned}
            renumbered = cleaned.get("number", extension.number) != extension.number
            if renumbered:
                if await Extension.exists(
                    organisation_id=organisation.id, number=cleaned["number"]
                ):
                    raise _taken()
                # Forwarding to this extension follows it to its new number.
                await ForwardingRule.filter(
                    organisation_id=organisation.id, destination=extension.number
                ).update(destination=cleaned["number"])
            for name, value in cleaned.items():
                setattr(extension, name, value)
            if before != cleaned:
                await extension.save(update_fields=[*cleaned, "updated_at"])
                await audit.record(
                    "extension.updated",
                    actor=actor,
                    organisation_id=organisation.id,
                    target=extension,
                    subject_user_id=await _holder(extension.membership_id),
                    target_label=extension.number,
                    details={"before": before, "after": cleaned},
                )
    except IntegrityError:
        raise _taken() from None
    return extension


async def assign_extension(
    *, actor: Actor, extension_id: int, membership_id: int | None
) -> Extension:
    async with in_transaction():
        extension, organisation = await _extension(actor, extension_id)
        await _lock_organisation(organisation.id)
        extension = await Extension.get(id=extension.id)
        member = await _assignable(organisation, membership_id) if membership_id else None
        await _assign(actor, extension, member)
    return extension


async def give_extension_to_new_member(
    actor: Actor, membership: Membership, extension_id: int
) -> None:
    """The extension an admin chose when adding a person (createUser, inviteUser):
    one of the organisation's, given inside the adding transaction and audited as
    assignExtension is."""
    organisation = await Organisation.get(id=membership.organisation_id)
    if not actor.can(Permission.EXTENSIONS_VIEW, organisation):
        raise not_found("extensionId", "Extension")
    if not actor.can(Permission.EXTENSIONS_MANAGE, organisation):
        raise DomainError(
            ErrorCode.OUT_OF_SCOPE_PERMISSION,
            "Only those who manage extensions give one to a person.",
            "extensionId",
        )
    await _lock_organisation(organisation.id)
    extension = await Extension.get_or_none(id=extension_id, organisation_id=organisation.id)
    if extension is None:
        raise not_found("extensionId", "Extension")
    await _assign(actor, extension, membership)


async def delete_extension(*, actor: Actor, extension_id: int) -> None:
    async with in_transaction():
        extension, organisation = await _extension(actor, extension_id)
        pointing = ForwardingRule.filter(
            organisation_id=organisation.id, destination=extension.number
        ).exclude(extension_id=extension.id)
        removed_rules = await pointing.count()
        await audit.record(
            "extension.deleted",
            actor=actor,
            organisation_id=organisation.id,
            target=extension,
            subject_user_id=await _holder(extension.membership_id),
            target_label=extension.number,
            details={
                "before": {
                    "number": extension.number,
                    "member": await audit.member_ref(extension.membership_id),
                },
                "forwardingRulesRemoved": removed_rules,
                "callRecordsRemoved": await CallRecord.filter(extension_id=extension.id).count(),
            },
        )
        await pointing.delete()
        await extension.delete()


async def set_do_not_disturb(*, actor: Actor, extension_id: int, enabled: bool) -> Extension:
    async with in_transaction():
        extension, organisation = await _extension(actor, extension_id, change=True)
        if extension.do_not_disturb != enabled:
            extension.do_not_disturb = enabled
            await extension.save(update_fields=["do_not_disturb", "updated_at"])
            await audit.record(
                "extension.do_not_disturb_changed",
                actor=actor,
                organisation_id=organisation.id,
                target=extension,
                subject_user_id=await _holder(extension.membership_id),
                target_label=extension.number,
                details={
                    "before": {"doNotDisturb": not enabled},
                    "after": {"doNotDisturb": enabled},
                },
            )
    return extension


def _rule_view(rule: RuleSpec | ForwardingRule) -> dict[str, Any]:
    return {
        "condition": rule.condition.value,
        "destination": rule.destination,
        "ringSeconds": rule.ring_seconds,
    }


async def set_forwarding_rules(
    *, actor: Actor, extension_id: int, rules: list[RuleSpec]
) -> Extension:
    """Replace the extension's forwarding rules with `rules` (empty: no forwarding)."""
    cleaned = clean_rules(rules)
    async with in_transaction():
        extension, organisation = await _extension(actor, extension_id, change=True)
        await _lock_organisation(organisation.id)
        numbers = {
            str(number)
            for number in await Extension.filter(organisation_id=organisation.id).values_list(
                "number", flat=True
            )
        }
        check_unknown_extensions(cleaned, numbers)
        others = (
            await ForwardingRule.filter(
                organisation_id=organisation.id, condition=ForwardingCondition.ALWAYS
            )
            .exclude(extension_id=extension.id)
            .prefetch_related("extension")
        )
        always = {rule.extension.number: rule.destination for rule in others}
        looping = find_loop(extension.number, cleaned, always, numbers)
        if looping is not None:
            raise DomainError(
                ErrorCode.FORWARDING_LOOP,
                "Calls would be forwarded back to this extension.",
                f"rules[{looping}].destination",
            )
        existing = await ForwardingRule.filter(extension_id=extension.id).order_by("id")
        before = [_rule_view(rule) for rule in existing]
        after = [_rule_view(rule) for rule in cleaned]
        if before != after:
            await ForwardingRule.filter(extension_id=extension.id).delete()
            for rule in cleaned:
                await ForwardingRule.create(
                    organisation_id=organisation.id,
                    extension_id=extension.id,
                    condition=rule.condition,
                    destination=rule.destination,
                    ring_seconds=rule.ring_seconds,
                )
            await Extension.filter(id=extension.id).update(updated_at=clock.now())
            await audit.record(
                "extension.forwarding_changed",
                actor=actor,
                organisation_id=organisation.id,
                target=extension,
                subject_user_id=await _holder(extension.membership_id),
                target_label=extension.number,
                details={"before": before, "after": after},
            )
    return extension


# --- calls and recordings ----------------------------------------------------------


async def add_call_record(
    *,
    actor: Actor,
    extension_id: int,
    started_at: datetime,
    direction: CallDirection,
    remote_number: str | None,
    duration_seconds: int,
    recording: tuple[RecordingFormat, int, int] | None = None,
) -> CallRecord:
    """Record one call (imports, demos, tests); it belongs to the extension's
    member of the moment."""
    values: dict[str, Any] = {
        "started_at": clean_call_time(started_at),
        "direction": direction,
        "remote_number": clean_phone_or_extension(remote_number, field="remoteNumber"),
        "duration_seconds": check_seconds(duration_seconds, field="durationSeconds"),
    }
    if recording is not None:
        kind, seconds, size = recording
        values["recording_format"] = kind
        values["recording_seconds"] = check_seconds(
            seconds, field="recording.durationSeconds", maximum=values["duration_seconds"]
        )
        values["recording_bytes"] = check_seconds(
            size, field="recording.sizeBytes", maximum=MAX_RECORDING_BYTES
        )
    async with in_transaction():
        extension, organisation = await _extension(actor, extension_id)
        call = await CallRecord.create(
            organisation_id=organisation.id,
            extension_id=extension.id,
            membership_id=extension.membership_id,
            **values,
        )
        await audit.record(
            "call_record.added",
            actor=actor,
            organisation_id=organisation.id,
            target=call,
            subject_user_id=await _holder(call.membership_id),
            target_label=extension.number,
            details={"extension": extension.number, "recording": recording is not None},
        )
    return call


async def delete_recording(*, actor: Actor, call_record_id: int) -> CallRecord:
    async with in_transaction():
        call = await CallRecord.get_or_none(id=call_record_id)
        organisation = await Organisation.get(id=call.organisation_id) if call else None
        if (
            call is None
            or organisation is None
            or not actor.may_use(Permission.EXTENSIONS_VIEW, organisation, call.membership_id)
        ):
            raise not_found("callRecordId", "Call record")
        if actor.recording_deletion_restricted(organisation):
            raise DomainError(
                ErrorCode.RECORDING_DELETION_RESTRICTED,
                "You may not delete call recordings (restricted by your administrator).",
                "callRecordId",
            )
        now = clock.now()
        deleted = await CallRecord.filter(id=call.id, recording_format__isnull=False).update(
            recording_format=None,
            recording_seconds=None,
            recording_bytes=None,
            recording_deleted_at=now,
        )
        if deleted != 1:
            raise DomainError(
                ErrorCode.INVALID_STATE, "This call has no recording.", "callRecordId"
            )
        before = {
            "format": call.recording_format.value if call.recording_format else None,
            "durationSeconds": call.recording_seconds,
            "sizeBytes": call.recording_bytes,
        }
        call = await CallRecord.get(id=call.id)
        await audit.record(
            "recording.deleted",
            actor=actor,
            organisation_id=organisation.id,
            target=call,
            subject_user_id=await _holder(call.membership_id),
            details={"before": before, "after": None},
        )
    return call
