from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class MailStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


class OutboxMail(Model):
    """A mail waiting to be sent, written in the transaction of the change that caused it."""

    id = fields.BigIntField(primary_key=True)
    organisation_id = fields.IntField(null=True, db_index=True)
    kind = fields.CharField(max_length=32)
    message_id = fields.CharField(max_length=255, unique=True)
    recipient = fields.CharField(max_length=254)
    # The From it is sent with: the organisation's verified sender, or "" for the
    # sending worker's FRONTDESK_MAIL_FROM.
    mail_from = fields.CharField(max_length=400, default="")
    subject = fields.CharField(max_length=255)
    text_body = fields.TextField()
    html_body = fields.TextField()
    # What grants access (an invitation or reset link, a code) is not in the bodies:
    # they hold markers, and this the values, encrypted (server/mail/sealed.py).
    # Cleared once the mail is sent or dead.
    sealed = fields.TextField(null=True)
    status = fields.CharEnumField(MailStatus, max_length=16, default=MailStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    claimed_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_mail"
        indexes = (("status", "next_attempt_at"),)
