"""Contact persons: list and search, create, update, delete, invite.

The field guard has already checked CONTACTS_VIEW / CONTACTS_MANAGE (or
MEMBERS_MANAGE for invitations) in the contact's organisation; these
functions validate input and keep the audit trail.
"""

from __future__ import annotations

from typing import Any

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from server.accounts.models import Membership, User, UserStatus
from server.audit import service as audit
from server.contacts.models import Contact, ContactKind
from server.core.actor import Actor
from server.core.errors import DomainError, ErrorCode, graphql_name, not_found
from server.core.permissions import Role
from server.core.search import CONTACT, fold_sql, folded_phrase, ranked_by, search_words, searched
from server.core.validation import clean_phone, clean_text, normalise_email
from server.invitations.models import Invitation
from server.invitations.service import invite_user
from server.tenancy.models import Organisation

NOTES_MAX = 2000
TEXT_FIELDS = ("first_name", "last_name", "title")
PHONE_FIELDS = ("office_phone", "mobile_phone")
# What an invitation copies onto a new person's profile.
PROFILE_FIELDS = ("title", "office_phone", "mobile_phone")


# What a contact's search ranks by (server/core/search.py).
_CONTACT = '"contact"."id"'
_NAME = fold_sql('trim("ranked"."first_name" || \' \' || "ranked"."last_name")')
_LAST_NAME = fold_sql('"ranked"."last_name"')
_EMAIL = fold_sql('"ranked"."email"')


def contacts_of(
    organisation: Organisation, *, search: str | None = None, kind: ContactKind | None = None
) -> QuerySet[Contact]:
    contacts = Contact.filter(organisation_id=organisation.id)
    if kind is not None:
        contacts = contacts.filter(kind=kind)
    words = search_words(search)
    if words:
        contacts = searched(
            contacts,
            words,
            lambda word: CONTACT.contains(_CONTACT, word),
            ranked_by(
                "contact",
                _CONTACT,
                [_NAME, _EMAIL],
                [_NAME, _LAST_NAME, _EMAIL],
                folded_phrase(words),
            ),
        )
    return contacts


def _clean(name: str, value: Any) -> Any:
    field = graphql_name(name)
    if name in TEXT_FIELDS:
        return clean_text(value, field=field)
    if name in PHONE_FIELDS:
        return clean_phone(value, field=field)
    if name == "email":
        return normalise_email(value, field=field) if (value or "").strip() else ""
    if name == "notes":
        return clean_text(value, field=field, max_length=NOTES_MAX, multiline=True)
    if name == "kind":
        if value is None:
            raise DomainError(ErrorCode.REQUIRED, "Choose a kind of contact.", field)
        return value
    raise ValueError(name)


def _check_named(values: dict[str, Any]) -> None:
    if not (values.get("first_name") or values.get("last_name")):
        raise DomainError(ErrorCode.REQUIRED, "Give the contact a first or last name.", "firstName")


def _snapshot(contact: Contact, names: Any) -> dict[str, Any]:
    return {graphql_name(n): _plain(getattr(contact, n)) for n in names}


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


async def create_contact(
    *, actor: Actor, organisation: Organisation, values: dict[str, Any]
) -> Contact:
    cleaned = {name: _clean(name, value) for name, value in values.items()}
    _check_named(cleaned)
    async with in_transaction():
        contact = await Contact.create(organisation_id=organisation.id, **cleaned)
        await audit.record(
            "contact.created",
            actor=actor,
            organisation_id=organisation.id,
            target=contact,
            target_label=contact.display_name,
            details={"after": _snapshot(contact, cleaned)},
        )
    return contact


async def update_contact(*, actor: Actor, contact_id: int, changes: dict[str, Any]) -> Contact:
    cleaned = {name: _clean(name, value) for name, value in changes.items()}
    async with in_transaction():
        contact = await Contact.get_or_none(id=contact_id)
        if contact is None:
            raise not_found("contactId", "Contact")
        before = _snapshot(contact, cleaned)
        for name, value in cleaned.items():
            setattr(contact, name, value)
        _check_named({n: getattr(contact, n) for n in ("first_name", "last_name")})
        if cleaned:
            await contact.save(update_fields=[*cleaned, "updated_at"])
            await audit.record(
                "contact.updated",
                actor=actor,
                organisation_id=contact.organisation_id,
                target=contact,
                target_label=contact.display_name,
                details={"before": before, "after": _snapshot(contact, cleaned)},
            )
    return contact


async def delete_contact(*, actor: Actor, contact_id: int) -> None:
    async with in_transaction():
        contact = await Contact.get_or_none(id=contact_id)
        if contact is None:
            raise not_found("contactId", "Contact")
        await audit.record(
            "contact.deleted",
            actor=actor,
            organisation_id=contact.organisation_id,
            target=contact,
            target_label=contact.display_name,
            details={"before": _snapshot(contact, ("kind", *TEXT_FIELDS, "email"))},
        )
        await contact.delete()


async def invite_contact(*, actor: Actor, contact_id: int, role: Role) -> Invitation:
    """Invite the contact as a user, with the contact's details filled in; the
    contact is linked to the user the invitation creates (or finds)."""
    contact = await Contact.get_or_none(id=contact_id)
    if contact is None:
        raise not_found("contactId", "Contact")
    if not contact.email:
        raise DomainError(
            ErrorCode.REQUIRED, "Add an email address to this contact first.", "contactId"
        )
    organisation = await Organisation.get(id=contact.organisation_id)
    async with in_transaction():
        invitation = await invite_user(
            actor=actor,
            organisation=organisation,
            email=contact.email,
            role=role,
            first_name=contact.first_name,
            last_name=contact.last_name,
        )
        membership = await Membership.get(id=invitation.membership_id)
        user = await User.get(id=membership.user_id)
        if user.status is UserStatus.INVITED:
            # Someone who never signed up: their profile is the contact's.
            profile = {n: getattr(contact, n) for n in PROFILE_FIELDS if not getattr(user, n)}
            if profile:
                await User.filter(id=user.id).update(**profile)
        await Contact.filter(id=contact.id).update(user_id=user.id)
        await audit.record(
            "contact.invited",
            actor=actor,
            organisation_id=organisation.id,
            target=contact,
            target_label=contact.display_name,
            subject_user_id=user.id,
            details={"role": role.value, "invitation": audit.ref(invitation, contact.email)},
        )
    return invitation
