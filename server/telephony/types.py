"""GraphQL types of phone extensions, forwarding rules and call records."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

import strawberry
from strawberry import relay

from server.accounts.models import Membership
from server.accounts.types import MembershipNode
from server.core.context import Info
from server.core.nodes import Loaded, node_of, visible_row
from server.core.pagination import Connection
from server.organisations.types import OrganisationNode
from server.telephony.loaders import rules_by_extension
from server.telephony.models import (
    CallDirection,
    CallRecord,
    Extension,
    ForwardingCondition,
    ForwardingRule,
    RecordingFormat,
)
from server.tenancy.models import Organisation


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
    @staticmethod
    async def organisation(
        row: strawberry.Parent[Extension], info: Info
    ) -> Loaded[OrganisationNode]:
        return await info.context.loaders.by_id(Organisation).load(row.organisation_id)

    @strawberry.field(description="The member it is assigned to, when the viewer may see them.")
    @staticmethod
    async def member(row: strawberry.Parent[Extension], info: Info) -> MembershipNode | None:
        return await visible_row(info, Membership, row.membership_id)

    @strawberry.field(description="Forwarding rules, one per condition at most.")
    async def forwarding_rules(self, info: Info) -> list[ForwardingRuleRow]:
        return await info.context.loaders.of(rules_by_extension).load(self.id)


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
    @staticmethod
    async def extension(row: strawberry.Parent[CallRecord], info: Info) -> ExtensionNode | None:
        return await visible_row(info, Extension, row.extension_id)

    @strawberry.field(description="The recording, if there is one and it was not deleted.")
    @staticmethod
    def recording(row: strawberry.Parent[CallRecord]) -> RecordingType | None:
        if row.recording_format is None:
            return None
        return RecordingType(
            format=row.recording_format,
            duration_seconds=row.recording_seconds or 0,
            size_bytes=row.recording_bytes or 0,
        )


if TYPE_CHECKING:
    # The values are the rows (core/nodes.py, "Rows as nodes").
    ForwardingRuleRow: TypeAlias = ForwardingRule
    ExtensionNode: TypeAlias = Extension
    CallRecordNode: TypeAlias = CallRecord
else:
    ForwardingRuleRow = ForwardingRuleType
    ExtensionNode = ExtensionType
    CallRecordNode = CallRecordType

ExtensionConnection = Connection[ExtensionNode]
CallRecordConnection = Connection[CallRecordNode]
