"""GraphQL types of the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from server.audit.models import AuditEvent
from server.audit.summaries import reader_language, summarise
from server.core.context import Info
from server.core.nodes import node_of
from server.tenancy.models import Organisation
from server.tenancy.refs import OrganisationRef


@strawberry.type(name="AuditEvent", description="One change: when, who, where, what.")
@node_of(AuditEvent)
class AuditEventType(relay.Node):
    id: relay.NodeID[int]
    created_at: datetime
    action: str = strawberry.field(description='What happened, e.g. "member.role_changed".')
    actor_label: str = strawberry.field(description="Who did it (pseudonymised once deleted).")
    impersonator_label: str = strawberry.field(
        description="The administrator acting as the actor, during an impersonation."
    )
    api_token_label: str = strawberry.field(
        description="The API token that made the change for the actor (its name and the "
        "start of its secret); empty when a person did.",
    )
    target_type: str
    target_label: str
    client_ip: str
    request_id: str
    details: JSON = strawberry.field(
        description="What changed, with global ids and the names at the time; the keys "
        'per action are listed in the README ("Audit events").'
    )

    @strawberry.field(
        description='The event in one line ("Ann Admin moved extension 201 from Bob to '
        "Carol\"), in the viewer's language: their profile's, else the request's "
        "Accept-Language, else English."
    )
    @staticmethod
    def summary(row: strawberry.Parent[AuditEvent], info: Info) -> str:
        context = info.context
        language = reader_language(context.actor, context.request.headers.get("accept-language"))
        return summarise(row, language)

    @strawberry.field(description="The API token's id, when one made the change.")
    @staticmethod
    def api_token_id(row: strawberry.Parent[AuditEvent]) -> relay.GlobalID | None:
        token_id = row.api_token_id
        return relay.GlobalID("ApiToken", str(token_id)) if token_id is not None else None

    @strawberry.field
    @staticmethod
    async def organisation(
        row: strawberry.Parent[AuditEvent], info: Info
    ) -> OrganisationRef | None:
        organisation_id = row.organisation_id
        return (
            await info.context.loaders.by_id(Organisation).load(organisation_id)
            if organisation_id
            else None
        )


if TYPE_CHECKING:
    AuditEventNode: TypeAlias = AuditEvent  # the value is the row (core/nodes.py)
else:
    AuditEventNode = AuditEventType
