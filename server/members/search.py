"""Searching members: what the members list shows of each, nothing more.

A member's row shows their name, email and phone numbers and their
organisation's name. A pending member (INVITED) shows only the address the
inviter typed (`User.as_invitee`), so for them only the email and the
organisation's name match, and only the email ranks: a search must never
confirm a name the list would not show.

On PostgreSQL each membership carries that text itself (`search_document` and
the ranked columns, kept by the triggers of migration 0016), so a search reads
one trigram index and ranks from the row it found. SQLite matches the person's
and the organisation's FTS5 tables (migration 0012).

On PostgreSQL a page of a search is read rank by rank (`member_rank_tiers`,
core/pagination.py's `RankTier`): the whole name or email first (their own
indexes, migration 0020), then those starting with the search (the same
indexes, by prefix), then the other matches. A row ranked 0 or 1 contains every
word of the search (the search's words, in order, start one of its fields), so
those tiers need no trigram match: the database walks them in id order when
they are common and reads them from their indexes when they are rare.
"""

from __future__ import annotations

from tortoise.queryset import QuerySet

from server.accounts.models import Membership
from server.core.pagination import RankTier
from server.core.search import (
    ORGANISATION,
    PERSON,
    PERSON_EMAIL,
    Sql,
    fold_sql,
    folded_phrase,
    is_sqlite,
    rank_case,
    rank_conditions,
    ranked_by,
    searched,
    text_contains,
    where,
)

_USER = '"membership"."user_id"'
_ORGANISATION = '"membership"."organisation_id"'
_PENDING = '"membership"."status" = \'INVITED\''
_NAME = fold_sql('trim("ranked"."first_name" || \' \' || "ranked"."last_name")')
_LAST_NAME = fold_sql('"ranked"."last_name"')
_EMAIL = fold_sql('"ranked"."email"')
# PostgreSQL: the membership's own search columns (migration 0016).
_DOCUMENT = '"membership"."search_document"'
_ROW_NAME = '"membership"."search_name"'
_ROW_LAST_NAME = '"membership"."search_last_name"'
_ROW_EMAIL = '"membership"."search_email"'


def _match(word: str) -> Sql:
    person = PERSON.contains(_USER, word)
    return Sql.join(
        " OR ",
        [
            Sql(f"NOT ({_PENDING}) AND ({person.template})", *person.values),
            PERSON_EMAIL.contains(_USER, word),
            ORGANISATION.contains(_ORGANISATION, word),
        ],
    )


# What ranks on PostgreSQL: the whole of these first, then those starting with the search.
# (The names are NULL for a pending invitation: only its email ranks.)
_ROW_EXACT = [_ROW_NAME, _ROW_EMAIL]
_ROW_PREFIX = [_ROW_NAME, _ROW_LAST_NAME, _ROW_EMAIL]


def search_members(members: QuerySet[Membership], words: list[str]) -> QuerySet[Membership]:
    phrase = folded_phrase(words)
    if not is_sqlite():
        rank = rank_case(_ROW_EXACT, _ROW_PREFIX, phrase)
        return searched(members, words, lambda word: text_contains(_DOCUMENT, word), rank)
    person = ranked_by("user", _USER, [_NAME, _EMAIL], [_NAME, _LAST_NAME, _EMAIL], phrase)
    invitee = ranked_by("user", _USER, [_EMAIL], [_EMAIL], phrase)
    rank = Sql(
        f"CASE WHEN {_PENDING} THEN {invitee.template} ELSE {person.template} END",
        *invitee.values,
        *person.values,
    )
    return searched(members, words, _match, rank)


def member_rank_tiers(
    members: QuerySet[Membership], found: QuerySet[Membership], words: list[str]
) -> list[RankTier[Membership]] | None:
    """PostgreSQL: the matches of each rank of `search_members` apart (`members`
    before the search, `found` its matches); None on SQLite, which ranks them all."""
    if is_sqlite():
        return None
    whole, starting, other = rank_conditions(_ROW_EXACT, _ROW_PREFIX, folded_phrase(words))
    # Few people have the whole search as their name: never walk the table for them.
    exact = where(members, "search_whole", whole).annotate(
        search_order=Sql('"membership"."id" + 0')
    )
    return [
        RankTier(exact, order="search_order"),
        RankTier(where(members, "search_starting", starting)),
        RankTier(where(found, "search_other", other)),
    ]
