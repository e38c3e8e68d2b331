"""Per-request DataLoaders: nested fields load in one query per level, and an
object fetched by a permission check is not fetched again by the resolver.

`loaders.by_id(Model)` loads rows by primary key; `loaders.of(factory)` any
other batch a domain defines (its `loaders.py`). Both are made on first use:
a request uses one or two, and making all of them up front cost more than
resolving a small query (BENCHMARKS.md).

Rows belong to organisations: the organisation model registers itself
(`register_organisation_model`), so that view rules can find a row's
organisation without core knowing what an organisation is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from server.core.prepared import PreparedSelect

M = TypeVar("M", bound=Model)
K = TypeVar("K")
V = TypeVar("V")

# Batches by id are the most frequent queries: their SQL is built once per model
# and batch size (server/core/prepared.py).
_BY_IDS: dict[type[Model], PreparedSelect[Any]] = {}
_organisation_model: list[type[Model]] = []


def register_organisation_model(model: type[Model]) -> None:
    _organisation_model[:] = [model]


def _by_id(model: type[M]) -> DataLoader[int, M | None]:
    prepared = _BY_IDS.get(model)
    if prepared is None:
        prepared = _BY_IDS[model] = PreparedSelect(model, lambda ids: model.filter(id__in=ids))

    async def load(ids: Sequence[int]) -> list[M | None]:
        keys = list(ids)
        if all(type(i) is int for i in keys):
            found = await prepared.fetch(keys)
        else:
            found = await model.filter(id__in=keys)
        rows = {row.pk: row for row in found}
        return [rows.get(i) for i in ids]

    return DataLoader(load_fn=load)


def now_or_later(loader: DataLoader[K, V], key: K) -> V | Awaitable[V]:
    """The value when the loader already has it, else `loader.load(key)`: a
    resolver returning it completes without an awaitable (for which graphql-core
    would gather a task per row) when the parent resolver loaded the batch first."""
    future = loader.cache_map.get(key) if loader.cache else None
    if (
        future is not None
        and future.done()
        and not future.cancelled()
        and future.exception() is None
    ):
        return future.result()
    return loader.load(key)


class Loaders:
    __slots__ = ("_made",)

    def __init__(self) -> None:
        self._made: dict[Any, DataLoader[Any, Any]] = {}

    def by_id(self, model: type[M]) -> DataLoader[int, M | None]:
        loader = self._made.get(model)
        if loader is None:
            loader = self._made[model] = _by_id(model)
        return loader

    def of(self, factory: Callable[[], DataLoader[K, V]]) -> DataLoader[K, V]:
        loader = self._made.get(factory)
        if loader is None:
            loader = self._made[factory] = factory()
        return loader

    @property
    def organisation(self) -> DataLoader[int, Any]:
        if not _organisation_model:
            raise RuntimeError("no organisation model registered (server.tenancy.models)")
        return self.by_id(_organisation_model[0])

    # core/visibility.py's `Related`: what view rules may look up.

    async def organisation_of(self, row: Any) -> Any:
        if type(row) is _organisation_model[0]:
            return row
        organisation_id = getattr(row, "organisation_id", None)
        return await self.organisation.load(organisation_id) if organisation_id else None

    async def row(self, model: type[M], pk: int) -> M | None:
        return await self.by_id(model).load(pk)
