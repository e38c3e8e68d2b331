"""Relay cursor connections over Tortoise querysets, paged by keyset on id
(stable under inserts, one indexed query per page, plus one count).

A search ranks its matches (server/core/search.py): a queryset annotated with
`SEARCH_RANK` is ordered by (rank, id) and its cursors carry both, so paging
through a search neither repeats nor skips a row while rows are added.

Counting is what grows with the tree. A list may bring its own `total` (the
members list's unfiltered count is a sum of per-organisation counters); a
search counts its matches up to `SEARCH_COUNT_LIMIT` and beyond that says "at
least" (`totalCountIsExact: false`), as counting every match of a common word
among a million rows costs more than the page itself."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import strawberry
from tortoise.models import Model
from tortoise.queryset import QuerySet

from server.core.errors import DomainError, ErrorCode
from server.core.nodes import MAX_ID
from server.core.search import SEARCH_RANK, Sql

DEFAULT_PAGE = 50
MAX_PAGE = 100
# A search's totalCount is exact up to this many matches; beyond, it is this
# figure and totalCountIsExact is false ("1,000+").
SEARCH_COUNT_LIMIT = 1000
NodeType = TypeVar("NodeType")
M = TypeVar("M", bound=Model)


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeType]):
    cursor: str
    node: NodeType


@strawberry.type
class Connection(Generic[NodeType]):
    edges: list[Edge[NodeType]]
    page_info: PageInfo
    total_count: int = strawberry.field(
        description="How many there are; for a search with more than "
        f"{SEARCH_COUNT_LIMIT:,} matches, {SEARCH_COUNT_LIMIT:,} (see totalCountIsExact)."
    )
    total_count_is_exact: bool = strawberry.field(
        default=True,
        description="False when totalCount is a lower bound: a search with more matches "
        "than are counted. Show it as “1,000+”; narrow the search to count exactly.",
    )

    @strawberry.field
    def nodes(self) -> list[NodeType]:
        return [edge.node for edge in self.edges]


def encode_cursor(row_id: int, rank: int | None = None) -> str:
    text = f"c:{row_id}" if rank is None else f"r:{rank}:{row_id}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def decode_cursor(cursor: str) -> int:
    return _decode(cursor, ranked=False)[1]


def _decode(cursor: str, *, ranked: bool) -> tuple[int, int]:
    """(rank, id) of a cursor; a ranked cursor only pages a search and a plain
    one only a plain list."""
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        rank_text, _, id_text = value.rpartition(":") if ranked else ("0", "", value)
        rank, row_id = int(rank_text), int(id_text)
        if kind != ("r" if ranked else "c") or not 0 < row_id <= MAX_ID or not 0 <= rank < 10:
            raise ValueError(cursor)
        return rank, row_id
    except (ValueError, UnicodeError):
        raise DomainError(ErrorCode.INVALID, "Invalid cursor.", "after") from None


def _after_ranked(queryset: QuerySet[M], rank: Sql, after: str, id_field: str) -> QuerySet[M]:
    """Rows after (rank, id) in the order (rank, id)."""
    last_rank, last_id = _decode(after, ranked=True)
    key = f'"{queryset.model._meta.db_table}"."{id_field}"'
    keyset = Sql(
        f"({rank.template}) > {{}} OR (({rank.template}) = {{}} AND {key} > {{}})",
        *rank.values,
        last_rank,
        *rank.values,
        last_rank,
        last_id,
    )
    return queryset.annotate(search_after=keyset).filter(search_after=True)


async def _capped_count(queryset: QuerySet[M], id_field: str) -> tuple[int, bool]:
    """(matches, exact): COUNT cannot stop early, a LIMIT can."""
    ids = await queryset.limit(SEARCH_COUNT_LIMIT + 1).values_list(id_field, flat=True)
    return min(len(ids), SEARCH_COUNT_LIMIT), len(ids) <= SEARCH_COUNT_LIMIT


async def paginate(
    queryset: QuerySet[M],
    *,
    first: int | None,
    after: str | None,
    id_field: str = "id",
    newest_first: bool = False,
    total: Callable[[], Awaitable[int]] | None = None,
) -> Connection[M]:
    """One page in id order (`newest_first`: descending; `after` then pages backwards).
    `total` counts the rows when the list knows a cheaper way than COUNT."""
    size = DEFAULT_PAGE if first is None else first
    if size < 0 or size > MAX_PAGE:
        raise DomainError(ErrorCode.INVALID, f"`first` must be between 0 and {MAX_PAGE}.", "first")
    rank = queryset._annotations.get(SEARCH_RANK)
    if total is not None:
        count, exact = await total(), True
    elif isinstance(rank, Sql):
        count, exact = await _capped_count(queryset, id_field)
    else:
        count, exact = await queryset.count(), True
    if isinstance(rank, Sql):
        # A search lists its best matches first, whatever the list's own order.
        page = queryset.order_by(SEARCH_RANK, id_field)
        if after is not None:
            page = _after_ranked(page, rank, after, id_field)
    else:
        page = queryset.order_by(f"-{id_field}" if newest_first else id_field)
        if after is not None:
            beyond = "lt" if newest_first else "gt"
            page = page.filter(**{f"{id_field}__{beyond}": decode_cursor(after)})
    rows = await page.limit(size + 1)
    has_next = len(rows) > size
    rows = rows[:size]
    ranked = isinstance(rank, Sql)
    edges = [
        Edge(
            cursor=encode_cursor(
                getattr(row, id_field), getattr(row, SEARCH_RANK) if ranked else None
            ),
            node=row,
        )
        for row in rows
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=count,
        total_count_is_exact=exact,
    )
