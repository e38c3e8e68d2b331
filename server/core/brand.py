"""What a reseller's customers see instead of "Frontdesk".

An organisation may set any of these; its customers inherit each one from the
nearest ancestor that sets it (``server/branding`` resolves that). Mails, the
admin app's header and sign-in page, and later the OIDC pages dress themselves
with a ``Brand``; ``DEFAULT_BRAND`` is the server's own.
"""

from __future__ import annotations

from dataclasses import dataclass

PRODUCT = "Frontdesk"


@dataclass(frozen=True)
class Brand:
    portal_name: str = PRODUCT
    # Used only once verified by a mail to it; otherwise mails go from FRONTDESK_MAIL_FROM.
    sender_name: str | None = None
    sender_address: str | None = None
    support_contact: str | None = None  # an address, URL or phone number, shown as written
    logo_url: str | None = None
    colour: str | None = None  # "#rrggbb"
    language: str | None = None  # the organisation's default language for its people


DEFAULT_BRAND = Brand()
