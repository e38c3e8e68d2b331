"""Subtree filters: "this organisation and everything below it", using the index
on `organisation.path`.

Paths list the ids from the root ("/1/4/9/"), so a subtree is every path that
starts with its root's path. `path__startswith` says so with `LIKE 'x%'
ESCAPE '\\'`, which SQLite never answers from an index (it does not use one for
LIKE with ESCAPE, nor for case-insensitive LIKE): at 10,000 organisations
every subtree query read the whole table (BENCHMARKS.md). On SQLite the same
set is the range `path >= '/1/4/' AND path < '/1/40'` (the last '/' raised to
the next character, '0': nothing but the subtree sorts in between under
SQLite's binary collation), which a plain index answers.

PostgreSQL keeps LIKE: a range over text is only equivalent under the "C"
collation, while LIKE is right under any; PostgreSQL answers `LIKE 'x%'` from
the index when the database collation is C (as in scripts/pg.sh), and needs a
`varchar_pattern_ops` index otherwise (see BENCHMARKS.md).
"""

from __future__ import annotations

from tortoise import connections
from tortoise.expressions import Q


def _sqlite() -> bool:
    try:
        dialect: str = connections.get("default").capabilities.dialect
    except Exception:  # noqa: BLE001 - not initialised: the portable form
        return False
    return dialect == "sqlite"


def subtree(path: str, prefix: str = "") -> Q:
    """Organisations at or below `path`; `prefix` reaches them through a relation
    (e.g. "organisation__")."""
    if path.endswith("/") and _sqlite():
        upper = path[:-1] + chr(ord("/") + 1)
        return Q(**{f"{prefix}path__gte": path, f"{prefix}path__lt": upper})
    return Q(**{f"{prefix}path__startswith": path})
