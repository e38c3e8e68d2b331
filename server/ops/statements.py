"""Where SQL statements can be observed: the `execute_*` methods of every
Tortoise client class (SQLite and asyncpg, transaction wrappers included),
which receive each statement as text with its values apart.

Traces (server/ops/tracing.py) open a span per statement here; the statement
counts of tests/core/test_queries_count.py and bench/statements.py count here.
Nothing is wrapped until someone asks: the request path runs Tortoise's own
methods otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

EXECUTE_METHODS = (
    "execute_insert",
    "execute_query",
    "execute_query_dict",
    "execute_query_dict_with_affected",
    "execute_many",
    "execute_script",
)

# A wrapper takes one execute_* method and returns its replacement.
Wrapper = Callable[[Callable[..., Any]], Callable[..., Any]]


def load_backends() -> None:
    """Import both engines' client classes (Tortoise imports a backend only when a
    connection of its kind opens), so that wrapping them covers either database."""
    import tortoise.backends.asyncpg.client  # noqa: F401

    import server.sqlite  # noqa: F401


def client_classes() -> list[type]:
    """Every loaded Tortoise client class, with the mixins they inherit from
    (server/sqlite.py's DirectChanges defines execute_query)."""
    found: list[type] = []
    pending: list[type] = [BaseDBAsyncClient]
    while pending:
        cls = pending.pop()
        if cls not in found:
            found.append(cls)
            pending.extend(cls.__subclasses__())
    return list(dict.fromkeys(base for cls in found for base in cls.__mro__))


def execute_methods() -> Iterator[tuple[type, str, Callable[..., Any]]]:
    """(class, name, function) of every execute_* method a client class defines itself."""
    for cls in client_classes():
        for name in EXECUTE_METHODS:
            if name in vars(cls):
                yield cls, name, vars(cls)[name]


def wrap_statements(wrapper: Wrapper) -> Callable[[], None]:
    """Replace every execute_* method by `wrapper(method)`; returns what undoes it.
    An execute_* calling another runs both wrappers: the wrapper tells them apart."""
    load_backends()
    originals = list(execute_methods())
    for cls, name, function in originals:
        setattr(cls, name, wrapper(function))

    def undo() -> None:
        for cls, name, function in originals:
            setattr(cls, name, function)

    return undo


@contextmanager
def statements_wrapped(wrapper: Wrapper) -> Iterator[None]:
    undo = wrap_statements(wrapper)
    try:
        yield
    finally:
        undo()
