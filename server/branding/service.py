"""Setting an organisation's brand, verifying its sender address, and finding
the organisation a custom host name belongs to.

A new sender address is used only after someone with access to that mailbox
opened the link mailed to it (`confirm_sender`): until then mails keep going
from FRONTDESK_MAIL_FROM, so nobody can send in another company's name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.audit import service as audit
from server.branding import checks
from server.branding.models import OrganisationBrand, SenderVerification
from server.core import clock
from server.core.actor import Actor, RequestMeta
from server.core.errors import DomainError, ErrorCode, graphql_name
from server.core.tokens import hash_token, new_token
from server.mail.outbox import queue_mail
from server.settings import get_settings
from server.tenancy.models import Organisation

VERIFY_PREFIX = "fds_"
VERIFY_HOURS = 48

# The settable fields and the check each value passes ("" clears a field).
CHECKS: dict[str, Callable[[str], str]] = {
    "portal_name": checks.portal_name,
    "sender_name": checks.sender_name,
    "sender_address": checks.sender_address,
    "support_contact": checks.support_contact,
    "logo_url": checks.logo_url,
    "colour": checks.colour,
    "language": checks.language,
    "host_name": checks.host_name,
}


def _host_taken() -> DomainError:
    return DomainError(
        ErrorCode.HOST_NAME_TAKEN,
        "This host name already belongs to another organisation's portal.",
        "hostName",
    )


async def own_brand(organisation: Organisation) -> OrganisationBrand | None:
    return await OrganisationBrand.get_or_none(organisation_id=organisation.id)


async def organisation_for_host(host: str | None) -> int | None:
    """The organisation whose portal this host name reaches, if any."""
    name = checks.request_host(host)
    if name is None:
        return None
    brand = await OrganisationBrand.get_or_none(host_name=name)
    return brand.organisation_id if brand else None


async def _clean(organisation: Organisation, given: dict[str, str]) -> dict[str, str | None]:
    cleaned: dict[str, str | None] = {}
    for field, value in given.items():
        cleaned[field] = CHECKS[field](value) or None
    host = cleaned.get("host_name")
    if host is not None:
        if host == (urlsplit(get_settings().public_url).hostname or "").lower():
            raise _host_taken()  # the server's own name: every organisation's default
        if (
            await OrganisationBrand.filter(host_name=host)
            .exclude(organisation_id=organisation.id)
            .exists()
        ):
            raise _host_taken()
    return cleaned


async def set_brand(
    *, actor: Actor, organisation: Organisation, given: dict[str, str]
) -> OrganisationBrand:
    """Change the fields in `given` (an empty value clears one: it is inherited
    again). A new sender address gets a verification mail; nothing else changes
    when any value is refused."""
    cleaned = await _clean(organisation, given)
    try:
        async with in_transaction():
            brand, _ = await OrganisationBrand.get_or_create(organisation_id=organisation.id)
            resend = (
                "sender_address" in cleaned
                and cleaned["sender_address"] is not None
                and cleaned["sender_address"] == brand.sender_address
                and brand.sender_verified_at is None
            )
            changes = {k: v for k, v in cleaned.items() if getattr(brand, k) != v}
            if not changes and not resend:
                return brand
            before = {graphql_name(k): getattr(brand, k) for k in changes}
            for field, value in changes.items():
                setattr(brand, field, value)
            if "sender_address" in changes:
                brand.sender_verified_at = None
            await brand.save()
            mailed = bool(brand.sender_address) and ("sender_address" in changes or resend)
            if "sender_address" in changes or resend:
                await _request_verification(actor, organisation, brand.sender_address)
            await audit.record(
                "organisation.brand_changed",
                actor=actor,
                organisation_id=organisation.id,
                target=organisation,
                details={
                    "before": before,
                    "after": {graphql_name(k): v for k, v in changes.items()},
                    **({"verificationSentTo": brand.sender_address} if mailed else {}),
                },
            )
    except IntegrityError:
        if cleaned.get("host_name"):
            raise _host_taken() from None  # a concurrent request took the host name
        raise DomainError(  # two first brands of one organisation at once
            ErrorCode.INVALID_STATE, "The brand was changed at the same time: try again."
        ) from None
    return brand


async def _request_verification(
    actor: Actor, organisation: Organisation, address: str | None
) -> None:
    # Only the latest link works; clearing the address ends them all.
    await SenderVerification.filter(organisation_id=organisation.id, used_at=None).update(
        used_at=clock.now()
    )
    if address is None:
        return
    raw, digest = new_token(VERIFY_PREFIX)
    expires_at = clock.now() + timedelta(hours=VERIFY_HOURS)
    await SenderVerification.create(
        organisation_id=organisation.id, address=address, token_hash=digest, expires_at=expires_at
    )
    await queue_mail(
        kind="sender_verification",
        recipient=address,
        organisation_id=organisation.id,
        actor_name=actor.user.display_name,
        organisation_name=organisation.name,
        link=f"{get_settings().public_url}/admin/verify-sender#token={raw}",
        expires_at=expires_at,
    )


async def confirm_sender(*, token: str, meta: RequestMeta) -> Organisation:
    """Mark the sender address the link was mailed to as verified (once, before it expires)."""
    invalid = DomainError(
        ErrorCode.TOKEN_INVALID, "This verification link is invalid or has expired.", "token"
    )
    if not token or len(token) > 200:
        raise invalid
    async with in_transaction():
        verification = (
            await SenderVerification.filter(token_hash=hash_token(token), used_at=None)
            .select_for_update()
            .first()
        )
        if verification is None or verification.expires_at <= clock.now():
            raise invalid
        brand = (
            await OrganisationBrand.filter(organisation_id=verification.organisation_id)
            .select_for_update()
            .first()
        )
        if brand is None or brand.sender_address != verification.address:
            raise invalid  # the address was changed since: this link is for an old one
        now = clock.now()
        verification.used_at = now
        await verification.save(update_fields=["used_at"])
        brand.sender_verified_at = now
        await brand.save(update_fields=["sender_verified_at", "updated_at"])
        organisation = await Organisation.get(id=verification.organisation_id)
        await audit.record(
            "organisation.sender_verified",
            meta=meta,
            organisation_id=organisation.id,
            target=organisation,
            actor_label=verification.address,
            details={"senderAddress": verification.address},
        )
    return organisation
