"""Writing and reading the audit trail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tortoise.expressions import Q, Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet

from server.accounts.models import Membership, User
from server.audit.models import AuditEvent
from server.audit.refs import (
    camel_keys,
    global_id,
    member_ref,
    person_ref,
    ref,
    renamed,
    target_ref,
)
from server.core import clock
from server.core.actor import Actor, RequestMeta
from server.core.errors import not_found
from server.core.permissions import Permission
from server.core.search import AUDIT_EVENT, search_words, searched
from server.core.subtree import subtree

__all__ = ["member_ref", "person_ref", "ref"]  # for the callers of `record`
from server.core.validation import clean_text
from server.tenancy.models import Organisation

if TYPE_CHECKING:
    from server.api_tokens.models import ApiToken
    from server.scim.models import ScimToken


# What follows every event inside its transaction: webhooks/__init__.py subscribes
# the webhook fan-out (webhooks stand above the audit trail, not below it).
_followers: list[Callable[[AuditEvent], Awaitable[None]]] = []


def follow(follower: Callable[[AuditEvent], Awaitable[None]]) -> None:
    """Call `follower(event)` for every event recorded from now on, in its transaction."""
    if follower not in _followers:
        _followers.append(follower)


def token_label(token: ApiToken | ScimToken) -> str:
    """How the trail names a token: its name and the first characters of its secret."""
    return f"{token.name} ({token.hint}…)"


def _credential_label(actor: Actor | None) -> str:
    """The token an integration acted with (an API token, or a SCIM token)."""
    if actor is None:
        return ""
    if actor.api_token is not None:
        return token_label(actor.api_token)
    if actor.scim_token is not None:
        return f"SCIM {token_label(actor.scim_token)}"
    return ""


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


async def _envelope(
    *,
    actor: Actor | None,
    actor_user_id: int | None,
    organisation_id: int | None,
    target: Model | None,
    target_label: str,
    subject_user_id: int | None,
) -> dict[str, Any]:
    """The fields every event's details carry (README "Audit events"): who, where,
    what and about whom, as global ids and the names they had at the time."""
    envelope: dict[str, Any] = {}
    if actor is not None:
        envelope["actor"] = person_ref(actor.user)
        if actor.impersonator is not None:
            envelope["impersonator"] = person_ref(actor.impersonator)
    elif actor_user_id is not None:
        envelope["actor"] = person_ref(await User.get_or_none(id=actor_user_id))
    if organisation_id is not None:
        envelope["organisation"] = ref(await Organisation.get_or_none(id=organisation_id))
    if target is not None:
        envelope["target"] = await target_ref(target, target_label)
    if subject_user_id is not None:
        envelope["subject"] = person_ref(await _user(subject_user_id, actor, target))
    return {key: value for key, value in envelope.items() if value is not None}


async def _user(user_id: int, actor: Actor | None, target: Model | None) -> User | None:
    # Usually already in hand: the actor themselves or the target.
    if actor is not None and actor.user.id == user_id:
        return actor.user
    if isinstance(target, User) and target.id == user_id:
        return target
    return await User.get_or_none(id=user_id)


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
    """Append one event. Call it inside the transaction of the change it describes.

    `details` keys become camelCase; the envelope (actor, impersonator,
    organisation, target, subject) is added to them."""
    meta = meta or (actor.meta if actor else RequestMeta())
    envelope = await _envelope(
        actor=actor,
        actor_user_id=actor_user_id,
        organisation_id=organisation_id,
        target=target,
        target_label=target_label,
        subject_user_id=subject_user_id,
    )
    event = await AuditEvent.create(
        created_at=clock.now(),
        organisation_id=organisation_id,
        actor_id=actor.user.id if actor else actor_user_id,
        actor_label=actor.user.email if actor else actor_label,
        impersonator_id=actor.impersonator.id if actor and actor.impersonator else None,
        impersonator_label=actor.impersonator.email if actor and actor.impersonator else "",
        api_token_id=actor.api_token.id if actor and actor.api_token else None,
        api_token_label=_credential_label(actor),
        action=action,
        target_type=type(target).__name__ if target is not None else "",
        target_id=target.pk if target is not None else None,
        target_label=target_label or await _label(target),
        subject_user_id=subject_user_id,
        client_ip=meta.client_ip,
        request_id=meta.request_id,
        details={**camel_keys(details or {}), **envelope},
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


def _scope(actor: Actor, organisation: Organisation, include_descendants: bool) -> Q:
    """The organisations a list covers: this one, or with descendants every one
    below it (itself included) the actor may audit."""
    if include_descendants:
        ids = Organisation.filter(
            actor.organisations_with(Permission.AUDIT_VIEW), subtree(organisation.path)
        ).values("id")
        return Q(organisation_id__in=Subquery(ids))
    return Q(organisation_id=organisation.id)


async def _known_here(user_id: int, scope: Q) -> bool:
    """Whether the person belongs to an organisation of the scope, or its trail
    names them (as actor, impersonator or subject: provider staff, deleted people)."""
    if await Membership.filter(scope, user_id=user_id).exists():
        return True
    return await AuditEvent.filter(
        scope, Q(actor_id=user_id) | Q(impersonator_id=user_id) | Q(subject_user_id=user_id)
    ).exists()


async def events_visible_to(
    actor: Actor, *, organisation: Organisation, filters: AuditFilter
) -> QuerySet[AuditEvent]:
    """Events of an organisation (and, with descendants, of every organisation
    below it the actor may audit), filtered. A person named by `actor_id` or as
    the target must be one the list may name (a member of an organisation of the
    scope, or someone its trail names); anyone else is "not found", like a
    missing person."""
    scope = _scope(actor, organisation, filters.include_descendants)
    events = AuditEvent.filter(scope)
    if filters.action:
        action = clean_text(filters.action, field="action", max_length=64)
        events = (
            events.filter(action__startswith=action)
            if action.endswith(".")
            else events.filter(action=action)
        )
    if filters.actor_id is not None:
        if not await _known_here(filters.actor_id, scope):
            raise not_found("actorId", "Person")
        events = events.filter(actor_id=filters.actor_id)
    if filters.target_type == "User" and filters.target_id is not None:
        # A person: the events about them, their memberships' included.
        if not await _known_here(filters.target_id, scope):
            raise not_found("targetId", "Person")
        events = events.filter(
            Q(target_type="User", target_id=filters.target_id)
            | Q(subject_user_id=filters.target_id)
        )
    elif filters.target_type is not None:
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


def events_about(actor: Actor) -> QuerySet[AuditEvent]:
    """The events about the actor's own person (their subject, or their user as the
    target): what `viewer.auditEvents` lists, without the audit permission. An
    impersonation or an API token reaches less than the person: only the events
    of the organisations it may use."""
    user_id = actor.user.id
    events = AuditEvent.filter(
        Q(subject_user_id=user_id) | Q(target_type="User", target_id=user_id)
    )
    if actor.impersonating or not actor.personal:
        reachable = [membership.organisation_id for membership in actor.reachable_memberships]
        events = events.filter(organisation_id__in=reachable)
    return events


def as_seen_by_subject(event: AuditEvent, actor: Actor) -> AuditEvent:
    """The event as its subject may read it: where it came from (address and
    request) only when they did it themselves. Not saved."""
    if event.actor_id != actor.user.id or event.impersonator_id is not None:
        event.client_ip = event.request_id = ""
    details = dict(event.details) if isinstance(event.details, dict) else {}
    details.pop("account", None)  # the brute-force key of sign-in events
    event.details = details
    return event


async def prune(older_than_days: int) -> int:
    """Delete events past the retention period; returns how many."""
    cutoff = clock.now() - timedelta(days=older_than_days)
    return await AuditEvent.filter(created_at__lt=cutoff).delete()


async def pseudonymise_user(user_id: int) -> None:
    """Deleting a person keeps what happened, not who they were."""
    pseudonym = f"deleted-user-{user_id}"
    await AuditEvent.filter(actor_id=user_id).update(actor_label=pseudonym)
    await AuditEvent.filter(subject_user_id=user_id).update(target_label=pseudonym)
    await AuditEvent.filter(impersonator_id=user_id).update(impersonator_label=pseudonym)
    # The names in details too: where the person acted or was acted on, and the
    # extensions of their organisations (an extension moved away from them names them).
    person = global_id("User", user_id)
    organisations = Membership.filter(user_id=user_id).values("organisation_id")
    events = AuditEvent.filter(
        Q(actor_id=user_id)
        | Q(impersonator_id=user_id)
        | Q(subject_user_id=user_id)
        | Q(target_type="Extension", organisation_id__in=Subquery(organisations))
    )
    for event in await events:
        details = renamed(event.details, person, pseudonym)
        if details != event.details:
            await AuditEvent.filter(id=event.id).update(details=details)
