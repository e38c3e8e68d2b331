"""GraphQL types of phone extensions, forwarding rules and call records."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from server.accounts.types import MembershipType
from server.core.context import Info
from server.core.nodes import load_visible
from server.core.pagination import Connection
from server.core.permissions import Permission
from server.organisations.types import OrganisationType
from server.telephony import access
from server.telephony.models import (
    CallDirection,
    CallRecord,
    Extension,
    ForwardingCondition,
    RecordingFormat,
)


async def _visible_extension(info: Info, extension: Extension) -> bool:
    actor = info.context.actor
    organisation = await info.context.loaders.organisation.load(extension.organisation_id)
    return (
        actor is not None
        and organisation is not None
        and access.may_view_extension(actor, extension, organisation)
    )


@strawberry.type(name="ForwardingRule", description="Where calls go under one condition.")
class ForwardingRuleType:
    condition: ForwardingCondition
    destination: str = strawberry.field(
        description="Another extension's number, or a phone number."
    )
    ring_seconds: int = strawberry.field(
        description="How long the extension rings first (NO_ANSWER)."
    )

    @strawberry.field(description="True when the destination is an extension here.")
    def internal(self) -> bool:
        destination: str = self.destination
        return destination.isdigit() and len(destination) <= 8


@strawberry.type(name="Extension", description="A phone extension of an organisation.")
class ExtensionType(relay.Node):
    id: relay.NodeID[int]
    number: str
    label: str
    do_not_disturb: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, Extension)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        async def visible(extension: Extension) -> bool:
            return await _visible_extension(info, extension)

        return await load_visible(info, info.context.loaders.extension, node_ids, visible)

    @strawberry.field
    async def organisation(self, info: Info) -> OrganisationType:
        organisation_id = self.organisation_id  # type: ignore[attr-defined]
        return await info.context.loaders.organisation.load(organisation_id)  # type: ignore[return-value]

    @strawberry.field(description="The member it is assigned to, when the viewer may see them.")
    async def member(self, info: Info) -> MembershipType | None:
        membership_id = self.membership_id  # type: ignore[attr-defined]
        if membership_id is None:
            return None
        actor = info.context.actor
        membership = await info.context.loaders.membership.load(membership_id)
        if membership is None or actor is None:
            return None
        organisation = await info.context.loaders.organisation.load(membership.organisation_id)
        if membership.user_id == actor.user.id or actor.can(Permission.MEMBERS_VIEW, organisation):  # type: ignore[arg-type]
            return membership  # type: ignore[return-value]
        return None

    @strawberry.field(description="Forwarding rules, one per condition at most.")
    async def forwarding_rules(self, info: Info) -> list[ForwardingRuleType]:
        return await info.context.loaders.rules_of_extension.load(self.id)  # type: ignore[return-value]


@strawberry.type(name="Recording", description="A call's recording (the audio lives elsewhere).")
class RecordingType:
    format: RecordingFormat
    duration_seconds: int
    size_bytes: int


@strawberry.type(name="CallRecord", description="One call of an extension.")
class CallRecordType(relay.Node):
    id: relay.NodeID[int]
    started_at: datetime
    direction: CallDirection
    remote_number: str
    duration_seconds: int
    recording_deleted_at: datetime | None = strawberry.field(
        description="When the recording was deleted, if it was."
    )

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, CallRecord)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        async def visible(call: CallRecord) -> bool:
            actor = info.context.actor
            organisation = await info.context.loaders.organisation.load(call.organisation_id)
            return (
                actor is not None
                and organisation is not None
                and access.may_view_call(actor, call, organisation)
            )

        return await load_visible(info, info.context.loaders.call_record, node_ids, visible)

    @strawberry.field(description="The extension, when the viewer may still see it.")
    async def extension(self, info: Info) -> ExtensionType | None:
        extension = await info.context.loaders.extension.load(self.extension_id)  # type: ignore[attr-defined]
        visible = extension is not None and await _visible_extension(info, extension)
        return extension if visible else None  # type: ignore[return-value]

    @strawberry.field(description="The recording, if there is one and it was not deleted.")
    def recording(self) -> RecordingType | None:
        call: CallRecord = self  # type: ignore[assignment]
        if call.recording_format is None:
            return None
        return RecordingType(
            format=call.recording_format,
            duration_seconds=call.recording_seconds or 0,
            size_bytes=call.recording_bytes or 0,
        )


ExtensionConnection = Connection[ExtensionType]
CallRecordConnection = Connection[CallRecordType]
