"""Relay cursor connections over Tortoise querysets, paged by keyset on id
(stable under inserts, one indexed query per page, plus one count).

A list sorted by something else (a `SortKey`: last updated, a workflow order)
pages by (that value, id): its cursors carry both and the key's name, so a
cursor pages only the order it came from.

A search ranks its matches (server/core/search.py): a queryset annotated with
`SEARCH_RANK` is ordered by (rank, id) and its cursors carry both, so paging
through a search neither repeats nor skips a row while rows are added.

Ranking every match costs as much as the matches: a common name among a million
people is tens of thousands of rows to rank for a page of 50. A search whose
database can answer each rank from an index of its own (the members search on
PostgreSQL) brings its `RankTier`s instead: the page reads the best rank in id
order, then the next, and stops when it is full (in one statement), and only
those rows are ranked.

Counting is what grows with the tree. A list may bring its own `total` (the
members list's unfiltered count is read from per-organisation or per-subtree
counters); a
search counts its matches up to `SEARCH_COUNT_LIMIT` and beyond that says "at
least" (`totalCountIsExact: false`), as counting every match of a common word
among a million rows costs more than the page itself. The count runs while the
page is read (on PostgreSQL on a connection of its own), and a list that knows
`totalCount` is not selected does not count at all."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import strawberry
from pypika_tortoise.context import SqlContext
from pypika_tortoise.terms import Term
from tortoise.expressions import Q, Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet, ValuesQuery

from server.core.errors import DomainError, ErrorCode
from server.core.nodes import MAX_ID
from server.core.search import SEARCH_RANK, Sql

DEFAULT_PAGE = 50
MAX_PAGE = 100
# A search's totalCount is exact up to this many matches; beyond, it is this
# figure and totalCountIsExact is false ("200+"): finding 1,001 matches of a
# common word in a reseller's subtree cost twice as much as finding 201 (BENCHMARKS.md).
SEARCH_COUNT_LIMIT = 200
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


class _Count:
    """A list's (count, exact), counted once: beside the page, or on first use
    when the list was told nobody asks (`paginate(counted=False)`)."""

    def __init__(self, count: Callable[[], Coroutine[Any, Any, tuple[int, bool]]]) -> None:
        self._count = count
        self._task: asyncio.Future[tuple[int, bool]] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._count())

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def result(self) -> tuple[int, bool]:
        self.start()
        assert self._task is not None
        return await self._task


@strawberry.type
class Connection(Generic[NodeType]):
    edges: list[Edge[NodeType]]
    page_info: PageInfo
    total: strawberry.Private[_Count]

    @strawberry.field(
        description="How many there are; for a search with more than "
        f"{SEARCH_COUNT_LIMIT:,} matches, {SEARCH_COUNT_LIMIT:,} (see totalCountIsExact)."
    )
    async def total_count(self) -> int:
        return (await self.total.result())[0]

    @strawberry.field(
        description="False when totalCount is a lower bound: a search with more matches "
        "than are counted. Show it as “200+”; narrow the search to count exactly.",
    )
    async def total_count_is_exact(self) -> bool:
        return (await self.total.result())[1]

    @strawberry.field
    def nodes(self) -> list[NodeType]:
        return [edge.node for edge in self.edges]


@dataclass(frozen=True)
class SortKey(Generic[M]):
    """An order before the id, for keyset paging. A row's position is an int, or
    with `textual` a string (`position(row)`, what its cursor carries);
    `beyond(position, row_id)` is the filter for the rows after that one in
    `order_by`, and raises ValueError for a position that cannot be.
    `annotations` are what `order_by` needs (a CASE)."""

    name: str
    order_by: tuple[str, ...]
    position: Callable[[M], int | str]
    beyond: Callable[[Any, int], Q]
    annotations: dict[str, Term] = field(default_factory=dict)
    textual: bool = False


@dataclass(frozen=True)
class RankTier(Generic[M]):
    """The matches of one rank of a search (the first tier rank 0, and so on), in
    the order of `order`: the id, or an annotation equal to it that keeps the
    database off the primary key's order (for a rank that is small, where
    walking every row in id order to find its few would be the slow plan)."""

    rows: QuerySet[M]
    order: str = "id"


def _encode_keyed(key: SortKey[Any], row: Any) -> str:
    text = f"k:{key.name}:{key.position(row)}:{row.id}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def _after_keyed(queryset: QuerySet[M], key: SortKey[M], after: str) -> QuerySet[M]:
    try:
        text = base64.urlsafe_b64decode(after.encode()).decode()
        kind, name, rest = text.split(":", 2)
        position, row_id = rest.rsplit(":", 1)  # a textual position may hold colons
        last_id = int(row_id)
        if kind != "k" or name != key.name or not 0 < last_id <= MAX_ID:
            raise ValueError(after)
        return queryset.filter(key.beyond(position if key.textual else int(position), last_id))
    except (ValueError, UnicodeError, OverflowError):
        raise DomainError(ErrorCode.INVALID, "Invalid cursor.", "after") from None


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


class _FirstOfTiers(Term):
    """The first `limit` ids of the tiers read in turn, as a subquery for
    `id__in`: UNION ALL stops reading once it has them, so a later tier is never
    read when the earlier ones fill the page."""

    def __init__(self, tiers: list[ValuesQuery[Any]], limit: int) -> None:
        super().__init__()
        self.tiers, self.limit = tiers, limit

    def get_sql(self, ctx: SqlContext) -> str:
        inner = ctx.copy(with_alias=False)
        parts = " UNION ALL ".join(f"({Subquery(tier).get_sql(inner)})" for tier in self.tiers)
        # The limit is an int: nothing from a request is spliced in.
        return f"(SELECT * FROM ({parts}) AS tiers LIMIT {self.limit:d})"  # noqa: S608


def _tiered(
    queryset: QuerySet[M], rank: Sql, tiers: list[RankTier[M]], size: int, after: str | None,
    id_field: str,
) -> QuerySet[M]:  # fmt: skip
    """The page of a search from its tiers: the first size + 1 ids rank by rank,
    then only those rows ranked and ordered."""
    last_rank, last_id = _decode(after, ranked=True) if after is not None else (0, 0)
    reads: list[ValuesQuery[Any]] = []
    for rank_of_tier, tier in enumerate(tiers):
        if rank_of_tier < last_rank:
            continue
        rows = tier.rows
        if rank_of_tier == last_rank and after is not None:
            rows = rows.filter(**{f"{id_field}__gt": last_id})
        reads.append(rows.order_by(tier.order).limit(size + 1).values(id_field))
    first = _FirstOfTiers(reads, size + 1)
    return (
        queryset.model.filter(**{f"{id_field}__in": first})
        .annotate(**{SEARCH_RANK: rank})
        .order_by(SEARCH_RANK, id_field)
    )


async def paginate(
    queryset: QuerySet[M],
    *,
    first: int | None,
    after: str | None,
    id_field: str = "id",
    newest_first: bool = False,
    key: SortKey[M] | None = None,
    total: Callable[[], Awaitable[int]] | None = None,
    tiers: list[RankTier[M]] | None = None,
    counted_rows: QuerySet[M] | None = None,
    counted: bool = True,
    load: Callable[[list[M]], Awaitable[object]] | None = None,
) -> Connection[M]:
    """One page in id order (`newest_first`: descending; `after` then pages backwards),
    or in `key`'s order (a search lists its best matches first either way).
    `total` counts the rows when the list knows a cheaper way than COUNT;
    `tiers` are a ranked search's matches rank by rank (`RankTier`), and
    `counted_rows` its matches again, written for an index that counts them sooner.
    The count runs beside the page and `load` (what the page's rows need from
    elsewhere); `counted=False` (totalCount is not selected) counts only if asked."""
    size = DEFAULT_PAGE if first is None else first
    if size < 0 or size > MAX_PAGE:
        raise DomainError(ErrorCode.INVALID, f"`first` must be between 0 and {MAX_PAGE}.", "first")
    rank = queryset._annotations.get(SEARCH_RANK)
    ranked = isinstance(rank, Sql)

    async def count() -> tuple[int, bool]:
        if total is not None:
            return await total(), True
        if ranked:
            return await _capped_count(queryset if counted_rows is None else counted_rows, id_field)
        return await queryset.count(), True

    if isinstance(rank, Sql) and tiers is not None:
        page = _tiered(queryset, rank, tiers, size, after, id_field)
    elif isinstance(rank, Sql):
        # A search lists its best matches first, whatever the list's own order.
        page = queryset.order_by(SEARCH_RANK, id_field)
        if after is not None:
            page = _after_ranked(page, rank, after, id_field)
    elif key is not None:
        page = queryset.annotate(**key.annotations).order_by(*key.order_by)
        if after is not None:
            page = _after_keyed(page, key, after)
    else:
        page = queryset.order_by(f"-{id_field}" if newest_first else id_field)
        if after is not None:
            beyond = "lt" if newest_first else "gt"
            page = page.filter(**{f"{id_field}__{beyond}": decode_cursor(after)})
    counting = _Count(count)
    if counted:
        counting.start()
    try:
        rows = await page.limit(size + 1)
        has_next = len(rows) > size
        rows = rows[:size]
        if load is not None:
            await load(rows)
        if counted:
            await counting.result()
    except BaseException:
        counting.cancel()
        raise
    edges = [
        Edge(
            cursor=_encode_keyed(key, row)
            if key is not None and not ranked
            else encode_cursor(
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
        total=counting,
    )
