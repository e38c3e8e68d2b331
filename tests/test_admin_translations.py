"""The admin app speaks German completely: every message its JavaScript marks with
t/tn/N_ has a finished German translation in static/admin/locale/de.po, the file
holds nothing else, and translations keep the message's {placeholders}. Plus the
route that serves a catalogue to the browser."""

from __future__ import annotations

import re

import orjson
from babel.messages.catalog import Catalog, Message

from server.admin_locale import LOCALE_DIR, catalogue_json, extract, read_catalogue

LANGUAGES = ("de",)
PLACEHOLDER = re.compile(r"\{(\w+)\}")
FIX = "run `make translations`, then translate the entries in {path} (msgstr)"


def _ids(catalogue: Catalog) -> dict[str, Message]:
    return {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalogue if m.id}


def _forms(message: Message) -> list[tuple[str, str]]:
    """(English, translation) pairs: one per plural form, the last forms against the plural."""
    if isinstance(message.id, str):
        return [(message.id, str(message.string or ""))]
    singular, plural = message.id
    strings = (
        list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]
    )
    return [(singular if i == 0 else plural, str(s or "")) for i, s in enumerate(strings)]


def test_the_app_marks_messages():
    marked = _ids(extract())
    assert len(marked) > 300, "extraction found too few messages: is i18n.js imported as t/tn/N_?"
    assert "Sign in" in marked


def test_every_message_is_translated_and_nothing_is_stale():
    marked = _ids(extract())
    for language in LANGUAGES:
        path = (LOCALE_DIR / f"{language}.po").relative_to(LOCALE_DIR.parents[2])
        fix = FIX.format(path=path)
        kept = _ids(read_catalogue(language))
        missing = sorted(marked.keys() - kept.keys())
        assert not missing, f"{len(missing)} messages are not in {path} ({fix}): {missing[:10]}"
        stale = sorted(kept.keys() - marked.keys())
        assert not stale, f"{path} keeps messages the app no longer has ({fix}): {stale[:10]}"
        fuzzy = sorted(i for i, m in kept.items() if m.fuzzy)
        assert not fuzzy, (
            f"check these fuzzy entries in {path}, then drop the fuzzy flag: {fuzzy[:10]}"
        )
        empty = sorted(i for i, m in kept.items() if not all(s for _, s in _forms(m)))
        assert not empty, f"{len(empty)} messages have no translation in {path}: {empty[:10]}"
        plural_ids = {i for i, m in marked.items() if not isinstance(m.id, str)}
        kept_plural = {i for i, m in kept.items() if not isinstance(m.id, str)}
        assert plural_ids == kept_plural, f"plural entries differ from the app's tn() calls ({fix})"


def test_translations_keep_their_placeholders():
    for language in LANGUAGES:
        wrong = []
        for message in read_catalogue(language):
            if not message.id:
                continue
            for english, translated in _forms(message):
                if not translated:
                    continue
                if set(PLACEHOLDER.findall(english)) != set(PLACEHOLDER.findall(translated)):
                    wrong.append((english, translated))
        assert not wrong, (
            f"these {language} translations drop, add or misspell a {{placeholder}} "
            f"(keep every {{name}} of the English, untranslated): {wrong[:10]}"
        )


def test_served_catalogue_has_every_translation():
    body = catalogue_json("de")
    assert body is not None
    served = orjson.loads(body)["messages"]
    assert served["Sign in"] == "Anmelden"
    assert served.keys() == _ids(read_catalogue("de")).keys()


async def test_catalogue_route(http):
    response = await http.get("/admin/locale/de.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["messages"]["Sign in"] == "Anmelden"
    again = await http.get(
        "/admin/locale/de.json", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304
    english = await http.get("/admin/locale/en.json")
    assert english.json() == {"language": "en", "messages": {}}
    for unknown in ("xx", "de-DE", "..", "DE"):
        refused = await http.get(f"/admin/locale/{unknown}.json")
        assert refused.status_code == 404, unknown
