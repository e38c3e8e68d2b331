"""The audit trail, for administrators."""

from __future__ import annotations

from datetime import datetime

import strawberry

from server.audit import service
from server.audit.types import AuditEventType
from server.core.context import Info
from server.core.guard import decode_id, organisation, requires
from server.core.pagination import Connection, paginate
from server.core.permissions import Permission


@strawberry.type
class Query:
    @strawberry.field(
        description="Audit events of an organisation, oldest first; with includeDescendants, "
        "of every organisation below it the viewer may audit too.",
        extensions=[requires(Permission.AUDIT_VIEW, on=organisation("organisation_id"))],
    )
    async def audit_events(
        self,
        info: Info,
        organisation_id: strawberry.ID,
        include_descendants: bool = False,
        action: str | None = None,
        actor_id: strawberry.ID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[AuditEventType]:
        target = await info.context.loaders.organisation.load(
            decode_id(organisation_id, "Organisation")
        )
        events = service.events_visible_to(
            info.context.require_actor(),
            organisation=target,  # type: ignore[arg-type]
            include_descendants=include_descendants,
            action=action,
            actor_id=decode_id(actor_id, "User", "actorId") if actor_id is not None else None,
            since=since,
            until=until,
        )
        return await paginate(events, first=first, after=after)
