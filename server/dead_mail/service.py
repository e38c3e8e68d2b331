"""Dead mails — the ones the mail worker gave up on — listed and put back in
the outbox. Used by `frontdesk mail list --dead` / `frontdesk mail retry` and,
for the provider's owners, by `outboxMails` and `retryMail`.

A retried mail is due at once with its attempts counted from zero; its
Message-ID stays, so a copy that did arrive after all can be recognised. A
mail whose link or code was cleared when it died (server/mail/sealed.py)
cannot be sent again: its recipient needs a new invitation, reset or code.
Every retry is audited under the provider organisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from server.audit import service as audit
from server.core import clock
from server.core.actor import Actor
from server.core.errors import DomainError, ErrorCode, not_found
from server.mail.models import MailStatus, OutboxMail
from server.mail.sealed import SealedMailError, bodies
from server.tenancy.models import Organisation

CLEARED = (
    "The link or code of this mail was cleared when it died: send a new invitation, "
    "password reset or code instead."
)


@dataclass
class Retried:
    mails: list[OutboxMail] = field(default_factory=list)
    # Dead, but their link or code is gone (only when retrying every dead mail).
    skipped: list[OutboxMail] = field(default_factory=list)


def mails(status: MailStatus) -> QuerySet[OutboxMail]:
    return OutboxMail.filter(status=status)


async def provider() -> Organisation | None:
    """The root of the organisation tree: the provider running this installation."""
    return await Organisation.filter(parent_id=None).order_by("id").first()


def sendable(mail: OutboxMail) -> bool:
    try:
        bodies(mail)
    except SealedMailError:
        return False
    return True


async def retry(
    *, actor: Actor | None, mail_ids: list[int] | None, actor_label: str = ""
) -> Retried:
    """Put dead mails back in the outbox: the ones named (all must be dead and
    still sendable, else a DomainError and nothing changes), or with
    `mail_ids=None` every dead mail that can still be sent. `actor_label`
    names who did it when there is no actor (the command line)."""
    async with in_transaction():
        query = mails(MailStatus.DEAD).order_by("id")
        found = await (query if mail_ids is None else query.filter(id__in=mail_ids))
        if mail_ids is not None and (not mail_ids or {m.id for m in found} != set(mail_ids)):
            raise not_found("mailId", "Dead mail")
        result = Retried()
        for mail in found:
            (result.mails if sendable(mail) else result.skipped).append(mail)
        if mail_ids is not None and result.skipped:
            raise DomainError(ErrorCode.INVALID, CLEARED, "mailId")
        if not result.mails:
            return result
        root = await provider()
        now = clock.now()
        await OutboxMail.filter(id__in=[m.id for m in result.mails], status=MailStatus.DEAD).update(
            status=MailStatus.PENDING, attempts=0, next_attempt_at=now, claimed_until=None
        )
        for mail in result.mails:
            await audit.record(
                "mail.retried",
                actor=actor,
                actor_label=actor_label,
                organisation_id=root.id if root else None,
                target=mail,
                target_label=f"{mail.kind} to {mail.recipient}",
                details={"attempts": mail.attempts, "lastError": mail.last_error[:200]},
            )
            mail.status, mail.attempts, mail.next_attempt_at = MailStatus.PENDING, 0, now
    return result
