"""Webhooks: organisations register endpoints; changes become signed JSON
deliveries, written in the transaction of the change (the audit record is
where every change passes) and posted by the worker (server.webhooks.worker).

An endpoint of an organisation receives the events of that organisation and
of every organisation below it: a reseller's endpoint hears its customers.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import httpx
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from server.audit import service as audit
from server.core import clock
from server.core.actor import Actor
from server.core.encryption import encrypt
from server.core.errors import DomainError, ErrorCode, not_found
from server.core.tokens import new_token
from server.core.validation import clean_text
from server.settings import get_settings
from server.tenancy.models import Organisation
from server.webhooks import targets
from server.webhooks.events import EVENTS
from server.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


# How long creating an endpoint waits for its name to resolve.
RESOLVE_TIMEOUT = 5.0


async def check_url(url: str) -> str:
    """An absolute https URL (http too where private targets are allowed, i.e. in
    development and tests), without credentials, its host in canonical form
    (`0x7f000001` is 127.0.0.1). Otherwise the host must be public: an address
    in any spelling, and every address a name resolves to now. A name that
    does not resolve yet is accepted; each delivery checks it again."""
    url = clean_text(url, field="url", max_length=2000, required=True)
    allow_private = get_settings().webhook_allow_private
    invalid = DomainError(ErrorCode.INVALID, "The URL's host or port is not valid.", "url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # an unclosed [IPv6 address, a port out of range
        raise invalid from None
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed or not parts.hostname or parts.username or parts.password:
        raise DomainError(ErrorCode.INVALID, "Use an https:// URL without credentials.", "url")
    try:
        host = targets.normalise_host(parts.hostname)
    except ValueError:
        raise invalid from None
    if not allow_private:
        await _check_public(host, port or 443)
    netloc = host if port is None else f"{host}:{port}"
    url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    try:
        httpx.URL(url)  # what the worker will post to
    except httpx.InvalidURL:
        raise invalid from None
    return url


async def _check_public(host: str, port: int) -> None:
    refused = DomainError(
        ErrorCode.INVALID,
        "Private and local addresses are not allowed: use a public host name or address.",
        "url",
    )
    address = targets.parse_ip(host)
    if address is not None:
        if not targets.is_public(address):
            raise refused
        return
    if targets.is_local_name(host):
        raise refused
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            addresses = await targets.resolve(host, port)
    except (OSError, TimeoutError):
        return
    if not all(targets.is_public(a) for a in addresses):
        raise refused


def _check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENTS))
    if not events or unknown:
        raise DomainError(
            ErrorCode.INVALID,
            f"Choose events among {', '.join(EVENTS)}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "."),
            "events",
        )
    return sorted(set(events))


async def create_endpoint(
    *,
    actor: Actor,
    organisation: Organisation,
    url: str,
    events: list[str],
    description: str | None,
) -> tuple[str, WebhookEndpoint]:
    """A new endpoint; its signing secret is returned once."""
    url = await check_url(url)
    events = _check_events(events)
    description = clean_text(description, field="description", max_length=200)
    raw, _ = new_token(SECRET_PREFIX)
    async with in_transaction():
        endpoint = await WebhookEndpoint.create(
            organisation=organisation,
            url=url,
            events=events,
            description=description,
            secret=encrypt(raw),
            created_by=actor.user,
            created_at=clock.now(),
        )
        await audit.record(
            "webhook.created",
            actor=actor,
            organisation_id=organisation.id,
            target=endpoint,
            target_label=url,
            details={"events": events},
        )
    return raw, endpoint


async def update_endpoint(
    *,
    actor: Actor,
    endpoint_id: int,
    url: str | None,
    events: list[str] | None,
    active: bool | None,
) -> WebhookEndpoint:
    endpoint = await WebhookEndpoint.get(id=endpoint_id)
    changes: dict[str, object] = {}
    if url is not None:
        changes["url"] = await check_url(url)
    if events is not None:
        changes["events"] = _check_events(events)
    if active is not None:
        changes["active"] = active
    if changes:
        before = {key: getattr(endpoint, key) for key in changes}
        async with in_transaction():
            await endpoint.update_from_dict(changes).save(update_fields=list(changes))
            await audit.record(
                "webhook.updated",
                actor=actor,
                organisation_id=endpoint.organisation_id,
                target=endpoint,
                target_label=endpoint.url,
                details={"before": before, "after": changes},
            )
    return endpoint


async def delete_endpoint(*, actor: Actor, endpoint_id: int) -> None:
    endpoint = await WebhookEndpoint.get(id=endpoint_id)
    async with in_transaction():
        await audit.record(
            "webhook.deleted",
            actor=actor,
            organisation_id=endpoint.organisation_id,
            target=endpoint,
            target_label=endpoint.url,
        )
        await endpoint.delete()


def endpoints_of(organisation: Organisation) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.filter(organisation_id=organisation.id)


def deliveries_of(endpoint_id: int) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.filter(endpoint_id=endpoint_id)


async def redeliver(*, actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Queue the same event (same id and body) again, as a new delivery."""
    original = await WebhookDelivery.get_or_none(id=delivery_id)
    if original is None:
        raise not_found("deliveryId", "Delivery")
    now = clock.now()
    async with in_transaction():
        copy = await WebhookDelivery.create(
            endpoint_id=original.endpoint_id,
            organisation_id=original.organisation_id,
            event=original.event,
            event_id=original.event_id,
            payload=original.payload,
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            created_at=now,
        )
        await audit.record(
            "webhook.redelivered",
            actor=actor,
            organisation_id=original.organisation_id,
            target=copy,
            details={"eventId": original.event_id},
        )
    return copy
