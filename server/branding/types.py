"""GraphQL types of brands: the effective brand, where each value comes from,
what an organisation sets itself, and the brand a sign-in page shows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.dataloader import DataLoader

from server.branding.inheritance import (
    INHERITED,
    BrandRow,
    Effective,
    as_brand,
    rows_for_paths,
)
from server.branding.models import OrganisationBrand
from server.core.brand import Brand


@strawberry.enum(description="A value of a brand that customers inherit.")
class BrandField(Enum):
    PORTAL_NAME = "portal_name"
    SENDER_NAME = "sender_name"
    SENDER_ADDRESS = "sender_address"
    SUPPORT_CONTACT = "support_contact"
    LOGO_URL = "logo_url"
    COLOUR = "colour"
    LANGUAGE = "language"


assert {field.value for field in BrandField} == set(INHERITED)


@strawberry.type(name="Brand", description="What people see instead of the product's name.")
class BrandType:
    portal_name: str
    sender_name: str | None = strawberry.field(
        description="The name mails come from (the portal name when not set)."
    )
    sender_address: str | None = strawberry.field(
        description="The verified address mails come from; null: the server's default sender."
    )
    support_contact: str | None = strawberry.field(
        description="An address, URL or phone number, shown as written."
    )
    logo_url: str | None
    colour: str | None = strawberry.field(description='"#rrggbb".')
    language: str | None = strawberry.field(description="The default language of its people.")

    @classmethod
    def of(cls, brand: Brand) -> BrandType:
        return cls(
            portal_name=brand.portal_name,
            sender_name=brand.sender_name,
            sender_address=brand.sender_address,
            support_contact=brand.support_contact,
            logo_url=brand.logo_url,
            colour=brand.colour,
            language=brand.language,
        )


@strawberry.type(description="The brand a sign-in page shows (public: no sender).")
class SignInBrand:
    portal_name: str
    support_contact: str | None
    logo_url: str | None
    colour: str | None
    language: str | None

    @classmethod
    def of(cls, brand: Brand) -> SignInBrand:
        return cls(
            portal_name=brand.portal_name,
            support_contact=brand.support_contact,
            logo_url=brand.logo_url,
            colour=brand.colour,
            language=brand.language,
        )


@strawberry.type(description="One value of the effective brand and where it comes from.")
class BrandValue:
    field: BrandField
    value: str | None
    set_here: bool = strawberry.field(description="This organisation sets it itself.")
    inherited_from: str | None = strawberry.field(
        description="The name of the organisation above that sets it; null when set here "
        "or when it is the server's default."
    )


@strawberry.type(description="The brand an organisation's people see, value by value.")
class EffectiveBrand:
    effective: BrandType
    values: list[BrandValue]

    @classmethod
    def of(cls, values: dict[str, Effective], organisation_id: int) -> EffectiveBrand:
        return cls(
            effective=BrandType.of(as_brand(values)),
            values=[
                BrandValue(
                    field=BrandField(field),
                    value=found.value,
                    set_here=found.source_id == organisation_id,
                    inherited_from=found.source_name
                    if found.source_id not in (None, organisation_id)
                    else None,
                )
                for field, found in values.items()
            ],
        )


@strawberry.type(description="What an organisation sets of its brand itself; null: inherited.")
class BrandSettings:
    portal_name: str | None
    sender_name: str | None
    sender_address: str | None = strawberry.field(
        description="Set here, verified or not (see senderVerified)."
    )
    sender_verified: bool = strawberry.field(
        description="The link mailed to the sender address was opened: mails use it."
    )
    sender_verified_at: datetime | None
    support_contact: str | None
    logo_url: str | None
    colour: str | None
    language: str | None
    host_name: str | None = strawberry.field(
        description="The organisation's own host name for its portal (DNS and TLS: the operator)."
    )

    @classmethod
    def of(cls, row: OrganisationBrand | None) -> BrandSettings:
        if row is None:
            return cls(**dict.fromkeys(_SETTINGS), sender_verified=False)
        return cls(
            **{name: getattr(row, name) for name in _SETTINGS},
            sender_verified=row.sender_verified_at is not None,
        )


_SETTINGS = (*INHERITED, "sender_verified_at", "host_name")


async def _rows_by_path(paths: Sequence[str]) -> list[list[BrandRow]]:
    return await rows_for_paths(list(paths))


def brand_rows() -> DataLoader[str, list[BrandRow]]:
    """The brand rows on each organisation's path, keyed by the path (one query a level)."""
    return DataLoader(load_fn=_rows_by_path)
