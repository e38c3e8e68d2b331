"""How a mail is put together: one description, rendered as plain text and as HTML.

A kind of mail is a function registered with ``@mail_kind("name")`` that gets
the translator of the reader's language (``_``) and the mail's values, and
returns a ``Mail``: a subject, a greeting, paragraphs, at most one action (a
link with a label), paragraphs after it, and the reason the person receives
the mail. Every text is a translated ``str.format`` pattern (``_("Hello
{name},")``) filled in from the values: raw for the subject and the text
part, HTML-escaped for the HTML part, so no kind writes HTML or escapes
anything itself. Patterns never contain markup; a value never becomes a pattern.

The values are what the caller gave ``queue_mail`` (datetimes are shown in the
reader's language, in UTC) plus ``recipient``, ``portal`` (the brand's portal
name) and ``support`` (the brand's support contact, or ""). Every mail ends
with its reason, the support contact when the brand has one, and the portal name.

``server/mail/templates.py`` holds the kinds; a kind may also live next to the
code that sends it (import it where the service is defined, so it registers
before the first mail), its German in that folder's ``locale/de.po``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from babel.dates import format_date, format_time

from server.core.brand import DEFAULT_BRAND
from server.core.i18n import translator
from server.mail.audience import Audience

Values = Mapping[str, Any]


class Gettext(Protocol):
    def __call__(self, message: str, /) -> str: ...


def N_(message: str) -> str:  # noqa: N802 - the gettext convention extractors know
    """Marks a message for translation where it is defined; translate it where used."""
    return message


@dataclass(frozen=True)
class Action:
    label: str
    url: str  # a pattern too: usually "{link}"


@dataclass(frozen=True)
class Mail:
    subject: str
    greeting: str
    paragraphs: Sequence[str]
    reason: str
    action: Action | None = None
    after: Sequence[str] = ()
    # Text the recipient's correspondent wrote (a ticket reply): shown as written.
    quote: str | None = None
    # A list after the paragraphs, each item a value already in the reader's
    # language (never a pattern): the changes an impersonation made.
    items: Sequence[str] = ()
    values: Mapping[str, Any] = field(default_factory=dict)  # extra values the patterns use


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


MailKind = Callable[[Gettext, Values], Mail]
_KINDS: dict[str, MailKind] = {}


def mail_kind(name: str) -> Callable[[MailKind], MailKind]:
    """Register a kind of mail under ``name`` (what ``queue_mail(kind=...)`` takes)."""

    def register(kind: MailKind) -> MailKind:
        if name in _KINDS:
            raise ValueError(f"Mail kind {name!r} is registered twice.")
        _KINDS[name] = kind
        return kind

    return register


def kinds() -> frozenset[str]:
    return frozenset(_KINDS)


# Stands for a secret value put in at send time (server/mail/sealed.py); passes
# HTML escaping unchanged.
SEALED_MARKER = re.compile(r"\[sealed:[0-9a-f]{16}:[a-z_]+\]")


def check_link(link: str) -> None:
    if not link.startswith(("https://", "http://")):
        raise ValueError("Mail links must be absolute http(s) URLs.")


def greeting(_: Gettext, name: str | None) -> str:
    """ "Hello Ann," when the name is known, else "Hello,"."""
    return _("Hello {name},") if name else _("Hello,")


def _shown(value: object, language: str) -> str:
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        day = format_date(moment, "long", locale=language)
        return f"{day}, {format_time(moment, 'HH:mm', tzinfo=UTC, locale=language)} UTC"
    if value is None:
        return ""
    return str(value)


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        raise KeyError(f"mail value {key!r} is missing")


def _fill(pattern: str, values: Mapping[str, str]) -> str:
    return pattern.format_map(_Missing(values))


def render(kind: str, audience: Audience | None = None, **context: Any) -> RenderedMail:
    """Render one mail for its audience (the server's brand in English by default).
    Unknown kind or a missing value: KeyError."""
    audience = audience or Audience(brand=DEFAULT_BRAND, language="en")
    compose = _KINDS[kind]
    if "link" in context and not SEALED_MARKER.fullmatch(str(context["link"])):
        check_link(str(context["link"]))
    brand = audience.brand
    _ = translator(audience.language).gettext
    given = {
        "recipient": "",
        **context,
        "portal": brand.portal_name,
        "support": brand.support_contact or "",
    }
    mail = compose(_, given)
    raw = {key: _shown(value, audience.language) for key, value in {**given, **mail.values}.items()}
    escaped = {key: html.escape(value, quote=True) for key, value in raw.items()}
    subject = _fill(mail.subject, raw)
    footer = [mail.reason]
    if brand.support_contact:
        footer.append(_("Questions? Contact {support}."))
    return RenderedMail(
        subject=subject,
        text=_text(mail, footer, raw),
        html=_html(mail, footer, escaped, audience, html.escape(subject, quote=True)),
    )


def _text(mail: Mail, footer: list[str], raw: Mapping[str, str]) -> str:
    blocks = [_fill(mail.greeting, raw), *(_fill(p, raw) for p in mail.paragraphs)]
    if mail.items:
        blocks.append("\n".join(f"- {item}" for item in mail.items))
    if mail.quote is not None:
        blocks.append("\n".join("> " + line for line in _fill(mail.quote, raw).splitlines()))
    if mail.action is not None:
        blocks.append(f"{_fill(mail.action.label, raw)}:\n{_fill(mail.action.url, raw)}")
    blocks.extend(_fill(p, raw) for p in mail.after)
    signature = "\n".join([*(_fill(line, raw) for line in footer), raw["portal"]])
    return "\n\n".join(blocks) + "\n\n-- \n" + signature + "\n"


def _html(
    mail: Mail, footer: list[str], escaped: Mapping[str, str], audience: Audience, title: str
) -> str:
    brand = audience.brand
    colour = (
        brand.colour
        if brand.colour and re.fullmatch(r"#[0-9a-fA-F]{6}", brand.colour)
        else "#1d4ed8"
    )
    parts = [f"<p>{_fill(mail.greeting, escaped)}</p>"]
    parts.extend(f"<p>{_fill(p, escaped)}</p>" for p in mail.paragraphs)
    if mail.items:
        listed = "".join(f"<li>{html.escape(item, quote=True)}</li>" for item in mail.items)
        parts.append(f"<ul>{listed}</ul>")
    if mail.quote is not None:
        parts.append(
            '<blockquote style="white-space: pre-wrap; border-left: 3px solid #ccc; '
            f'margin: 0; padding-left: 1em">{_fill(mail.quote, escaped)}</blockquote>'
        )
    if mail.action is not None:
        parts.append(
            f'<p><a href="{_fill(mail.action.url, escaped)}" style="display: inline-block; '
            f"padding: 0.6em 1.2em; background: {colour}; color: #ffffff; "
            f'text-decoration: none; border-radius: 4px">{_fill(mail.action.label, escaped)}</a></p>'
        )
    parts.extend(f"<p>{_fill(p, escaped)}</p>" for p in mail.after)
    header = escaped["portal"]
    if brand.logo_url and brand.logo_url.startswith("https://"):
        logo = html.escape(brand.logo_url, quote=True)
        header = f'<img src="{logo}" alt="{escaped["portal"]}" style="max-height: 48px">'
    notes = "".join(f"<p>{_fill(line, escaped)}</p>" for line in footer)
    return (
        f'<!DOCTYPE html>\n<html lang="{audience.language}"><head><meta charset="utf-8">'
        f"<title>{title}</title></head>"
        '<body style="font-family: sans-serif; line-height: 1.5; color: #222">'
        f'<div style="border-bottom: 3px solid {colour}; padding-bottom: 0.5em; '
        f'font-size: 1.2em; font-weight: bold">{header}</div>'
        + "".join(parts)
        + f'<div style="color: #666; font-size: 0.9em; border-top: 1px solid #ddd">{notes}'
        f"<p>&mdash; {escaped['portal']}</p></div></body></html>\n"
    )
