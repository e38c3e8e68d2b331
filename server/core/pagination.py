"""Relay cursor connections over Tortoise querysets, paged by keyset on id
(stable under inserts, one indexed query per page, plus one COUNT)."""

from __future__ import annotations

import base64
from typing import Generic, TypeVar

import strawberry
from tortoise.models import Model
from tortoise.queryset import QuerySet

from server.core.errors import DomainError, ErrorCode
from server.core.nodes import MAX_ID

DEFAULT_PAGE = 50
MAX_PAGE = 100
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
    total_count: int

    @strawberry.field
    def nodes(self) -> list[NodeType]:
        return [edge.node for edge in self.edges]


def encode_cursor(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"c:{row_id}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        row_id = int(value)
        if kind != "c" or not 0 < row_id <= MAX_ID:
            raise ValueError(cursor)
        return row_id
    except (ValueError, UnicodeError):
        raise DomainError(ErrorCode.INVALID, "Invalid cursor.", "after") from None


async def paginate(
    queryset: QuerySet[M],
    *,
    first: int | None,
    after: str | None,
    id_field: str = "id",
    newest_first: bool = False,
) -> Connection[M]:
    """One page in id order (`newest_first`: descending; `after` then pages backwards)."""
    size = DEFAULT_PAGE if first is None else first
    if size < 0 or size > MAX_PAGE:
        raise DomainError(ErrorCode.INVALID, f"`first` must be between 0 and {MAX_PAGE}.", "first")
    total = await queryset.count()
    page = queryset.order_by(f"-{id_field}" if newest_first else id_field)
    if after is not None:
        beyond = "lt" if newest_first else "gt"
        page = page.filter(**{f"{id_field}__{beyond}": decode_cursor(after)})
    rows = await page.limit(size + 1)
    has_next = len(rows) > size
    rows = rows[:size]
    edges = [Edge(cursor=encode_cursor(getattr(row, id_field)), node=row) for row in rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=total,
    )
