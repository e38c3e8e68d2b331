"""Relay `Node` helpers: object types whose roots are Tortoise model instances."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from strawberry.dataloader import DataLoader

from server.core.context import Info

# Ids beyond the database's integer range are simply not found.
MAX_ID = 2**31 - 1


def parse_id(node_id: str) -> int | None:
    try:
        value = int(node_id)
    except ValueError:
        return None
    return value if 0 < value <= MAX_ID else None


def parse_ids(node_ids: Iterable[str]) -> list[int | None]:
    return [parse_id(node_id) for node_id in node_ids]


async def load_visible(
    info: Info,
    loader: DataLoader[int, Any],
    node_ids: Iterable[str],
    visible: Callable[[Any], Any],
) -> list[Any]:
    """Load nodes by id; anything the actor may not see is None, exactly like a missing id."""
    if info.context.actor is None:
        return [None for _ in node_ids]
    ids = parse_ids(node_ids)
    rows = await loader.load_many([i for i in ids if i is not None])
    found = dict(zip([i for i in ids if i is not None], rows, strict=True))
    results = []
    for i in ids:
        row = found.get(i) if i is not None else None
        results.append(row if row is not None and await visible(row) else None)
    return results
