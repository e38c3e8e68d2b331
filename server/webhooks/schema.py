"""Webhook endpoints and their delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

import strawberry
from strawberry import relay

from server.core.context import Info
from server.core.errors import Payload
from server.core.guard import (
    STEP_UP_SECONDS,
    authenticated,
    checked,
    checked_target,
    organisation,
    owner_of,
    requires,
)
from server.core.nodes import node_of
from server.core.pagination import Connection, paginate
from server.core.permissions import Permission
from server.webhooks import service
from server.webhooks.events import EVENTS
from server.webhooks.models import WebhookDelivery, WebhookEndpoint


@strawberry.type(
    name="WebhookDelivery", description="One event posted (or to be posted) to an endpoint."
)
@node_of(WebhookDelivery)
class WebhookDeliveryType(relay.Node):
    id: relay.NodeID[int]
    event: str
    event_id: str = strawberry.field(description="The same for redeliveries of one event.")
    payload: str = strawberry.field(description="The exact JSON body sent and signed.")
    attempts: int
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime

    @strawberry.field(description="PENDING, SENDING, DELIVERED or DEAD.")
    @staticmethod
    def status(row: strawberry.Parent[WebhookDelivery]) -> str:
        return row.status.value.upper()


@strawberry.type(name="WebhookEndpoint", description="Where an organisation's events are posted.")
@node_of(WebhookEndpoint)
class WebhookEndpointType(relay.Node):
    id: relay.NodeID[int]
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime

    @strawberry.field(description="Deliveries, oldest first.")
    async def deliveries(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[WebhookDeliveryNode]:
        return await paginate(service.deliveries_of(self.id), first=first, after=after)


if TYPE_CHECKING:
    # The values are the rows (core/nodes.py, "Rows as nodes").
    WebhookDeliveryNode: TypeAlias = WebhookDelivery
    WebhookEndpointNode: TypeAlias = WebhookEndpoint
else:
    WebhookDeliveryNode = WebhookDeliveryType
    WebhookEndpointNode = WebhookEndpointType


@strawberry.input
class CreateWebhookInput:
    organisation_id: strawberry.ID
    url: str = strawberry.field(
        description="https://… (receives this organisation's and its descendants' events)."
    )
    events: list[str] = strawberry.field(description="Event names, see `webhookEvents`.")
    description: str | None = None


@strawberry.type
class CreateWebhookPayload(Payload):
    secret: str | None = strawberry.field(
        default=None, description="The signing secret (`whsec_…`). Shown this once only."
    )
    endpoint: WebhookEndpointNode | None = None


@strawberry.input(description="Only the fields given change.")
class UpdateWebhookInput:
    endpoint_id: strawberry.ID
    url: str | None = None
    events: list[str] | None = None
    active: bool | None = None


@strawberry.input
class WebhookInput:
    endpoint_id: strawberry.ID


@strawberry.type
class WebhookPayload(Payload):
    endpoint: WebhookEndpointNode | None = None


@strawberry.input
class RedeliverInput:
    delivery_id: strawberry.ID


@strawberry.type
class RedeliverPayload(Payload):
    delivery: WebhookDeliveryNode | None = None


def _on_endpoint(path: str = "input.endpoint_id") -> Any:
    return owner_of(path, WebhookEndpoint)


@strawberry.type
class Query:
    @strawberry.field(
        description="The event names an endpoint can subscribe to.",
        extensions=[authenticated(api_tokens=True)],
    )
    def webhook_events(self) -> list[str]:
        return list(EVENTS)

    @strawberry.field(
        description="The organisation's webhook endpoints.",
        extensions=[requires(Permission.WEBHOOKS_MANAGE, on=organisation("organisation_id"))],
    )
    async def webhook_endpoints(
        self,
        info: Info,
        organisation_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[WebhookEndpointNode]:
        owner = checked(info).organisation
        return await paginate(service.endpoints_of(owner), first=first, after=after)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Register an endpoint; the signing secret is returned once.",
        extensions=[
            requires(
                Permission.WEBHOOKS_MANAGE,
                on=organisation("input.organisation_id"),
                recent_auth=STEP_UP_SECONDS,
                impersonation=False,
            )
        ],
    )
    async def create_webhook(self, info: Info, input: CreateWebhookInput) -> CreateWebhookPayload:
        owner = checked(info).organisation
        secret, endpoint = await service.create_endpoint(
            actor=info.context.require_actor(),
            organisation=owner,
            url=input.url,
            events=input.events,
            description=input.description,
        )
        return CreateWebhookPayload(secret=secret, endpoint=endpoint)

    @strawberry.mutation(
        description="Change an endpoint's URL or events, or pause it.",
        extensions=[
            requires(
                Permission.WEBHOOKS_MANAGE,
                on=_on_endpoint(),
                recent_auth=STEP_UP_SECONDS,
                impersonation=False,
            )
        ],
    )
    async def update_webhook(self, info: Info, input: UpdateWebhookInput) -> WebhookPayload:
        endpoint = await service.update_endpoint(
            actor=info.context.require_actor(),
            endpoint_id=checked_target(info, WebhookEndpoint).id,
            url=input.url,
            events=input.events,
            active=input.active,
        )
        return WebhookPayload(endpoint=endpoint)

    @strawberry.mutation(
        description="Remove an endpoint and its delivery log.",
        extensions=[requires(Permission.WEBHOOKS_MANAGE, on=_on_endpoint(), impersonation=False)],
    )
    async def delete_webhook(self, info: Info, input: WebhookInput) -> WebhookPayload:
        await service.delete_endpoint(
            actor=info.context.require_actor(),
            endpoint_id=checked_target(info, WebhookEndpoint).id,
        )
        return WebhookPayload()

    @strawberry.mutation(
        description="Post an event again (same event id and body) as a new delivery.",
        extensions=[
            requires(
                Permission.WEBHOOKS_MANAGE,
                on=owner_of("input.delivery_id", WebhookDelivery),
            )
        ],
    )
    async def redeliver_webhook(self, info: Info, input: RedeliverInput) -> RedeliverPayload:
        delivery = await service.redeliver(
            actor=info.context.require_actor(),
            delivery_id=checked_target(info, WebhookDelivery).id,
        )
        return RedeliverPayload(delivery=delivery)
