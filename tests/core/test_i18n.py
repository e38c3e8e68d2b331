"""The translation gate: every message marked in server/ has its German, with the
same placeholders, in the catalogue of the folder it is written in."""

from __future__ import annotations

import re
import string
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from server.core.i18n import LANGUAGES, SERVER_ROOT, from_accept_language, negotiate, translator

TRANSLATED = [language for language in LANGUAGES if language != "en"]


def marked_messages() -> list[tuple[str, str, int]]:
    """(message, file relative to server/, line) of every marked message."""
    found = []
    for filename, line, message, _comments, _context in extract_from_dir(
        str(SERVER_ROOT), method_map=[("**.py", "python")]
    ):
        for text in message if isinstance(message, tuple) else (message,):
            found.append((text, filename, line))
    return found


def catalogue(path: Path, language: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=language)
    with path.open("rb") as file:
        return read_po(file, locale=language)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_gate_sees_the_mails():
    assert any(name.startswith("mail/") for _, name, _ in marked_messages())


def test_every_marked_message_is_translated():
    problems = []
    for language in TRANSLATED:
        catalogues: dict[Path, Catalog] = {}
        for message, filename, line in marked_messages():
            domain = Path(filename).parts[0]
            path = SERVER_ROOT / domain / "locale" / f"{language}.po"
            entry = catalogues.setdefault(path, catalogue(path, language)).get(message)
            where = f"server/{filename}:{line}"
            target = path.relative_to(SERVER_ROOT.parent)
            if entry is None or not entry.string or entry.fuzzy:
                problems.append(f"{where}: add {message!r} to {target}")
            elif placeholders(str(entry.string)) != placeholders(message):
                problems.append(f"{where}: the placeholders of {message!r} differ in {target}")
    assert not problems, "\n".join(problems)


def test_catalogues_hold_no_forgotten_messages():
    """A message removed from the code leaves the catalogue too (no dead translations)."""
    marked = {message for message, _, _ in marked_messages()}
    stale = []
    for language in TRANSLATED:
        for path in SERVER_ROOT.glob(f"*/locale/{language}.po"):
            stale += [
                f"{path}: {m.id!r}"
                for m in catalogue(path, language)
                if m.id and m.id not in marked
            ]
    assert not stale, "\n".join(stale)


def test_german_is_used_and_english_is_the_source():
    assert translator("de").gettext("Hello,") == "Guten Tag,"
    assert translator("en").gettext("Hello,") == "Hello,"
    assert translator("de").gettext("not a marked message") == "not a marked message"


def test_language_negotiation():
    assert negotiate(None, "de-CH") == "de"
    assert negotiate("fr", None) == "en"
    assert negotiate("EN_gb", "de") == "en"
    assert from_accept_language("fr;q=1, de;q=0.8, en;q=0.5") == "de"
    assert from_accept_language("fr, es") is None
    assert re.fullmatch(r"[a-z]{2}", negotiate())
