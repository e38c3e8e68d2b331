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


ADMIN_APP = SERVER_ROOT.parent / "static" / "admin"


def marked_messages(language: str = "de") -> list[tuple[str, str, Path]]:
    """(message, where it is written, the catalogue its translation belongs in) of
    every marked message: server/ (gettext's keywords; one catalogue per domain
    folder) and the admin app (t() and N_(); static/admin/locale)."""
    found = []
    for filename, line, message, _comments, _context in extract_from_dir(
        str(SERVER_ROOT), method_map=[("**.py", "python")]
    ):
        domain = Path(filename).parts[0]
        path = SERVER_ROOT / domain / "locale" / f"{language}.po"
        for text in message if isinstance(message, tuple) else (message,):
            found.append((text, f"server/{filename}:{line}", path))
    for filename, line, message, _comments, _context in extract_from_dir(
        str(ADMIN_APP / "js"),
        method_map=[("**.js", "javascript")],
        keywords={"t": None, "N_": None},
    ):
        path = ADMIN_APP / "locale" / f"{language}.po"
        found.append((str(message), f"static/admin/js/{filename}:{line}", path))
    return found


def catalogue(path: Path, language: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=language)
    with path.open("rb") as file:
        return read_po(file, locale=language)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_gate_sees_the_mails_and_the_admin_app():
    places = [where for _, where, _ in marked_messages()]
    assert any(where.startswith("server/mail/") for where in places)
    assert any(where.startswith("static/admin/js/") for where in places)


def test_every_marked_message_is_translated():
    problems = []
    for language in TRANSLATED:
        catalogues: dict[Path, Catalog] = {}
        for message, where, path in marked_messages(language):
            entry = catalogues.setdefault(path, catalogue(path, language)).get(message)
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
        paths = [
            *SERVER_ROOT.glob(f"*/locale/{language}.po"),
            ADMIN_APP / "locale" / f"{language}.po",
        ]
        for path in paths:
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


async def test_the_admin_app_loads_its_translations(http):
    german = await http.get("/admin/locale/de.json")
    assert german.status_code == 200
    assert german.json()["Sign out"] == "Abmelden"
    assert (await http.get("/admin/locale/en.json")).json() == {}
    assert (await http.get("/admin/locale/xx.json")).status_code == 404
