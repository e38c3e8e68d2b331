"""The effective brand of an organisation: each value from the nearest
organisation on its path (itself first, the provider last) that sets it.

One query either way: given the path ("/1/4/9/"), it names the ancestors;
given only an id (a mail being queued), a join on the path prefix finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.branding.models import OrganisationBrand
from server.core.brand import DEFAULT_BRAND, Brand

# The values customers inherit, in the order an admin reads them.
INHERITED = (
    "portal_name",
    "sender_name",
    "sender_address",
    "support_contact",
    "logo_url",
    "colour",
    "language",
)
_COLUMNS = (*INHERITED, "sender_verified_at", "organisation_id")

# The organisation's own row and its ancestors' rows that set anything, with the
# path of each (to order them nearest first) and its name (to say where a value comes from).
_BY_ID = (
    "SELECT {columns}, o.name AS organisation__name, o.path AS organisation__path "
    "FROM organisation_brand b "
    "JOIN organisation o ON o.id = b.organisation_id "
    "JOIN organisation t ON t.id = {param} "
    "WHERE substr(t.path, 1, length(o.path)) = o.path"
)


@dataclass(frozen=True)
class Effective:
    """One value of the effective brand and where it comes from."""

    field: str
    value: str | None
    source_id: int | None  # the organisation that set it; None: the server's default
    source_name: str | None


BrandRow = dict[str, Any]


def _ancestor_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


async def rows_for_paths(paths: list[str]) -> list[list[BrandRow]]:
    """For each organisation path, the brand rows on it (one query for them all)."""
    ids = {pk for path in paths for pk in _ancestor_ids(path)}
    rows = await OrganisationBrand.filter(organisation_id__in=ids).values(
        *_COLUMNS, "organisation__name", "organisation__path"
    )
    return [[row for row in rows if path.startswith(row["organisation__path"])] for path in paths]


async def rows_for_id(organisation_id: int) -> list[BrandRow]:
    db = OrganisationBrand._meta.db  # the transaction's connection inside one
    param = "?" if db.capabilities.dialect == "sqlite" else "$1"
    sql = _BY_ID.format(columns=", ".join(f"b.{c}" for c in _COLUMNS), param=param)
    return list(await db.execute_query_dict(sql, [organisation_id]))


def _value(row: BrandRow, field: str) -> str | None:
    if field == "sender_address" and row["sender_verified_at"] is None:
        return None  # not verified yet: mails keep the default sender
    value = row[field]
    return str(value) if value else None


def effective(rows: list[BrandRow]) -> dict[str, Effective]:
    nearest_first = sorted(rows, key=lambda row: len(row["organisation__path"]), reverse=True)
    found: dict[str, Effective] = {}
    for field in INHERITED:
        default = getattr(DEFAULT_BRAND, field)
        found[field] = Effective(field, default, None, None)
        for row in nearest_first:
            value = _value(row, field)
            if value is not None:
                found[field] = Effective(
                    field, value, row["organisation_id"], row["organisation__name"]
                )
                break
    return found


def as_brand(values: dict[str, Effective]) -> Brand:
    return Brand(
        portal_name=values["portal_name"].value or DEFAULT_BRAND.portal_name,
        sender_name=values["sender_name"].value,
        sender_address=values["sender_address"].value,
        support_contact=values["support_contact"].value,
        logo_url=values["logo_url"].value,
        colour=values["colour"].value,
        language=values["language"].value,
    )


async def brand_for(organisation_id: int | None) -> Brand:
    """The brand mails and pages of this organisation wear (registered with
    `server.mail.audience.use_brand_lookup`)."""
    if organisation_id is None:
        return DEFAULT_BRAND
    return as_brand(effective(await rows_for_id(organisation_id)))
