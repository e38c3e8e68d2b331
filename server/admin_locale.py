"""The admin app's translations: gettext catalogues in ``static/admin/locale/<language>.po``.

The app marks its text with ``t("…")``, ``tx("…")``, ``tn("…", "…", n)`` and ``N_("…")``
(``static/admin/js/i18n.js``); a message id is the English text, so English needs no
catalogue. ``extract`` finds the marked messages with Babel's JavaScript extractor,
``update_catalogues`` merges them into the ``.po`` files (``make translations``), and
``/admin/locale/<language>.json`` serves one catalogue to the browser, read once per
process. ``tests/test_admin_translations.py`` fails when a message lacks a translation.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Collection, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.jslexer import Token, tokenize, unquote_string
from babel.messages.pofile import read_po, write_po
from starlette.requests import Request
from starlette.responses import Response

ADMIN_ROOT = Path(__file__).resolve().parent.parent / "static" / "admin"
SOURCES = ADMIN_ROOT / "js"
LOCALE_DIR = ADMIN_ROOT / "locale"
KEYWORDS = {"t": None, "tx": None, "tn": (1, 2), "N_": None}


_TEMPLATE_EXPRESSION = re.compile(r"\$\{((?:[^{}]|\{[^{}]*\})*)\}")


def _tokens(source: str, lineno: int = 1) -> list[Token]:
    return list(tokenize(source, jsx=False, dotted=False, lineno=lineno))


def _marked(tokens: list[Token], keywords: Collection[str]) -> Iterator[tuple[int, str, Any]]:
    """Every ``keyword("…")`` / ``tn("…", "…", …)`` call, nested ones too (Babel's
    ``extract_javascript`` skips a call inside another marked call's arguments, as in
    ``tx("… {link}", {link: h("a", {}, t("Sign in"))})``), and those in template strings."""
    for i, token in enumerate(tokens):
        if token.type == "template_string":
            for expression in _TEMPLATE_EXPRESSION.findall(token.value):
                yield from _marked(_tokens(expression, token.lineno), keywords)
            continue
        if token.type != "name" or token.value not in keywords:
            continue
        if i and tokens[i - 1].value in (".", "function"):
            continue  # a method of something else, or i18n.js defining the function
        following = tokens[i + 1 : i + 5]
        if len(following) < 2 or following[0].value != "(" or following[1].type != "string":
            continue
        first = unquote_string(following[1].value)
        if KEYWORDS.get(token.value):  # (1, 2): singular and plural
            if len(following) < 4 or following[3].type != "string":
                continue
            yield token.lineno, token.value, (first, unquote_string(following[3].value))
        else:
            yield token.lineno, token.value, first


def extract_admin_js(
    fileobj: Any,  # Babel's _FileObj | IO[bytes]
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, Any, Any, Any]]:  # what extract_from_file takes
    """A Babel extraction method for the admin app's modules."""
    source = fileobj.read().decode(options.get("encoding", "utf-8"))
    # Babel's own JavaScript lexer, which its module now calls an implementation detail
    # (deprecated in 2.x, which pyproject pins; still what extract_javascript runs on).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        found = list(_marked(_tokens(source), keywords))
    for lineno, keyword, message in found:
        yield lineno, keyword, message, []


def extract(sources: Path = SOURCES) -> Catalog:
    """The messages the app's JavaScript marks, as a template catalogue."""
    template = Catalog(project="Frontdesk admin", fuzzy=False)
    for path in sorted(sources.rglob("*.js")):
        relative = path.relative_to(sources.parent).as_posix()
        for line, message, _comments, _context in extract_from_file(
            extract_admin_js, path, keywords=KEYWORDS
        ):
            template.add(message, locations=[(relative, line)])
    return template


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / f"{language}.po"


def read_catalogue(language: str) -> Catalog:
    with catalogue_path(language).open("rb") as file:
        return read_po(file, locale=language)


def update_catalogues() -> list[Path]:
    """Merge the extracted messages into every catalogue: new ones arrive empty,
    changed ones fuzzy, removed ones go. Returns the files written."""
    template = extract()
    written = []
    for path in sorted(LOCALE_DIR.glob("*.po")):
        catalogue = read_catalogue(path.stem)
        created = catalogue.creation_date  # kept: a date that changes each run is noise in diffs
        catalogue.update(template, no_fuzzy_matching=False)
        catalogue.creation_date = created
        catalogue.obsolete.clear()  # the file keeps what the app says now, nothing else
        with path.open("wb") as file:
            # No line numbers: every app change would renumber them and branches would conflict.
            write_po(file, catalogue, width=100, include_lineno=False)
        written.append(path)
    return written


@cache
def catalogue_json(language: str) -> bytes | None:
    """``{"language", "messages": {msgid: msgstr | [plural forms]}}``; only finished
    translations (neither empty nor fuzzy). None when there is no such catalogue."""
    if language == "en":
        return orjson.dumps({"language": "en", "messages": {}})
    if not language.isalpha() or not catalogue_path(language).is_file():
        return None
    messages: dict[str, str | list[str]] = {}
    for message in read_catalogue(language):
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, (tuple, list)):
            forms = [str(form or "") for form in message.string or ()]
            if forms and all(forms):
                messages[str(message.id[0])] = forms
        elif isinstance(message.string, str) and message.string:
            messages[message.id] = message.string
    return orjson.dumps({"language": language, "messages": messages})


async def catalogue_endpoint(request: Request) -> Response:
    body = catalogue_json(request.path_params["language"])
    if body is None:
        return Response("No such language.", status_code=404, media_type="text/plain")
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    # Revalidated on each load (a new release may change it); unchanged is a 304.
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


if __name__ == "__main__":  # make translations
    for written in update_catalogues():
        print(f"updated {written.relative_to(ADMIN_ROOT.parent.parent)}")
