"""Which changes become webhook events, and queuing them: follows
`audit.record` inside the transaction of every change (subscribed in
webhooks/__init__.py)."""

from __future__ import annotations

import uuid

import orjson
from strawberry.relay import to_base64

from server.audit.models import AuditEvent
from server.tenancy.models import Organisation
from server.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

# Webhook event ← the audit actions that raise it.
EVENTS: dict[str, tuple[str, ...]] = {
    "member.invited": ("invitation.created",),
    "member.joined": ("invitation.accepted", "user.created"),
    "member.role_changed": ("member.role_changed",),
    "member.disabled": ("member.disabled",),
    "member.enabled": ("member.enabled",),
    "member.removed": ("member.removed", "user.deleted"),
    "organisation.created": ("organisation.created",),
    "organisation.updated": ("organisation.updated",),
    "organisation.suspended": ("organisation.suspended",),
    "organisation.reactivated": ("organisation.reactivated",),
    "ticket.created": ("ticket.created",),
    "ticket.status_changed": ("ticket.status_changed",),
}
_EVENT_OF_ACTION = {action: event for event, actions in EVENTS.items() for action in actions}
# Global ids in payloads use the GraphQL type names (== the model names).
_NODE_TYPES = {"Organisation", "Membership", "User", "Invitation", "Ticket"}


def _global_id(type_name: str, pk: int | None) -> str | None:
    return to_base64(type_name, pk) if pk is not None and type_name in _NODE_TYPES else None


async def enqueue_for(event: AuditEvent) -> None:
    """Called by `audit.record` inside the change's transaction: one delivery per
    subscribed endpoint of the organisation or of an ancestor."""
    name = _EVENT_OF_ACTION.get(event.action)
    if name is None or event.organisation_id is None:
        return
    organisation = await Organisation.get_or_none(id=event.organisation_id)
    if organisation is None:
        return
    endpoints = [
        e
        for e in await WebhookEndpoint.filter(
            organisation_id__in=organisation.ancestor_ids, active=True
        )
        if name in e.events
    ]
    if not endpoints:
        return
    event_id = str(uuid.uuid4())
    body = orjson.dumps(
        {
            "id": event_id,
            "type": name,
            "createdAt": event.created_at.isoformat(),
            "organisation": {
                "id": _global_id("Organisation", organisation.id),
                "name": organisation.name,
            },
            # The principal: the person, the token acting for them, or the
            # administrator acting as them.
            "actor": {
                "label": event.actor_label,
                "id": _global_id("User", event.actor_id),
                "apiToken": {
                    "id": to_base64("ApiToken", event.api_token_id),
                    "name": event.api_token_label,
                }
                if event.api_token_id is not None
                else None,
                "impersonator": {
                    "label": event.impersonator_label,
                    "id": _global_id("User", event.impersonator_id),
                }
                if event.impersonator_id is not None
                else None,
            },
            "target": {
                "type": event.target_type,
                "id": _global_id(event.target_type, event.target_id),
                "label": event.target_label,
            },
            "data": event.details,
        }
    ).decode()
    await WebhookDelivery.bulk_create(
        [
            WebhookDelivery(
                endpoint_id=endpoint.id,
                organisation_id=endpoint.organisation_id,
                event=name,
                event_id=event_id,
                payload=body,
                status=DeliveryStatus.PENDING,
                next_attempt_at=event.created_at,
                created_at=event.created_at,
            )
            for endpoint in endpoints
        ]
    )
