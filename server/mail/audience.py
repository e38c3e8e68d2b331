"""Who reads a mail: the brand it wears and the language it is written in.

``mail`` sits below the domains that know brands (``branding``) and people's
languages (``accounts``), so they register their lookups here at start-up;
``queue_mail`` asks ``audience_for`` once per mail. Unregistered lookups give
the server's own brand and English, which is what tests of ``mail`` alone see.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from server.core.brand import DEFAULT_BRAND, Brand
from server.core.i18n import negotiate

BrandLookup = Callable[[int | None], Awaitable[Brand]]  # organisation id → its brand
LanguageLookup = Callable[[str], Awaitable[str | None]]  # address → the person's language


@dataclass(frozen=True)
class Audience:
    brand: Brand
    language: str


async def _default_brand(organisation_id: int | None) -> Brand:
    return DEFAULT_BRAND


async def _no_language(recipient: str) -> str | None:
    return None


@dataclass
class _Lookups:
    brand: BrandLookup = _default_brand
    language: LanguageLookup = _no_language


_lookups = _Lookups()


def use_brand_lookup(lookup: BrandLookup) -> None:
    _lookups.brand = lookup


def use_language_lookup(lookup: LanguageLookup) -> None:
    _lookups.language = lookup


async def audience_for(recipient: str, organisation_id: int | None) -> Audience:
    brand = await _lookups.brand(organisation_id)
    chosen = await _lookups.language(recipient)
    return Audience(brand=brand, language=negotiate(chosen, brand.language))
