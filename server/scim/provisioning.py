"""What an identity provider does to an organisation's people through SCIM,
done by the same services as the admin app, acting as the SCIM token's actor.

A SCIM User is one membership of the token's organisation: creating one
invites the person or activates them (the organisation's `scimNewPeople`
setting; someone who already has an account elsewhere is always invited, to
confirm that they join); `active` disables and enables the membership;
deleting it removes the membership, and erases the account only when it was
the person's last one. Names and the sign-in address belong to the person,
not the membership: SCIM changes them only where the token's creator may edit
the person's profile, and the address only of someone who belongs to this
organisation alone. Each call changes everything it asks or, on any refusal,
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from server.accounts.models import Membership, MembershipStatus, User
from server.audit import service as audit
from server.core.actor import Actor
from server.core.errors import DomainError, ErrorCode
from server.core.nodes import parse_id
from server.core.permissions import Role
from server.core.validation import clean_text, normalise_email
from server.invitations import service as invitations
from server.members import service as members
from server.tenancy.models import Organisation, ScimNewPeople

# The role of everyone SCIM adds (groups are not mapped to roles: README).
PROVISIONED_ROLE = Role.MEMBER
EXTERNAL_ID_MAX = 255


@dataclass(frozen=True)
class Wanted:
    """The state a client asks for. `None` leaves a value as it is, except for
    the names and externalId, which a replace clears when left out."""

    user_name: str
    given_name: str | None
    family_name: str | None
    active: bool | None
    external_id: str | None


class Conflict(DomainError):
    """The sign-in address is taken (SCIM: 409 uniqueness)."""


class Immutable(DomainError):
    """Not SCIM's to change here (SCIM: 400 mutability)."""


def people_of(organisation: Organisation, where: Q | None = None) -> QuerySet[Membership]:
    """The organisation's members (invited, active and disabled), oldest first."""
    found = Membership.filter(organisation_id=organisation.id).select_related("user")
    if where is not None:
        found = found.filter(where)
    return found.order_by("id")


async def member(organisation: Organisation, membership_id: str) -> Membership | None:
    pk = parse_id(membership_id)
    if pk is None:
        return None
    return (
        await Membership.filter(id=pk, organisation_id=organisation.id)
        .select_related("user")
        .first()
    )


def _external_id(value: str | None) -> str | None:
    cleaned = clean_text(value, field="externalId", max_length=EXTERNAL_ID_MAX)
    return cleaned or None


async def create(*, actor: Actor, organisation: Organisation, wanted: Wanted) -> Membership:
    address = normalise_email(wanted.user_name, field="userName")
    external_id = _external_id(wanted.external_id)
    user = await User.get_or_none(email=address)
    if user is not None and await Membership.exists(
        user_id=user.id, organisation_id=organisation.id
    ):
        raise Conflict(ErrorCode.ALREADY_MEMBER, "This person is already a member.", "userName")
    try:
        async with in_transaction():
            if user is None and organisation.scim_new_people is ScimNewPeople.SET_PASSWORD_LINK:
                membership = await invitations.create_user(
                    actor=actor,
                    organisation=organisation,
                    email=address,
                    role=PROVISIONED_ROLE,
                    send_set_password_link=True,
                    first_name=wanted.given_name,
                    last_name=wanted.family_name,
                )
                membership_id = membership.id
            else:
                invitation = await invitations.invite_user(
                    actor=actor,
                    organisation=organisation,
                    email=address,
                    role=PROVISIONED_ROLE,
                    first_name=wanted.given_name,
                    last_name=wanted.family_name,
                )
                if invitation.membership_id is None:  # set on every new invitation
                    raise RuntimeError("an invitation without its membership")
                membership_id = invitation.membership_id
            if external_id is not None:
                await Membership.filter(id=membership_id).update(scim_external_id=external_id)
            if wanted.active is False:
                await members.disable_member(actor=actor, membership_id=membership_id)
    except IntegrityError:  # a concurrent request added the same address
        raise Conflict(ErrorCode.EMAIL_TAKEN, "This address was just taken.", "userName") from None
    return await Membership.get(id=membership_id).select_related("user")


async def replace(*, actor: Actor, membership: Membership, wanted: Wanted) -> Membership:
    """Bring the member to `wanted` (PUT, and PATCH after applying its operations)."""
    user = membership.user
    address = normalise_email(wanted.user_name, field="userName")
    external_id = _external_id(wanted.external_id)
    names = {
        "first_name": clean_text(wanted.given_name, field="name.givenName"),
        "last_name": clean_text(wanted.family_name, field="name.familyName"),
    }
    renamed = {k: v for k, v in names.items() if getattr(user, k) != v}
    try:
        async with in_transaction():
            if address != user.email:
                await _change_address(actor, membership, user, address)
            if external_id != membership.scim_external_id:
                before = membership.scim_external_id
                await Membership.filter(id=membership.id).update(scim_external_id=external_id)
                await audit.record(
                    "scim.external_id_changed",
                    actor=actor,
                    organisation_id=membership.organisation_id,
                    target=membership,
                    subject_user_id=user.id,
                    details={
                        "before": {"externalId": before},
                        "after": {"externalId": external_id},
                    },
                )
            if renamed:
                try:
                    await members.update_member(
                        actor=actor, membership_id=membership.id, changes=dict(renamed)
                    )
                except DomainError as error:
                    if error.code in (ErrorCode.PROFILE_SHARED, ErrorCode.INVALID_STATE):
                        raise Immutable(error.code, error.message, "name") from None
                    raise
            disabled = membership.status is MembershipStatus.DISABLED
            if wanted.active is False and not disabled:
                await members.disable_member(actor=actor, membership_id=membership.id)
            elif wanted.active is True and disabled:
                await members.enable_member(actor=actor, membership_id=membership.id)
    except IntegrityError:  # a concurrent request took the address
        raise Conflict(ErrorCode.EMAIL_TAKEN, "This address is taken.", "userName") from None
    return await Membership.get(id=membership.id).select_related("user")


async def _change_address(actor: Actor, membership: Membership, user: User, address: str) -> None:
    """The sign-in address, of someone who belongs to this organisation alone (the
    identity provider is theirs to follow); anyone else changes their own."""
    if await Membership.filter(user_id=user.id).exclude(id=membership.id).exists():
        raise Immutable(
            ErrorCode.PROFILE_SHARED,
            "This person also belongs to other organisations: they change their "
            "sign-in address themselves.",
            "userName",
        )
    members.check_rank(actor, membership, await Organisation.get(id=membership.organisation_id))
    if await User.filter(email=address).exclude(id=user.id).exists():
        raise Conflict(ErrorCode.EMAIL_TAKEN, "This address already has an account.", "userName")
    before = user.email
    await User.filter(id=user.id).update(email=address)
    await audit.record(
        "scim.user_name_changed",
        actor=actor,
        organisation_id=membership.organisation_id,
        target=membership,
        target_label=address,
        subject_user_id=user.id,
        details={"before": {"email": before}, "after": {"email": address}},
    )


async def delete(*, actor: Actor, membership: Membership) -> None:
    """Remove the membership; erase the person only if it was their last one."""
    if await Membership.filter(user_id=membership.user_id).exclude(id=membership.id).exists():
        await members.remove_member(actor=actor, membership_id=membership.id)
    else:
        await members.delete_user(actor=actor, membership_id=membership.id)
