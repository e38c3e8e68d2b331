"""Mail transports: SMTP (one connection per batch) and .eml files for development.

A transport is an async context manager that opens one connection for a batch
and sends messages over it. Errors are classified into
``TemporaryMailError`` (retry later) and ``PermanentMailError`` (dead letter).
"""

from __future__ import annotations

import asyncio
import binascii
import email.policy
import logging
import os
import re
import secrets
import ssl
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

import aiosmtplib

from server.core import clock
from server.mail.models import OutboxMail
from server.mail.outbox import check_recipient, check_subject, has_control_characters
from server.mail.sealed import bodies
from server.settings import Settings

logger = logging.getLogger(__name__)

SECURITY_MODES = ("starttls", "tls", "none")
_LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}
_LINK = re.compile(r"https?://[^\s<>\"']+")


class MailError(Exception):
    """A delivery failure. ``str(exc)`` is safe to store (no credentials)."""


class TemporaryMailError(MailError):
    """Retry later (4xx replies, timeouts, connection problems).

    ``connection_lost``: the connection is gone, so the rest of the batch
    cannot be sent over it.
    """

    def __init__(self, message: str, *, connection_lost: bool = False) -> None:
        super().__init__(message)
        self.connection_lost = connection_lost


class PermanentMailError(MailError):
    """Never retry (5xx replies, unusable message)."""


class MailTransport(Protocol):
    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def send(self, message: EmailMessage) -> None: ...


def sender(mail: OutboxMail, settings: Settings) -> str:
    """The From the row was queued with (its organisation's verified sender, or the
    default then); rows queued before brands existed use today's default."""
    return mail.mail_from or settings.mail_from


def build_message(mail: OutboxMail, settings: Settings) -> EmailMessage:
    """The MIME message for one outbox row (multipart/alternative, text then HTML)."""
    check_recipient(mail.recipient)
    check_subject(mail.subject)
    mail_from = sender(mail, settings)
    if any(map(has_control_characters, (mail.message_id, mail_from, settings.mail_from))):
        raise ValueError("Mail headers contain control characters.")
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = mail_from
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(mail.created_at or clock.now())
    message["Auto-Submitted"] = "auto-generated"
    text, html = bodies(mail)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def wire_message(mail: OutboxMail, settings: Settings) -> tuple[str, str, bytes] | None:
    """(envelope sender, recipient, message bytes) of the same message as
    `build_message`, written directly: the `email` package's header objects and
    generator cost about 3 ms of CPU per mail, this about 0.05 ms (BENCHMARKS.md).
    Both parts are quoted-printable UTF-8, so the result is 7-bit clean. None when
    an address is not ASCII (SMTPUTF8): then `build_message` does it."""
    check_recipient(mail.recipient)
    check_subject(mail.subject)
    mail_from = sender(mail, settings)
    if any(map(has_control_characters, (mail.message_id, mail_from, settings.mail_from))):
        raise ValueError("Mail headers contain control characters.")
    # Bounces go to the operator's address; only the From header wears the brand.
    envelope_sender = parseaddr(settings.mail_from)[1]
    if not (
        mail_from.isascii()
        and settings.mail_from.isascii()
        and mail.recipient.isascii()
        and mail.message_id.isascii()
    ):
        return None
    text, html = map(_quoted_printable, bodies(mail))
    boundary = "=_" + secrets.token_hex(16)
    while boundary.encode() in text or boundary.encode() in html:  # pragma: no cover
        boundary = "=_" + secrets.token_hex(16)
    head = "".join(
        (
            _header_line("From", mail_from),
            _header_line("To", mail.recipient),
            _header_line("Subject", mail.subject),
            _header_line("Message-ID", mail.message_id),
            _header_line("Date", format_datetime(mail.created_at or clock.now())),
            "Auto-Submitted: auto-generated\r\n",
            "MIME-Version: 1.0\r\n",
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n',
        )
    )
    part = (
        '--{b}\r\nContent-Type: text/{t}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    data = b"".join(
        (
            head.encode("ascii"),
            part.format(b=boundary, t="plain").encode("ascii"),
            text,
            part.format(b=boundary, t="html").encode("ascii"),
            html,
            f"--{boundary}--\r\n".encode("ascii"),
        )
    )
    return envelope_sender, mail.recipient, data


_CRLF = "\r\n"


def _header_line(name: str, value: str) -> str:
    if value.isascii() and len(name) + len(value) < 996:
        return f"{name}: {value}\r\n"
    # RFC 2047 encoded words, folded; only the subject can get here (addresses are ASCII).
    encoded = Header(value, "utf-8", header_name=name).encode(linesep=_CRLF)
    return f"{name}: {encoded}{_CRLF}"


def _quoted_printable(text: str) -> bytes:
    """UTF-8 text as quoted-printable with CRLF line ends, ending with a line end."""
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    if not data.endswith(b"\n"):
        data += b"\n"
    return binascii.b2a_qp(data, quotetabs=False, istext=True).replace(b"\n", b"\r\n")


def first_link(message: EmailMessage) -> str | None:
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return None
    match = _LINK.search(part.get_content())
    return match.group(0) if match else None


def _response_error(code: int, text: str) -> MailError:
    message = f"{code} {text}".strip()
    if 500 <= code < 600:
        return PermanentMailError(message)
    return TemporaryMailError(message)


def classify(exc: BaseException) -> MailError:
    """Map an exception raised while sending to a temporary or permanent failure."""
    if isinstance(exc, MailError):
        return exc
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        if exc.recipients:
            first = exc.recipients[0]
            return _response_error(first.code, f"{first.message} (recipient refused)")
        return TemporaryMailError("recipients refused")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _response_error(exc.code, exc.message)
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPTimeoutError):
        return TemporaryMailError(f"{type(exc).__name__}: {exc}", connection_lost=True)
    if isinstance(exc, TimeoutError | ConnectionError | OSError):
        return TemporaryMailError(f"{type(exc).__name__}: {exc}", connection_lost=True)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        # e.g. a non-ASCII address and a server without SMTPUTF8: retrying will not help.
        return PermanentMailError(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, ValueError):
        return PermanentMailError(f"invalid message: {exc}")
    return TemporaryMailError(f"{type(exc).__name__}: {exc}")


class SMTPTransport:
    """One ``aiosmtplib.SMTP`` connection, opened on enter and reused for the batch.

    ``starttls`` requires STARTTLS: aiosmtplib 5 with ``start_tls=True`` raises
    when the server does not offer it (``start_tls=None`` would be opportunistic
    and silently fall back to clear text), so nothing is sent in clear.
    """

    def __init__(self, settings: Settings, *, tls_context: ssl.SSLContext | None = None) -> None:
        security = settings.smtp_security
        if security not in SECURITY_MODES:
            raise ValueError(f"Unknown SMTP security mode {security!r}.")
        if (
            security == "none"
            and settings.smtp_username
            and (settings.smtp_host not in _LOOPBACK_HOSTS)
        ):
            raise ValueError("Refusing to send SMTP credentials without TLS.")
        self.settings = settings
        self._tls_context = tls_context
        self._client: aiosmtplib.SMTP | None = None

    def _new_client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            timeout=s.smtp_timeout,
            use_tls=s.smtp_security == "tls",
            # True = required (raises if not offered); False = never. Not None.
            start_tls=s.smtp_security == "starttls",
            validate_certs=True,
            tls_context=self._tls_context,
            username=s.smtp_username or None,
            password=s.smtp_password or None,
        )

    async def __aenter__(self) -> Self:
        client = self._new_client()
        try:
            await client.connect()
        except Exception as exc:
            client.close()
            # Whatever went wrong (refused, TLS, STARTTLS missing, login): retry later.
            error = classify(exc)
            raise TemporaryMailError(
                f"cannot open SMTP connection to {self.settings.smtp_host}:"
                f"{self.settings.smtp_port}: {error}",
                connection_lost=True,
            ) from exc
        self._client = client
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.is_connected:
                await client.quit()
        except Exception:  # noqa: BLE001 - closing must never fail a batch
            logger.debug("SMTP QUIT failed", exc_info=True)
        finally:
            client.close()

    async def send(self, message: EmailMessage) -> None:
        client = self._client
        if client is None or not client.is_connected:
            raise TemporaryMailError("SMTP connection lost", connection_lost=True)
        to = parseaddr(str(message["To"]))[1]
        # As in `wire_message`: bounces go to the operator's address, not the brand's.
        envelope_sender = parseaddr(self.settings.mail_from)[1] or None
        try:
            await client.send_message(message, sender=envelope_sender, recipients=[to])
        except Exception as exc:
            error = classify(exc)
            if isinstance(error, TemporaryMailError) and not client.is_connected:
                error.connection_lost = True
            raise error from exc

    async def send_wire(self, sender: str, recipient: str, data: bytes) -> None:
        """Send a message already in wire form (see `wire_message`)."""
        client = self._client
        if client is None or not client.is_connected:
            raise TemporaryMailError("SMTP connection lost", connection_lost=True)
        try:
            await client.sendmail(sender, [recipient], data)
        except Exception as exc:
            error = classify(exc)
            if isinstance(error, TemporaryMailError) and not client.is_connected:
                error.connection_lost = True
            raise error from exc


def _file_name(message_id: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", message_id.strip("<> "))
    return (cleaned.strip("._") or "message")[:200] + ".eml"


class FileTransport:
    """Writes each message as ``<message-id>.eml`` into a directory (development)."""

    def __init__(self, directory: Path | str, log_links: bool) -> None:
        self.directory = Path(directory)
        self.log_links = log_links

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.directory.mkdir, mode=0o700, parents=True, exist_ok=True)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def send(self, message: EmailMessage) -> None:
        path = self.directory / _file_name(str(message["Message-ID"] or ""))
        data = message.as_bytes(policy=email.policy.SMTP)
        try:
            await asyncio.to_thread(_write_private, path, data)
        except OSError as exc:
            raise TemporaryMailError(f"cannot write {path}: {exc}") from exc
        logger.info("Mail written to %s", path)
        if self.log_links:
            link = first_link(message)
            if link:
                # Development only: the link may carry a token.
                logger.info("Mail link (development): %s", link)


def _write_private(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def transport_for(settings: Settings) -> MailTransport:
    if settings.smtp_host:
        return SMTPTransport(settings)
    return FileTransport(settings.mail_path, log_links=not settings.production)
