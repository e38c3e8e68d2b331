"""The admin app's GraphQL documents, collected into the trusted-documents
manifest ``static/admin/documents.json`` (``{sha256 hex: document}``).

The app writes its operations as JavaScript string and template literals, some
built from constants (``${USER_ERROR}``, imported or of the same module). This
finds every literal that starts like an operation (``query …{``, ``mutation
…{``, ``{ field``), puts the constants it names in their places exactly as the
browser does, and keys the text by its SHA-256, which ``static/admin/js/api.js``
computes for the string it sends. A document that cannot be known without
running the app (``${someVariable}``) stops the collection with its file and
line: write each operation out in full instead.

``frontdesk export-documents`` (``make documents``) writes the manifest;
``tests/test_trusted_documents.py`` fails when it is out of date.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from babel.messages.jslexer import Token, tokenize, unquote_string
from graphql import GraphQLError, parse

ADMIN_ROOT = Path(__file__).resolve().parent.parent / "static" / "admin"
SOURCES = ADMIN_ROOT / "js"
MANIFEST = ADMIN_ROOT / "documents.json"

# `query Name($a: T) {`, or an anonymous `{ field {` / `{ field(` (not "{m} min {s} s").
_OPERATION_START = re.compile(
    r"^\s*(?:(?:query|mutation|subscription)\b[^{}`]*\{|\{\s*(?:\w+\s*:\s*)?\w+\s*[({])"
)
_INTERPOLATION = re.compile(r"\$\{([^{}]*)\}")
_IMPORT = re.compile(r"import\s*\{([^}]*)\}\s*from\s*[\"']([^\"']+)[\"']")
_IDENTIFIER = re.compile(r"^[_$A-Za-z][_$A-Za-z0-9]*$")
_TEMPLATE_ESCAPES = {"\\": "\\", "`": "`", "$": "$", "n": "\n", "t": "\t", '"': '"', "'": "'"}


_LITERALS = ("string", "template_string")


class DocumentError(Exception):
    """A document the collection cannot know exactly: fix the app's source."""


@dataclass
class _Literal:
    module: Path
    line: int
    token: Token


def _tokens(source: str) -> list[Token]:
    # Babel's own JavaScript lexer, as server/admin_locale.py uses it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return list(tokenize(source, jsx=False, dotted=False))


def _unquote(value: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return unquote_string(value)


def _cook_template(raw: str, where: str) -> str:
    """A template literal's text between its backticks, as the browser reads it."""
    raw = raw.replace("\r\n", "\n")
    if "\\" not in raw:
        return raw
    out, i = [], 0
    while i < len(raw):
        char = raw[i]
        if char == "\\":
            escaped = raw[i + 1 : i + 2]
            if escaped not in _TEMPLATE_ESCAPES:
                raise DocumentError(f"{where}: the escape \\{escaped} is not supported here")
            out.append(_TEMPLATE_ESCAPES[escaped])
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


class _Modules:
    """Each module's constants (``const NAME = literal``) and imported names."""

    def __init__(self, sources: Path) -> None:
        self.sources = sources
        self.tokens: dict[Path, list[Token]] = {}
        self.constants: dict[Path, dict[str, _Literal | None]] = {}
        self.imports: dict[Path, dict[str, tuple[Path, str]]] = {}
        for path in sorted(sources.rglob("*.js")):
            source = path.read_text(encoding="utf-8")
            tokens = self.tokens[path] = _tokens(source)
            self.imports[path] = {
                (parts[-1] if len(parts) > 1 else parts[0]): (
                    (path.parent / module).resolve(),
                    parts[0],
                )
                for names, module in _IMPORT.findall(source)
                for name in names.split(",")
                if (parts := [p.strip() for p in name.split(" as ")]) and parts[0]
            }
            constants: dict[str, _Literal | None] = {}
            for i, token in enumerate(tokens[:-4]):
                if token.type != "name" or token.value not in ("const", "let", "var"):
                    continue
                name, equals, value, after = tokens[i + 1 : i + 5]
                number = value.type == "name" and value.value.isdigit()  # Babel's token for 50
                if equals.value != "=" or not (number or value.type in _LITERALS):
                    continue
                literal = _Literal(path, value.lineno, value)
                # Defined twice (in two functions), or built further (`+ …`): not a constant.
                simple = after.value in (";", ",", ")", "}") or after.lineno > value.lineno
                known = name.value in constants
                constants[name.value] = literal if simple and not known else None
            self.constants[path] = constants

    def value(self, module: Path, name: str, where: str, seen: frozenset[tuple[Path, str]]) -> str:
        if (module, name) in seen:
            raise DocumentError(f"{where}: ${{{name}}} refers to itself")
        seen = seen | {(module, name)}
        if name in self.imports.get(module, {}):
            origin, exported = self.imports[module][name]
            return self.value(origin, exported, where, seen)
        literal = self.constants.get(module, {}).get(name)
        if literal is None:
            raise DocumentError(
                f"{where}: ${{{name}}} is not a constant string of this module or one it "
                "imports; write the operation out in full (the manifest needs its exact text)"
            )
        return self.text(literal, seen)

    def text(self, literal: _Literal, seen: frozenset[tuple[Path, str]] = frozenset()) -> str:
        """The literal's value as the browser computes it."""
        where = f"{literal.module.relative_to(self.sources.parent)}:{literal.line}"
        raw = literal.token.value
        if literal.token.type == "name":  # a whole number
            return str(int(raw))
        if literal.token.type == "string":
            return _unquote(raw)
        cooked = _cook_template(raw[1:-1], where)

        def substitute(match: re.Match[str]) -> str:
            expression = match.group(1).strip()
            if not _IDENTIFIER.match(expression):
                raise DocumentError(
                    f"{where}: ${{{expression}}} is computed when the app runs; write the "
                    "operation out in full (the manifest needs its exact text)"
                )
            return self.value(literal.module, expression, where, seen)

        return _INTERPOLATION.sub(substitute, cooked)


def collect(sources: Path = SOURCES) -> dict[str, str]:
    """Every operation the app's modules send, by the SHA-256 (hex) of its text."""
    modules = _Modules(sources)
    documents: dict[str, str] = {}
    for path, tokens in modules.tokens.items():
        for token in tokens:
            if token.type not in ("string", "template_string"):
                continue
            start = token.value[1:]
            if not _OPERATION_START.match(start):
                continue
            literal = _Literal(path, token.lineno, token)
            text = modules.text(literal)
            try:
                parse(text, no_location=True)
            except GraphQLError as error:
                where = f"{path.relative_to(sources.parent)}:{token.lineno}"
                raise DocumentError(f"{where}: not a GraphQL document: {error.message}") from None
            documents[hashlib.sha256(text.encode()).hexdigest()] = text
    return dict(sorted(documents.items()))


def manifest_text(documents: dict[str, str]) -> str:
    return json.dumps(documents, indent=2, ensure_ascii=False) + "\n"


def write_manifest(path: Path = MANIFEST) -> int:
    """Write the manifest; returns how many documents it holds."""
    documents = collect()
    path.write_text(manifest_text(documents), encoding="utf-8")
    return len(documents)


if __name__ == "__main__":
    print(f"Wrote {MANIFEST} ({write_manifest()} documents)")
