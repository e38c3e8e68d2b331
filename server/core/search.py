"""Search that finds what a list shows: any part of the displayed text.

A search is split into words; every word must occur somewhere in a row's
searchable text (its "document"), in any order, ignoring case and accents.
Documents are folded the same way on both databases (`frontdesk_fold`: accents
removed, lower case; no transliteration, so "müller" finds "Müller" and
"Muller" but not "Mueller"), and phone numbers are indexed with their digits
alone too ("+442079460000" finds "+44 20 7946 0000").

- PostgreSQL: a `pg_trgm` GIN index on each document expression (migration
  0012); a word is `document LIKE '%word%'` (`text_contains`), which the index
  answers. The members list matches a column of the membership instead
  (migration 0016, server/members/search.py), so PERSON and PERSON_EMAIL serve
  SQLite only there.
- SQLite: an FTS5 table per document with the trigram tokenizer, kept in sync
  by triggers; a word is `MATCH '"word"'` (a substring of the document).

Words of one or two characters cannot use trigrams: they match the start of a
word of the document instead (what the lists did before: "jo" finds "John"
and "Ann Jones", not "Major").

The fragments built here go into a queryset as annotations (`Sql`) whose
values are bound as parameters, never spliced into the SQL text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pypika_tortoise.context import SqlContext
from pypika_tortoise.terms import Term, ValueWrapper
from pypika_tortoise.utils import format_alias_sql
from tortoise import connections
from tortoise.models import Model
from tortoise.queryset import QuerySet

from server.core.errors import DomainError, ErrorCode
from server.core.validation import clean_text

# The annotation a searched queryset carries its rank in (core/pagination.py).
SEARCH_RANK = "search_rank"
SEARCH_HIT = "search_hit"
M = TypeVar("M", bound=Model)
MIN_TRIGRAM = 3
MAX_WORDS = 8
SEARCH_MAX = 200
PHONE_CHARACTERS = frozenset("+0123456789 ()-./")
# Letters NFKD leaves alone that PostgreSQL's unaccent maps (the common ones).
_LETTERS = str.maketrans(
    {"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ł": "l", "Ł": "l",
     "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "ß": "ss", "ı": "i"}
)  # fmt: skip


def fold(value: str | None) -> str:
    """Accents off, lower case: SQLite's `frontdesk_fold` (PostgreSQL's is
    `lower(unaccent(...))`, which agrees on the letters people type)."""
    if value is None:
        return ""
    decomposed = unicodedata.normalize("NFKD", value.translate(_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def digits(value: str | None) -> str:
    """A phone number's digits alone (SQLite's `frontdesk_digits`)."""
    return "".join(c for c in value or "" if c.isascii() and c.isdigit())


def search_words(search: str | None) -> list[str]:
    """The folded words of a search; none for an empty one. A word that looks
    like a phone number counts by its digits."""
    text = clean_text(search, field="search", max_length=SEARCH_MAX)
    words: list[str] = []
    for raw in text.split():
        word = digits(raw) if _phone_like(raw) else fold(raw)
        if word and word not in words:
            words.append(word)
    if len(words) > MAX_WORDS:
        raise DomainError(
            ErrorCode.INVALID, f"Search for at most {MAX_WORDS} words at once.", "search"
        )
    return words


def _phone_like(word: str) -> bool:
    return any(c.isdigit() for c in word) and set(word) <= PHONE_CHARACTERS


def is_sqlite() -> bool:
    return str(connections.get("default").capabilities.dialect) == "sqlite"


class Sql(Term):
    """A SQL fragment with `{}` placeholders, each bound as a parameter."""

    def __init__(self, template: str, *values: Any) -> None:
        super().__init__()
        self.template = template
        self.values = values

    def get_sql(self, ctx: SqlContext) -> str:
        bound = [ValueWrapper(value).get_sql(ctx.copy(with_alias=False)) for value in self.values]
        sql = self.template.format(*bound)
        return format_alias_sql(sql, self.alias, ctx) if ctx.with_alias else sql

    @staticmethod
    def join(separator: str, parts: list[Sql]) -> Sql:
        template = separator.join(f"({part.template})" for part in parts)
        return Sql(template, *[value for part in parts for value in part.values])


class Condition(Sql):
    """A `Sql` used only to filter: Tortoise also selects every annotation, and
    PostgreSQL evaluates `x IN (SELECT ...)` in a select list row by row
    instead of once as a hashed set (51 rows of a provider-wide search took
    10 s), so in the select list it is a constant."""

    def get_sql(self, ctx: SqlContext) -> str:
        if ctx.with_alias:
            return format_alias_sql("1", self.alias, ctx)
        return super().get_sql(ctx)


@dataclass(frozen=True)
class Document:
    """The searchable text of one table's rows: what a list shows of them.

    `expression` is the indexed SQL over the table's own columns (PostgreSQL:
    migration 0012 builds the GIN index on exactly this expression); `fts` and
    `column` name the SQLite FTS5 table (rowid = the row's id) and its column.
    """

    table: str
    expression: str
    fts: str
    column: str

    def contains(self, key: str, word: str) -> Sql:
        """`key` (a column holding this table's id) is a row whose document
        contains the word (or, for a short word, has a word starting with it)."""
        short = len(word) < MIN_TRIGRAM
        if is_sqlite():
            if short:
                rows = f"SELECT rowid FROM {self.fts} WHERE (' ' || {self.column}) LIKE {{}} ESCAPE '\\'"
                return Sql(f"{key} IN ({rows})", "% " + _like_escape(word) + "%")
            phrase = '"' + word.replace('"', '""') + '"'
            query = phrase if self.column == "doc" else f"{self.column} : {phrase}"
            return Sql(
                f"{key} IN (SELECT rowid FROM {self.fts} WHERE {self.fts} MATCH {{}})", query
            )
        where = text_contains(self.expression, word)
        return Sql(
            f'{key} IN (SELECT "id" FROM "{self.table}" WHERE {where.template})', *where.values
        )


def text_contains(expression: str, word: str) -> Sql:
    """PostgreSQL: the folded text `expression` contains the word (a trigram
    index on the expression answers it), or for a short word has a word
    starting with it."""
    if len(word) < MIN_TRIGRAM:
        return Sql(f"(' ' || {expression}) LIKE {{}} ESCAPE '\\'", "% " + _like_escape(word) + "%")
    return Sql(f"{expression} LIKE {{}} ESCAPE '\\'", "%" + _like_escape(word) + "%")


def _like_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def all_words(words: list[str], match: Callable[[str], Sql]) -> Sql:
    """Every word matches (`match(word)` says where a word may occur)."""
    return Sql.join(" AND ", [match(word) for word in words])


def _equal_to(exact: list[str], phrase: str) -> Sql:
    return Sql(" OR ".join(f"{e} = {{}}" for e in exact), *([phrase] * len(exact)))


def _starting_with(prefix: list[str], phrase: str) -> Sql:
    starts = _like_escape(phrase) + "%"
    begins = " OR ".join(f"{e} LIKE {{}} ESCAPE '\\'" for e in prefix)
    return Sql(begins, *([starts] * len(prefix)))


def rank_case(exact: list[str], prefix: list[str], phrase: str) -> Sql:
    """0 when one of the `exact` (folded SQL expressions) is the whole search,
    1 when one starts with it, else 2: best matches first."""
    equal, begins = _equal_to(exact, phrase), _starting_with(prefix, phrase)
    return Sql(
        f"CASE WHEN {equal.template} THEN 0 WHEN {begins.template} THEN 1 ELSE 2 END",
        *equal.values,
        *begins.values,
    )


def rank_conditions(exact: list[str], prefix: list[str], phrase: str) -> tuple[Sql, Sql, Sql]:
    """The rows of `rank_case`'s 0, 1 and 2 apart, each a condition an index of
    its own can answer (an expression of `exact` or `prefix` may be NULL: the
    CASE counts that as no)."""
    equal, begins = _equal_to(exact, phrase), _starting_with(prefix, phrase)
    return (
        equal,
        Sql(f"({begins.template}) AND NOT COALESCE({equal.template}, FALSE)", *begins.values,
            *equal.values),
        Sql(f"NOT COALESCE({begins.template}, FALSE)", *begins.values),
    )  # fmt: skip


def where(queryset: QuerySet[M], name: str, condition: Sql) -> QuerySet[M]:
    """The rows of `queryset` for which `condition` holds (`name`: the annotation
    that carries it, unique in the queryset)."""
    found = Condition(f"({condition.template})", *condition.values)
    return queryset.annotate(**{name: found}).filter(**{name: True})


def fold_sql(expression: str) -> str:
    return f"frontdesk_fold({expression})"


def folded_phrase(words: list[str]) -> str:
    return " ".join(words)


# --- the documents (PostgreSQL expressions must equal migration 0012's indexes,
# except PERSON and PERSON_EMAIL, whose indexes migration 0016 dropped) ---

PERSON = Document(
    table="user",
    expression=(
        "frontdesk_fold(\"first_name\" || ' ' || \"last_name\" || ' ' || \"email\" || ' ' || "
        "\"office_phone\" || ' ' || \"mobile_phone\" || ' ' || \"fax\") || ' ' || "
        "frontdesk_digits(\"office_phone\") || ' ' || frontdesk_digits(\"mobile_phone\") || ' ' || "
        'frontdesk_digits("fax")'
    ),
    fts="user_search",
    column="doc",
)
PERSON_EMAIL = Document(
    table="user", expression='frontdesk_fold("email")', fts="user_search", column="email"
)
ORGANISATION = Document(
    table="organisation",
    expression='frontdesk_fold("name")',
    fts="organisation_search",
    column="doc",
)
CONTACT = Document(
    table="contact",
    expression=(
        "frontdesk_fold(\"first_name\" || ' ' || \"last_name\" || ' ' || \"email\" || ' ' || "
        "\"title\" || ' ' || \"office_phone\" || ' ' || \"mobile_phone\") || ' ' || "
        'frontdesk_digits("office_phone") || \' \' || frontdesk_digits("mobile_phone")'
    ),
    fts="contact_search",
    column="doc",
)
TICKET = Document(
    table="ticket",
    expression='frontdesk_fold("subject" || \' \' || "description")',
    fts="ticket_search",
    column="doc",
)
AUDIT_EVENT = Document(
    table="audit_event",
    expression=(
        "frontdesk_fold(\"actor_label\" || ' ' || \"impersonator_label\" || ' ' || "
        '"target_label" || \' \' || "action")'
    ),
    fts="audit_event_search",
    column="doc",
)


def searched(
    queryset: QuerySet[M], words: list[str], match: Callable[[str], Sql], rank: Sql | None
) -> QuerySet[M]:
    """The rows where every word matches, ranked (best first when paginated;
    without a rank, in the list's own order)."""
    found = where(queryset, SEARCH_HIT, all_words(words, match))
    return found if rank is None else found.annotate(**{SEARCH_RANK: rank})


def ranked_by(table: str, key: str, exact: list[str], prefix: list[str], phrase: str) -> Sql:
    """The rank of the row of `table` whose id is in `key` (a correlated lookup
    as "ranked"; `exact`/`prefix` are expressions over ranked."column")."""
    case = rank_case(exact, prefix, phrase)
    return Sql(
        f'(SELECT {case.template} FROM "{table}" AS "ranked" WHERE "ranked"."id" = {key})',
        *case.values,
    )
