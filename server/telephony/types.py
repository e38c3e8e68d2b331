"""GraphQL types of phone extensions, forwarding rules and call records."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from server.accounts.models import Membership
from server.accounts.types import MembershipType
from server.core.context import Info
from server.core.nodes import node_of, visible_row
from server.core.pagination import Connection
from server.organisations.types import OrganisationType
from server.telephony.loaders import rules_by_extension
from server.telephony.models import (
    CallDirection,
    CallRecord,
    Extension,
    ForwardingCondition,
    RecordingFormat,
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
@node_of(Extension)
class ExtensionType(relay.Node):
    id: relay.NodeID[int]
    number: str
    label: str
    do_not_disturb: bool
    created_at: datetime
    updated_at: datetime

    @strawberry.field
    async def organisation(self, info: Info) -> OrganisationType:
        organisation_id = self.organisation_id  # type: ignore[attr-defined]
        return await info.context.loaders.organisation.load(organisation_id)  # type: ignore[return-value]

    @strawberry.field(description="The member it is assigned to, when the viewer may see them.")
    async def member(self, info: Info) -> MembershipType | None:
        return await visible_row(info, Membership, self.membership_id)  # type: ignore[attr-defined,return-value]

    @strawberry.field(description="Forwarding rules, one per condition at most.")
    async def forwarding_rules(self, info: Info) -> list[ForwardingRuleType]:
        return await info.context.loaders.of(rules_by_extension).load(self.id)  # type: ignore[return-value]


@strawberry.type(name="Recording", description="A call's recording (the audio lives elsewhere).")
class RecordingType:
    format: RecordingFormat
    duration_seconds: int
    size_bytes: int


@strawberry.type(name="CallRecord", description="One call of an extension.")
@node_of(CallRecord)
class CallRecordType(relay.Node):
    id: relay.NodeID[int]
    started_at: datetime
    direction: CallDirection
    remote_number: str
    duration_seconds: int
    recording_deleted_at: datetime | None = strawberry.field(
        description="When the recording was deleted, if it was."
    )

    @strawberry.field(description="The extension, when the viewer may still see it.")
    async def extension(self, info: Info) -> ExtensionType | None:
        return await visible_row(info, Extension, self.extension_id)  # type: ignore[attr-defined,return-value]

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
