"""Writing and reading the audit trail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tortoise.expressions import Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet

from server.accounts.models import Membership, User
from server.audit.models import AuditEvent
from server.core import clock
from server.core.actor import Actor, RequestMeta
from server.core.permissions import Permission
from server.core.search import AUDIT_EVENT, search_words, searched
from server.core.subtree import subtree
from server.core.validation import clean_text
from server.tenancy.models import Organisation

if TYPE_CHECKING:
    from server.api_tokens.models import ApiToken


# What follows every event inside its transaction: webhooks/__init__.py subscribes
# the webhook fan-out (webhooks stand above the audit trail, not below it).
_followers: list[Callable[[AuditEvent], Awaitable[None]]] = []


def follow(follower: Callable[[AuditEvent], Awaitable[None]]) -> None:
    """Call `follower(event)` for every event recorded from now on, in its transaction."""
    if follower not in _followers:
        _followers.append(follower)


def token_label(token: ApiToken) -> str:
    """How the trail names a token: its name and the first characters of its secret."""
    return f"{token.name} ({token.hint}…)"


async def _label(target: Model | None) -> str:
    if target is None:
        return ""
    for attribute in ("email", "name"):
        value = getattr(target, attribute, None)
        if isinstance(value, str):
            return value
    if isinstance(target, Membership):  # a membership reads as its person
        user = await User.get_or_none(id=target.user_id)
        return user.email if user else ""
    return ""


async def record(
    action: str,
    *,
    actor: Actor | None = None,
    meta: RequestMeta | None = None,
    organisation_id: int | None = None,
    target: Model | None = None,
    target_label: str = "",
    subject_user_id: int | None = None,
    details: dict[str, Any] | None = None,
    actor_user_id: int | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one event. Call it inside the transaction of the change it describes."""
    meta = meta or (actor.meta if actor else RequestMeta())
    event = await AuditEvent.create(
        created_at=clock.now(),
        organisation_id=organisation_id,
        actor_id=actor.user.id if actor else actor_user_id,
        actor_label=actor.user.email if actor else actor_label,
        impersonator_id=actor.impersonator.id if actor and actor.impersonator else None,
        impersonator_label=actor.impersonator.email if actor and actor.impersonator else "",
        api_token_id=actor.api_token.id if actor and actor.api_token else None,
        api_token_label=token_label(actor.api_token) if actor and actor.api_token else "",
        action=action,
        target_type=type(target).__name__ if target is not None else "",
        target_id=target.pk if target is not None else None,
        target_label=target_label or await _label(target),
        subject_user_id=subject_user_id,
        client_ip=meta.client_ip,
        request_id=meta.request_id,
        details=details or {},
    )
    for follower in _followers:
        await follower(event)
    return event


@dataclass(frozen=True)
class AuditFilter:
    include_descendants: bool = False
    # Exact, or every action under a prefix ending in "." ("member.").
    action: str | None = None
    actor_id: int | None = None
    target_type: str | None = None
    target_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    # Words of who did it, to what and the action (core/search.py); the log's order stays.
    search: str | None = None


def events_visible_to(
    actor: Actor, *, organisation: Organisation, filters: AuditFilter
) -> QuerySet[AuditEvent]:
    """Events of an organisation (and, with descendants, of every organisation
    below it the actor may audit), filtered."""
    if filters.include_descendants:
        ids = Organisation.filter(
            actor.organisations_with(Permission.AUDIT_VIEW), subtree(organisation.path)
        ).values("id")
        events = AuditEvent.filter(organisation_id__in=Subquery(ids))
    else:
        events = AuditEvent.filter(organisation_id=organisation.id)
    if filters.action:
        action = clean_text(filters.action, field="action", max_length=64)
        events = (
            events.filter(action__startswith=action)
            if action.endswith(".")
            else events.filter(action=action)
        )
    if filters.actor_id is not None:
        events = events.filter(actor_id=filters.actor_id)
    if filters.target_type is not None:
        events = events.filter(target_type=filters.target_type, target_id=filters.target_id)
    if filters.since is not None:
        events = events.filter(created_at__gte=filters.since)
    if filters.until is not None:
        events = events.filter(created_at__lt=filters.until)
    words = search_words(filters.search)
    if words:
        events = searched(
            events, words, lambda word: AUDIT_EVENT.contains('"audit_event"."id"', word), None
        )
    return events


async def prune(older_than_days: int) -> int:
    """Delete events past the retention period; returns how many."""
    cutoff = clock.now() - timedelta(days=older_than_days)
    return await AuditEvent.filter(created_at__lt=cutoff).delete()


async def pseudonymise_user(user_id: int) -> None:
    """Deleting a person keeps what happened, not who they were."""
    pseudonym = f"deleted-user-{user_id}"
    await AuditEvent.filter(actor_id=user_id).update(actor_label=pseudonym)
    await AuditEvent.filter(subject_user_id=user_id).update(target_label=pseudonym)
