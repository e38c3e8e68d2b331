"""Support tickets: raise, list, update, comment, move through the workflow.

The field guard (`desk` in tickets/schema.py) has let the actor in with some
ticket access in the organisation concerned; these functions scope each
ticket by the actor's ticket access (core/actor.py; OWN sees only their own:
anything else is "not found"), validate input, number tickets, keep the audit trail and tell the
reporter by mail when someone else answers or moves their ticket.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from strawberry.relay import to_base64
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from server.accounts.mails import greeting_name
from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.audit import service as audit
from server.core import clock
from server.core.actor import Actor
from server.core.errors import DomainError, ErrorCode, graphql_name, not_found
from server.core.pagination import SortKey
from server.core.search import (
    ORGANISATION,
    TICKET,
    Sql,
    fold_sql,
    folded_phrase,
    ranked_by,
    search_words,
    searched,
)
from server.core.subtree import subtree
from server.core.validation import clean_text
from server.core.visibility import rows_visible_to
from server.mail.outbox import queue_mail
from server.settings import get_settings
from server.tenancy.models import Organisation
from server.tickets.models import (
    Ticket,
    TicketComment,
    TicketCounter,
    TicketKind,
    TicketOrder,
    TicketPriority,
    TicketStatus,
)

SUBJECT_MAX = 200
TEXT_MAX = 10_000

S = TicketStatus
# The workflow: where a ticket may go from each status.
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.NEW: frozenset({S.IN_PROGRESS, S.WAITING_ON_CUSTOMER, S.RESOLVED}),
    S.IN_PROGRESS: frozenset({S.WAITING_ON_CUSTOMER, S.RESOLVED}),
    S.WAITING_ON_CUSTOMER: frozenset({S.IN_PROGRESS, S.RESOLVED}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset(),
}
# What a reporter with OWN access may do to their own ticket; the rest is the desk's.
REPORTER_TRANSITIONS = frozenset(
    {(S.RESOLVED, S.CLOSED), (S.RESOLVED, S.IN_PROGRESS), (S.WAITING_ON_CUSTOMER, S.IN_PROGRESS)}
)


def tickets_visible_to(
    actor: Actor,
    *,
    organisation: Organisation,
    include_descendants: bool = False,
    status: TicketStatus | None = None,
    kind: TicketKind | None = None,
    priority: TicketPriority | None = None,
    reporter_id: int | None = None,
    search: str | None = None,
) -> QuerySet[Ticket]:
    tickets = Ticket.filter(rows_visible_to(actor, Ticket))
    if include_descendants:
        tickets = tickets.filter(subtree(organisation.path, "organisation__"))
    else:
        tickets = tickets.filter(organisation_id=organisation.id)
    if status is not None:
        tickets = tickets.filter(status=status)
    if kind is not None:
        tickets = tickets.filter(kind=kind)
    if priority is not None:
        tickets = tickets.filter(priority=priority)
    if reporter_id is not None:
        tickets = tickets.filter(reporter_id=reporter_id)
    words = search_words(search)
    if words:
        subject = fold_sql('"ranked"."subject"')
        tickets = searched(
            tickets,
            words,
            _ticket_match,
            ranked_by("ticket", _TICKET, [subject], [subject], folded_phrase(words)),
        )
    return tickets


_TICKET = '"ticket"."id"'
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_WORKFLOW = list(TicketStatus)  # declared in workflow order


def _updated_beyond(position: int, row_id: int) -> Q:
    moment = _EPOCH + position * _MICROSECOND
    return Q(updated_at__lt=moment) | Q(updated_at=moment, id__lt=row_id)


def _status_beyond(position: int, row_id: int) -> Q:
    if not 0 <= position < len(_WORKFLOW):
        raise ValueError(position)
    same = Q(status=_WORKFLOW[position], id__lt=row_id)
    later = _WORKFLOW[position + 1 :]
    return Q(status__in=later) | same if later else same


_STATUS_POSITION = "status_position"
# Keyset orders besides the id (core/pagination.py); newest first within equal values.
_SORT_KEYS: dict[TicketOrder, SortKey[Ticket]] = {
    TicketOrder.LAST_UPDATED: SortKey(
        name="updated",
        order_by=("-updated_at", "-id"),
        position=lambda ticket: (ticket.updated_at - _EPOCH) // _MICROSECOND,
        beyond=_updated_beyond,
    ),
    TicketOrder.STATUS: SortKey(
        name="status",
        order_by=(_STATUS_POSITION, "-id"),
        position=lambda ticket: _WORKFLOW.index(ticket.status),
        beyond=_status_beyond,
        annotations={
            _STATUS_POSITION: Sql(
                'CASE "ticket"."status" '
                + " ".join(f"WHEN {{}} THEN {n}" for n in range(len(_WORKFLOW)))
                + " END",
                *[status.value for status in _WORKFLOW],
            )
        },
    ),
}


def ticket_order(order: TicketOrder) -> tuple[SortKey[Ticket] | None, bool]:
    """How to page tickets in `order`: (a sort key, or None for id order; newest first)."""
    return _SORT_KEYS.get(order), order is not TicketOrder.OLDEST_FIRST


def _ticket_match(word: str) -> Sql:
    """A word of the subject or description, the organisation's name, or the
    ticket's number ("42" or "#42")."""
    parts = [
        TICKET.contains(_TICKET, word),
        ORGANISATION.contains('"ticket"."organisation_id"', word),
    ]
    number = word.removeprefix("#")
    if number.isdigit() and len(number) <= 9:
        parts.append(Sql('"ticket"."number" = {}', int(number)))
    return Sql.join(" OR ", parts)


def ticket_access_members(
    organisation: Organisation, *, search: str | None = None
) -> QuerySet[Membership]:
    """The organisation's active people, for a ticket administrator to set their
    ticket access; `search` finds each word in the first or last name."""
    members = Membership.filter(
        organisation_id=organisation.id, status=MembershipStatus.ACTIVE
    ).select_related("user")
    for word in clean_text(search, field="search").split():
        members = members.filter(
            Q(user__first_name__icontains=word) | Q(user__last_name__icontains=word)
        )
    return members


def _subject(value: str | None) -> str:
    return clean_text(value, field="subject", max_length=SUBJECT_MAX, required=True)


def _description(value: str | None) -> str:
    return clean_text(value, field="description", max_length=TEXT_MAX, multiline=True)


def public_name(user: User | None) -> str:
    """How a person is named to customers: their name, never their address."""
    if user is None:
        return "Deleted user"
    return f"{user.first_name} {user.last_name}".strip() or "Support"


def _link(ticket: Ticket) -> str:
    return f"{get_settings().public_url}/admin/tickets/{to_base64('Ticket', ticket.id)}"


async def _ensure_counter(organisation_id: int) -> None:
    if await TicketCounter.exists(organisation_id=organisation_id):
        return
    with contextlib.suppress(IntegrityError):  # a concurrent first ticket created it
        await TicketCounter.create(organisation_id=organisation_id, last_number=0)


async def next_number(organisation_id: int) -> int:
    """Call inside the ticket's transaction: the UPDATE locks the counter row
    until commit (PostgreSQL); SQLite has one writer anyway. A rolled-back
    ticket rolls its number back too, so numbers have no gaps."""
    updated = await TicketCounter.filter(organisation_id=organisation_id).update(
        last_number=F("last_number") + 1
    )
    if updated == 0:  # the first ticket (create_ticket makes the row beforehand)
        await TicketCounter.create(organisation_id=organisation_id, last_number=1)
        return 1
    counter = await TicketCounter.get(organisation_id=organisation_id)
    return counter.last_number


async def create_ticket(
    *,
    actor: Actor,
    organisation: Organisation,
    kind: TicketKind,
    priority: TicketPriority,
    subject: str | None,
    description: str | None,
) -> Ticket:
    values: dict[str, Any] = {
        "subject": _subject(subject),
        "description": _description(description),
    }
    await _ensure_counter(organisation.id)
    async with in_transaction():
        now = clock.now()
        ticket = await Ticket.create(
            organisation_id=organisation.id,
            number=await next_number(organisation.id),
            kind=kind,
            priority=priority,
            status=TicketStatus.NEW,
            reporter_id=actor.user.id,
            created_at=now,
            updated_at=now,
            **values,
        )
        await audit.record(
            "ticket.created",
            actor=actor,
            organisation_id=organisation.id,
            target=ticket,
            target_label=ticket.label,
            details={
                "after": {
                    "number": ticket.number,
                    "type": kind.value,
                    "priority": priority.value,
                    "subject": ticket.subject,
                }
            },
        )
    return ticket


async def _visible(actor: Actor, ticket_id: int) -> tuple[Ticket, Organisation]:
    ticket = await Ticket.get_or_none(id=ticket_id)
    if ticket is None:
        raise not_found("ticketId", "Ticket")
    organisation = await Organisation.get(id=ticket.organisation_id)
    if not actor.may_view_ticket(ticket.reporter_id, organisation):
        raise not_found("ticketId", "Ticket")
    return ticket, organisation


def _check_open(ticket: Ticket) -> None:
    if ticket.status is TicketStatus.CLOSED:
        raise DomainError(
            ErrorCode.INVALID_STATE, "This ticket is closed; raise a new one.", "ticketId"
        )


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def _field(name: str) -> str:
    """The schema's name of a ticket field (the model's `kind` is the ticket's `type`)."""
    return "type" if name == "kind" else graphql_name(name)


async def update_ticket(*, actor: Actor, ticket_id: int, changes: dict[str, Any]) -> Ticket:
    """Subject, description, type and priority. Only the fields given change."""
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "subject":
            cleaned[name] = _subject(value)
        elif name == "description":
            cleaned[name] = _description(value)
        elif value is None:
            raise DomainError(ErrorCode.REQUIRED, "This field cannot be cleared.", _field(name))
        else:
            cleaned[name] = value
    async with in_transaction():
        ticket, organisation = await _visible(actor, ticket_id)
        _check_open(ticket)
        before = {_field(n): _plain(getattr(ticket, n)) for n in cleaned}
        for name, value in cleaned.items():
            setattr(ticket, name, value)
        if cleaned:
            ticket.updated_at = clock.now()
            await ticket.save(update_fields=[*cleaned, "updated_at"])
            await audit.record(
                "ticket.updated",
                actor=actor,
                organisation_id=organisation.id,
                target=ticket,
                target_label=ticket.label,
                details={
                    "before": before,
                    "after": {_field(n): _plain(v) for n, v in cleaned.items()},
                },
            )
    return ticket


async def _reporter_to_tell(ticket: Ticket, actor: Actor) -> User | None:
    """The reporter, when someone else acted and they can still read mail from us."""
    if ticket.reporter_id is None or ticket.reporter_id == actor.user.id:
        return None
    reporter = await User.get_or_none(id=ticket.reporter_id)
    return reporter if reporter is not None and reporter.status is UserStatus.ACTIVE else None


def statuses_open_to(
    actor: Actor, ticket: Ticket, organisation: Organisation
) -> list[TicketStatus]:
    """Where the actor may move the ticket now, in workflow order: the desk
    (ACCOUNT access or better) along TRANSITIONS, a reporter only along
    REPORTER_TRANSITIONS."""
    desk = actor.handles_tickets(organisation)
    return [
        status
        for status in TicketStatus
        if status in TRANSITIONS[ticket.status]
        and (desk or (ticket.status, status) in REPORTER_TRANSITIONS)
    ]


async def change_status(*, actor: Actor, ticket_id: int, status: TicketStatus) -> Ticket:
    async with in_transaction():
        ticket, organisation = await _visible(actor, ticket_id)
        before = ticket.status
        if status not in TRANSITIONS[before]:
            allowed = ", ".join(s.value for s in TicketStatus if s in TRANSITIONS[before])
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                f"A {before.value} ticket cannot become {status.value}"
                + (f" (possible: {allowed})." if allowed else "; it is closed."),
                "status",
            )
        if status not in statuses_open_to(actor, ticket, organisation):
            raise DomainError(
                ErrorCode.OUT_OF_SCOPE_PERMISSION,
                "Only the support desk moves a ticket there; you may close or reopen a "
                "resolved ticket.",
                "status",
            )
        now = clock.now()
        changes: dict[str, Any] = {"status": status, "updated_at": now}
        if status is TicketStatus.RESOLVED:
            changes["resolved_at"] = now
        elif status is TicketStatus.CLOSED:
            changes["closed_at"] = now
        elif before is TicketStatus.RESOLVED:
            changes["resolved_at"] = None  # reopened
        # Conditional: of two concurrent moves from the same status, one wins.
        moved = await Ticket.filter(id=ticket.id, status=before).update(**changes)
        if moved != 1:
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                "The ticket changed meanwhile; reload it and try again.",
                "status",
            )
        for name, value in changes.items():
            setattr(ticket, name, value)
        await audit.record(
            "ticket.status_changed",
            actor=actor,
            organisation_id=organisation.id,
            target=ticket,
            target_label=ticket.label,
            details={"before": {"status": before.value}, "after": {"status": status.value}},
        )
        reporter = await _reporter_to_tell(ticket, actor)
        if reporter is not None:
            await queue_mail(
                kind="ticket_status",
                recipient=reporter.email,
                organisation_id=organisation.id,
                organisation_name=organisation.name,
                name=greeting_name(reporter),
                number=ticket.number,
                subject=ticket.subject,
                actor_name=public_name(actor.user),
                old_status=before.value,
                new_status=status.value,
                link=_link(ticket),
            )
    return ticket


async def add_comment(
    *, actor: Actor, ticket_id: int, body: str | None
) -> tuple[TicketComment, Ticket]:
    text = clean_text(body, field="body", max_length=TEXT_MAX, required=True, multiline=True)
    async with in_transaction():
        ticket, organisation = await _visible(actor, ticket_id)
        _check_open(ticket)
        now = clock.now()
        comment = await TicketComment.create(
            organisation_id=organisation.id,
            ticket_id=ticket.id,
            author_id=actor.user.id,
            body=text,
            created_at=now,
        )
        await Ticket.filter(id=ticket.id).update(updated_at=now)
        ticket.updated_at = now
        await audit.record(
            "ticket.commented",
            actor=actor,
            organisation_id=organisation.id,
            target=ticket,
            target_label=ticket.label,
            details={"comment": audit.ref(comment, ticket.label)},
        )
        reporter = await _reporter_to_tell(ticket, actor)
        if reporter is not None:
            await queue_mail(
                kind="ticket_comment",
                recipient=reporter.email,
                organisation_id=organisation.id,
                organisation_name=organisation.name,
                name=greeting_name(reporter),
                number=ticket.number,
                subject=ticket.subject,
                author_name=public_name(actor.user),
                comment=text,
                link=_link(ticket),
            )
    return comment, ticket
