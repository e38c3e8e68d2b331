"""The audit trail, for administrators."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import relay

from server.audit import service
from server.audit.service import AuditFilter
from server.audit.types import AuditEventNode
from server.core.context import Info
from server.core.errors import not_found
from server.core.guard import checked, decode_id, organisation, requires
from server.core.nodes import parse_id
from server.core.pagination import Connection, paginate
from server.core.permissions import Permission


def audit_filter(
    *,
    include_descendants: bool = False,
    action: str | None = None,
    actor_id: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    search: str | None = None,
) -> AuditFilter:
    """The filters of `auditEvents` and of the CSV export, from their arguments."""
    target_type = target_pk = None
    if target_id is not None:
        try:
            target = relay.GlobalID.from_id(target_id)
        except ValueError:
            raise not_found("targetId") from None
        target_type, target_pk = target.type_name, parse_id(target.node_id)
        if target_pk is None:
            raise not_found("targetId")
    return AuditFilter(
        include_descendants=include_descendants,
        action=action,
        actor_id=decode_id(actor_id, "User", "actorId") if actor_id is not None else None,
        target_type=target_type,
        target_id=target_pk,
        since=since,
        until=until,
        search=search,
    )


@strawberry.enum(description="The order of an audit list.")
class AuditOrder(Enum):
    NEWEST_FIRST = "NEWEST_FIRST"
    OLDEST_FIRST = "OLDEST_FIRST"


@strawberry.type
class Query:
    @strawberry.field(
        description="Audit events of an organisation, newest first unless `order` says "
        "otherwise; with includeDescendants, "
        "of every organisation below it the viewer may audit too. `action` is exact, or a "
        'prefix ending in "." ("member."). The same filters download as CSV from '
        "`/audit/export.csv?organisationId=…` (same permission).",
        extensions=[requires(Permission.AUDIT_VIEW, on=organisation("organisation_id"))],
    )
    async def audit_events(
        self,
        info: Info,
        organisation_id: strawberry.ID,
        include_descendants: bool = False,
        action: str | None = None,
        actor_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Events done by this person (a `User` id): a member of an "
                "organisation listed, or someone its trail names; anyone else is NOT_FOUND."
            ),
        ] = None,
        target_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Events about this object (any global id); for a person (a "
                "`User` id, the same people as `actorId`), also the events about their "
                "memberships."
            ),
        ] = None,
        since: datetime | None = None,
        until: datetime | None = None,
        order: AuditOrder = AuditOrder.NEWEST_FIRST,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Words of the actor's or the target's name (at the time) "
                "or the action, in any order."
            ),
        ] = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[AuditEventNode]:
        target = checked(info).organisation
        events = await service.events_visible_to(
            info.context.require_actor(),
            organisation=target,
            filters=audit_filter(
                include_descendants=include_descendants,
                action=action,
                actor_id=actor_id,
                target_id=target_id,
                since=since,
                until=until,
                search=search,
            ),
        )
        return await paginate(
            events, first=first, after=after, newest_first=order is AuditOrder.NEWEST_FIRST
        )
