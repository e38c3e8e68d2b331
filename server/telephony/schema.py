"""Phone extensions: lists, create / update / assign / delete, do-not-disturb,
forwarding, call records and recordings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from server.core.context import Info
from server.core.errors import Payload
from server.core.guard import checked, checked_target, decode_id, organisation, owner_of, requires
from server.core.pagination import paginate
from server.core.permissions import Permission
from server.telephony import service
from server.telephony.models import (
    CallDirection,
    CallRecord,
    Extension,
    ForwardingCondition,
    RecordingFormat,
)
from server.telephony.rules import DEFAULT_RING_SECONDS, RuleSpec
from server.telephony.types import (
    CallRecordConnection,
    CallRecordNode,
    ExtensionConnection,
    ExtensionNode,
)


def _on_extension() -> Any:
    return owner_of("input.extension_id", Extension)


def _extension_id(info: Info) -> int:
    return checked_target(info, Extension).id


def _membership_id(value: strawberry.ID | None) -> int | None:
    return decode_id(value, "Membership", "membershipId") if value is not None else None


@strawberry.input
class CreateExtensionInput:
    organisation_id: strawberry.ID
    number: str = strawberry.field(description="2 to 8 digits, unique in the organisation.")
    label: str | None = None
    membership_id: strawberry.ID | None = strawberry.field(
        default=None, description="Assign it at once (moves the member's current extension)."
    )


@strawberry.input(description="Only the fields given change.")
class UpdateExtensionInput:
    extension_id: strawberry.ID
    number: str | None = strawberry.UNSET
    label: str | None = strawberry.UNSET


@strawberry.input
class AssignExtensionInput:
    extension_id: strawberry.ID
    membership_id: strawberry.ID | None = strawberry.field(
        description="The member to give it to (their previous extension is freed); "
        "null leaves it unassigned."
    )


@strawberry.input
class ExtensionInput:
    extension_id: strawberry.ID


@strawberry.input
class SetDoNotDisturbInput:
    extension_id: strawberry.ID
    enabled: bool


@strawberry.input
class ForwardingRuleInput:
    condition: ForwardingCondition
    destination: str = strawberry.field(
        description="Another extension's number here, or a full phone number."
    )
    ring_seconds: int = DEFAULT_RING_SECONDS


@strawberry.input
class SetForwardingRulesInput:
    extension_id: strawberry.ID
    rules: list[ForwardingRuleInput] = strawberry.field(
        description="The complete set, one rule per condition; empty turns forwarding off."
    )


@strawberry.input
class RecordingInput:
    format: RecordingFormat
    duration_seconds: int
    size_bytes: int


@strawberry.input
class AddCallRecordInput:
    extension_id: strawberry.ID
    started_at: datetime
    direction: CallDirection
    remote_number: str
    duration_seconds: int
    recording: RecordingInput | None = None


@strawberry.input
class CallRecordInput:
    call_record_id: strawberry.ID


@strawberry.type
class ExtensionPayload(Payload):
    extension: ExtensionNode | None = None


@strawberry.type
class DeleteExtensionPayload(Payload):
    deleted_extension_id: strawberry.ID | None = None  # the global id given


@strawberry.type
class CallRecordPayload(Payload):
    call_record: CallRecordNode | None = None


@strawberry.type
class Query:
    @strawberry.field(
        description="Every extension of an organisation, searched by number or label.",
        extensions=[requires(Permission.EXTENSIONS_VIEW, on=organisation("organisation_id"))],
    )
    async def extensions(
        self,
        info: Info,
        organisation_id: strawberry.ID,
        search: str | None = None,
        assigned: bool | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ExtensionConnection:
        target = checked(info).organisation
        extensions = service.extensions_of(target, search=search, assigned=assigned)
        return await paginate(extensions, first=first, after=after)

    @strawberry.field(
        description="The viewer's own extensions (one per organisation at most).",
        extensions=[requires(Permission.OWN_EXTENSION)],
    )
    async def own_extensions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> ExtensionConnection:
        extensions = service.own_extensions(info.context.require_actor())
        return await paginate(extensions, first=first, after=after)

    @strawberry.field(
        description="Call records of an organisation, oldest first.",
        extensions=[requires(Permission.EXTENSIONS_VIEW, on=organisation("organisation_id"))],
    )
    async def call_records(
        self,
        info: Info,
        organisation_id: strawberry.ID,
        extension_id: strawberry.ID | None = None,
        direction: CallDirection | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        with_recording: bool | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> CallRecordConnection:
        target = checked(info).organisation
        calls = service.calls_of(
            target,
            extension_id=decode_id(extension_id, "Extension", "extensionId")
            if extension_id is not None
            else None,
            direction=direction,
            since=since,
            until=until,
            with_recording=with_recording,
        )
        return await paginate(calls, first=first, after=after)

    @strawberry.field(
        description="The viewer's own calls: those made on their extension while it was theirs.",
        extensions=[requires(Permission.OWN_EXTENSION)],
    )
    async def own_call_records(
        self,
        info: Info,
        direction: CallDirection | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        with_recording: bool | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> CallRecordConnection:
        calls = service.own_calls(
            info.context.require_actor(),
            extension_id=None,
            direction=direction,
            since=since,
            until=until,
            with_recording=with_recording,
        )
        return await paginate(calls, first=first, after=after)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Add an extension, optionally assigned to a member at once.",
        extensions=[
            requires(Permission.EXTENSIONS_MANAGE, on=organisation("input.organisation_id"))
        ],
    )
    async def create_extension(self, info: Info, input: CreateExtensionInput) -> ExtensionPayload:
        target = checked(info).organisation
        created = await service.create_extension(
            actor=info.context.require_actor(),
            organisation=target,
            number=input.number,
            label=input.label,
            membership_id=_membership_id(input.membership_id),
        )
        return ExtensionPayload(extension=created)

    @strawberry.mutation(
        description="Renumber or relabel an extension; forwarding to it follows the new number.",
        extensions=[requires(Permission.EXTENSIONS_MANAGE, on=_on_extension())],
    )
    async def update_extension(self, info: Info, input: UpdateExtensionInput) -> ExtensionPayload:
        changes = {
            name: value
            for name, value in vars(input).items()
            if name != "extension_id" and value is not strawberry.UNSET
        }
        updated = await service.update_extension(
            actor=info.context.require_actor(),
            extension_id=_extension_id(info),
            changes=changes,
        )
        return ExtensionPayload(extension=updated)

    @strawberry.mutation(
        description="Give an extension to a member, invited ones included (moving it from the "
        "extension they had), or to nobody; not to a disabled member.",
        extensions=[requires(Permission.EXTENSIONS_MANAGE, on=_on_extension())],
    )
    async def assign_extension(self, info: Info, input: AssignExtensionInput) -> ExtensionPayload:
        assigned = await service.assign_extension(
            actor=info.context.require_actor(),
            extension_id=_extension_id(info),
            membership_id=_membership_id(input.membership_id),
        )
        return ExtensionPayload(extension=assigned)

    @strawberry.mutation(
        description="Delete an extension with its forwarding and calls; forwarding rules of "
        "other extensions pointing at it are removed.",
        extensions=[requires(Permission.EXTENSIONS_MANAGE, on=_on_extension())],
    )
    async def delete_extension(self, info: Info, input: ExtensionInput) -> DeleteExtensionPayload:
        await service.delete_extension(
            actor=info.context.require_actor(), extension_id=_extension_id(info)
        )
        return DeleteExtensionPayload(deleted_extension_id=input.extension_id)

    @strawberry.mutation(
        description="Turn do-not-disturb on or off: a member on their own extension, "
        "administrators on any.",
        extensions=[requires(Permission.OWN_EXTENSION, on=_on_extension())],
    )
    async def set_do_not_disturb(self, info: Info, input: SetDoNotDisturbInput) -> ExtensionPayload:
        changed = await service.set_do_not_disturb(
            actor=info.context.require_actor(),
            extension_id=_extension_id(info),
            enabled=input.enabled,
        )
        return ExtensionPayload(extension=changed)

    @strawberry.mutation(
        description="Replace an extension's forwarding rules: a member on their own "
        "extension, administrators on any. Destinations are extensions here or phone "
        "numbers; forwarding back to the extension itself is refused.",
        extensions=[requires(Permission.OWN_EXTENSION, on=_on_extension())],
    )
    async def set_forwarding_rules(
        self, info: Info, input: SetForwardingRulesInput
    ) -> ExtensionPayload:
        changed = await service.set_forwarding_rules(
            actor=info.context.require_actor(),
            extension_id=_extension_id(info),
            rules=[
                RuleSpec(rule.condition, rule.destination, rule.ring_seconds)
                for rule in input.rules
            ],
        )
        return ExtensionPayload(extension=changed)

    @strawberry.mutation(
        description="Record a call of an extension (imports, demos and tests).",
        extensions=[requires(Permission.EXTENSIONS_MANAGE, on=_on_extension())],
    )
    async def add_call_record(self, info: Info, input: AddCallRecordInput) -> CallRecordPayload:
        recording = input.recording
        call = await service.add_call_record(
            actor=info.context.require_actor(),
            extension_id=_extension_id(info),
            started_at=input.started_at,
            direction=input.direction,
            remote_number=input.remote_number,
            duration_seconds=input.duration_seconds,
            recording=(recording.format, recording.duration_seconds, recording.size_bytes)
            if recording is not None
            else None,
        )
        return CallRecordPayload(call_record=call)

    @strawberry.mutation(
        description="Delete a call's recording (the call record stays). Refused for members "
        "with restrictRecordingDeletion.",
        extensions=[
            requires(
                Permission.RECORDINGS_DELETE,
                on=owner_of("input.call_record_id", CallRecord),
            )
        ],
    )
    async def delete_recording(self, info: Info, input: CallRecordInput) -> CallRecordPayload:
        call = await service.delete_recording(
            actor=info.context.require_actor(),
            call_record_id=checked_target(info, CallRecord).id,
        )
        return CallRecordPayload(call_record=call)
