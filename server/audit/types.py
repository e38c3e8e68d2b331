"""GraphQL types of the audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from server.audit.models import AuditEvent
from server.core.context import Info
from server.core.nodes import load_visible
from server.core.permissions import Permission
from server.organisations.types import OrganisationType


@strawberry.type(name="AuditEvent", description="One change: when, who, where, what.")
class AuditEventType(relay.Node):
    id: relay.NodeID[int]
    created_at: datetime
    action: str = strawberry.field(description='What happened, e.g. "member.role_changed".')
    actor_label: str = strawberry.field(description="Who did it (pseudonymised once deleted).")
    impersonator_label: str = strawberry.field(
        description="The administrator acting as the actor, during an impersonation."
    )
    target_type: str
    target_label: str
    client_ip: str
    request_id: str
    details: JSON

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, AuditEvent)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        async def visible(event: AuditEvent) -> bool:
            if event.organisation_id is None:
                return False
            organisation = await info.context.loaders.organisation.load(event.organisation_id)
            actor = info.context.actor
            return organisation is not None and actor.can(Permission.AUDIT_VIEW, organisation)  # type: ignore[union-attr]

        return await load_visible(info, info.context.loaders.audit_event, node_ids, visible)

    @strawberry.field
    async def organisation(self, info: Info) -> OrganisationType | None:
        organisation_id = self.organisation_id  # type: ignore[attr-defined]
        return (
            await info.context.loaders.organisation.load(organisation_id)
            if organisation_id
            else None
        )
