"""Translations: gettext catalogues kept as Babel ``.po`` files, one per domain.

English is the source language: a message id *is* the English text, so English
needs no catalogue. Every domain with text a person reads keeps its German (and
any later language) in ``server/<domain>/locale/<language>.po``; this module merges
them when a language is first asked for. ``tests/core/test_i18n.py`` fails when a
marked message has no translation, naming the file to add it to.

Mark text with ``translator(language).gettext("…")`` (``ngettext`` for plurals) and
fill values in afterwards with ``str.format`` so translators see the placeholders.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("en", "de")
DEFAULT_LANGUAGE = "en"
SERVER_ROOT = Path(__file__).resolve().parent.parent


def catalogue_files(language: str) -> list[Path]:
    return sorted(SERVER_ROOT.glob(f"*/locale/{language}.po"))


def supported(language: str | None) -> str | None:
    """``"de-CH"`` → ``"de"``; ``None`` for a language we do not have."""
    if not language:
        return None
    base = language.strip().replace("_", "-").split("-", 1)[0].lower()
    return base if base in LANGUAGES else None


def negotiate(*preferences: str | None) -> str:
    """The first supported language of ``preferences`` (most specific first)."""
    for preference in preferences:
        language = supported(preference)
        if language:
            return language
    return DEFAULT_LANGUAGE


def from_accept_language(header: str | None) -> str | None:
    """The best supported language of an ``Accept-Language`` header, by q-value."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = supported(tag)
        if language and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else None


def translated_messages(path: Path, language: str) -> list[Message]:
    """The finished translations of one catalogue (none when the file is missing)."""
    if not path.exists():
        return []
    with path.open("rb") as file:
        catalogue = read_po(file, locale=language)
    return [m for m in catalogue if m.id and m.string and not m.fuzzy]


def message_table(path: Path, language: str) -> dict[str, str]:
    """{English: translation} of one catalogue (what the admin app loads)."""
    return {str(m.id): str(m.string) for m in translated_messages(path, language)}


@cache
def translator(language: str) -> NullTranslations:
    """gettext/ngettext for ``language`` (unknown languages fall back to English)."""
    if supported(language) in (None, DEFAULT_LANGUAGE):
        return NullTranslations()
    merged = Catalog(locale=language)
    for path in catalogue_files(language):
        for message in translated_messages(path, language):
            merged[message.id] = message
    buffer = io.BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return Translations(fp=buffer)
