"""The outbox for the provider's owners: mails by status and `retryMail`."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeAlias

import strawberry
from strawberry.relay import to_base64

from server.core.context import Info
from server.core.errors import DomainError, ErrorCode, NotFoundError, Payload
from server.core.guard import Checked, Lookup, decode_id, requires
from server.core.pagination import Connection, paginate
from server.core.permissions import Permission
from server.dead_mail import service
from server.mail.models import MailStatus, OutboxMail


@strawberry.enum(name="OutboxMailStatus", description="Where a mail is in the outbox.")
class OutboxMailStatus(Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


@strawberry.type(name="OutboxMail", description="A mail in the outbox (its bodies are not shown).")
class OutboxMailType:
    kind: str
    recipient: str
    subject: str
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None

    # Resolved on the OutboxMail row itself (what `paginate` hands out).
    @strawberry.field(description="Give it to `retryMail`.")
    @staticmethod
    def id(row: strawberry.Parent[OutboxMail]) -> strawberry.ID:
        return strawberry.ID(to_base64("OutboxMail", row.id))

    @strawberry.field
    @staticmethod
    def status(row: strawberry.Parent[OutboxMail]) -> OutboxMailStatus:
        return OutboxMailStatus(row.status.value)


if TYPE_CHECKING:
    OutboxMailRow: TypeAlias = OutboxMail  # the value is the row (core/nodes.py)
else:
    OutboxMailRow = OutboxMailType


class _Provider(Lookup):
    """The provider organisation (the root of the tree): the outbox serves the
    whole installation, so only the provider's owners may read it."""

    async def __call__(self, source: Any, info: Info, kwargs: dict[str, Any]) -> Checked:
        root = await service.provider()
        if root is None:
            raise NotFoundError()
        return Checked(root, root)


def _provider_owners() -> Any:
    """People (no API token, not while impersonating) who own the provider."""
    return requires(
        Permission.OWNERSHIP_MANAGE, on=_Provider(), impersonation=False, api_tokens=False
    )


@strawberry.input
class RetryMailInput:
    mail_id: strawberry.ID | None = strawberry.field(default=None, description="One dead mail.")
    all_dead: bool = strawberry.field(
        default=False, description="Every dead mail that can still be sent."
    )


@strawberry.type
class RetryMailPayload(Payload):
    mails: list[OutboxMailRow] = strawberry.field(
        default_factory=list, description="The mails put back in the outbox, due now."
    )
    skipped: list[OutboxMailRow] = strawberry.field(
        default_factory=list,
        description="Dead mails whose link or code was cleared: send a new one instead.",
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="The installation's outbox by status (DEAD: what the worker gave up "
        "on), oldest first. The provider's owners only.",
        extensions=[_provider_owners()],
    )
    async def outbox_mails(
        self,
        info: Info,
        status: OutboxMailStatus = OutboxMailStatus.DEAD,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[OutboxMailRow]:
        mails = service.mails(MailStatus(status.value))
        return await paginate(mails, first=first, after=after)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Put a dead mail (or every dead mail) back in the outbox; audited. "
        "The provider's owners only.",
        extensions=[_provider_owners()],
    )
    async def retry_mail(self, info: Info, input: RetryMailInput) -> RetryMailPayload:
        if (input.mail_id is None) == (not input.all_dead):
            raise DomainError(ErrorCode.INVALID, "Give either mailId or allDead: true.", "mailId")
        ids = None if input.all_dead else [decode_id(input.mail_id, "OutboxMail", "input.mail_id")]
        retried = await service.retry(actor=info.context.require_actor(), mail_ids=ids)
        return RetryMailPayload(mails=retried.mails, skipped=retried.skipped)
