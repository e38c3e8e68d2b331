"""Inviting people: invitations by email, confirmation, and users created
with an initial password.

The invitation link carries the token in the URL fragment, which browsers
never send to a server: a mail scanner following the link consumes nothing;
only the `confirmInvitation` mutation does, once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from server.accounts.grants import Grants, checked_grants
from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.accounts.profile import clean_profile
from server.accounts.seats import claim_seat
from server.audit import service as audit
from server.auth import throttle
from server.auth.models import Session
from server.auth.people import password_words
from server.auth.sessions import create_session
from server.core import clock
from server.core.actor import Actor, RequestMeta
from server.core.errors import DomainError, ErrorCode
from server.core.passwords import check_policy, hash_password, personal_words, verify_password
from server.core.permissions import DEFAULT_TICKET_ACCESS, Role
from server.core.tokens import hash_token, new_token
from server.core.validation import clean_text, normalise_email
from server.invitations.mails import send_invitation, send_welcome
from server.invitations.models import Invitation, InvitationStatus
from server.settings import get_settings
from server.tenancy.models import Organisation, organisation_suspended

INVITATION_PREFIX = "fdi_"


def _check_role_in_reach(actor: Actor, organisation: Organisation, role: Role) -> None:
    if not actor.may_grant_role(role, organisation):
        raise DomainError(
            ErrorCode.OUT_OF_SCOPE_ROLE, "You cannot grant a role above your own.", "role"
        )


NO_GRANTS = Grants()
# What an admin may type about a person they add, besides the names.
DETAIL_FIELDS = ("title", "office_phone", "mobile_phone", "fax")


def _details(given: Mapping[str, str | None] | None) -> dict[str, str]:
    """Title and phones, checked; the ones not given are empty."""
    cleaned = clean_profile({name: value for name, value in (given or {}).items()})
    return {name: cleaned.get(name, "") for name in DETAIL_FIELDS}


# Gives the person just added the extension the admin chose (actor, membership,
# extension id), inside the adding transaction. telephony/ stands above
# invitations/ and installs it (use_extension_giver), as brands are for mails.
ExtensionGiver = Callable[[Actor, Membership, int], Awaitable[None]]


class _Telephony:
    give_extension: ExtensionGiver | None = None


def use_extension_giver(give: ExtensionGiver) -> None:
    _Telephony.give_extension = give


@dataclass(frozen=True)
class NewMemberAccess:
    """What an admin chooses for a person they add: grants and restrictions,
    emailed sign-in codes (for someone new to Frontdesk), and their extension."""

    grants: Grants
    email_two_factor: bool
    extension_id: int | None = None

    def checked(
        self, actor: Actor, organisation: Organisation, role: Role, user: User
    ) -> dict[str, object]:
        return checked_grants(
            actor, organisation, role, self.grants, signed_in=user.last_login_at is not None
        )

    async def give_extension(self, actor: Actor, membership: Membership) -> None:
        if self.extension_id is None:
            return
        if _Telephony.give_extension is None:
            raise RuntimeError("server.telephony is not loaded: no extension can be given.")
        await _Telephony.give_extension(actor, membership, self.extension_id)


async def _new_membership(
    organisation: Organisation,
    user: User,
    role: Role,
    status: MembershipStatus,
    granted: dict[str, object],
) -> Membership:
    """The role's default ticket access, then the grants chosen when adding the person."""
    membership = Membership(
        organisation=organisation,
        user=user,
        role=role,
        status=status,
        ticket_access=DEFAULT_TICKET_ACCESS[role],
    )
    for name, value in granted.items():
        setattr(membership, name, value)
    await membership.save()
    return membership


def _refuse_second_factor_for_existing_account() -> None:
    raise DomainError(
        ErrorCode.INVALID,
        "This address already has an account, whose owner chooses their second factor.",
        "emailTwoFactor",
    )


def _expiry() -> timedelta:
    return timedelta(days=get_settings().invitation_days)


async def invite_user(
    *,
    actor: Actor,
    organisation: Organisation,
    email: str,
    role: Role,
    first_name: str | None = None,
    last_name: str | None = None,
    grants: Grants = NO_GRANTS,
    email_two_factor: bool = False,
    details: Mapping[str, str | None] | None = None,
    extension_id: int | None = None,
) -> Invitation:
    """Invite a person, with the grants and restrictions chosen now (they hold from
    the first sign-in), for someone new emailed sign-in codes, and an extension of
    the organisation (theirs at once, moved from whoever had it). The title and
    phones given are kept with the invitation and become a new person's own when
    they accept; an existing person keeps theirs."""
    address = normalise_email(email)
    _check_role_in_reach(actor, organisation, role)
    names = {
        "first_name": clean_text(first_name, field="firstName"),
        "last_name": clean_text(last_name, field="lastName"),
        **_details(details),
    }
    raw, digest = new_token(INVITATION_PREFIX)
    try:
        invitation = await _create_invitation(
            actor,
            organisation,
            address,
            role,
            names,
            (raw, digest),
            NewMemberAccess(grants, email_two_factor, extension_id),
        )
    except IntegrityError:
        # A concurrent invitation of the same person won the race.
        raise DomainError(
            ErrorCode.INVITE_PENDING,
            "An invitation is already pending; resend or revoke it.",
            "email",
        ) from None
    return invitation


async def _create_invitation(
    actor: Actor,
    organisation: Organisation,
    address: str,
    role: Role,
    names: dict[str, str],
    token: tuple[str, str],
    access: NewMemberAccess,
) -> Invitation:
    raw, digest = token
    async with in_transaction():
        user = await User.get_or_none(email=address)
        if user is None:
            user = User(
                email=address,
                status=UserStatus.INVITED,
                email_two_factor=access.email_two_factor,
                **names,
            )
            await user.save()
        elif access.email_two_factor:
            _refuse_second_factor_for_existing_account()
        granted = access.checked(actor, organisation, role, user)
        membership = await Membership.get_or_none(organisation_id=organisation.id, user_id=user.id)
        if membership is not None and membership.status is not MembershipStatus.INVITED:
            raise DomainError(ErrorCode.ALREADY_MEMBER, "This person is already a member.", "email")
        if membership is None:
            await claim_seat(organisation.id)
            membership = await _new_membership(
                organisation, user, role, MembershipStatus.INVITED, granted
            )
        else:
            open_invitations = Invitation.filter(
                membership_id=membership.id, accepted_at=None, revoked_at=None
            )
            if await open_invitations.filter(expires_at__gt=clock.now()).exists():
                raise DomainError(
                    ErrorCode.INVITE_PENDING,
                    "An invitation is already pending; resend or revoke it.",
                    "email",
                )
            await open_invitations.update(revoked_at=clock.now())
            membership.role = role
            membership.ticket_access = DEFAULT_TICKET_ACCESS[role]
            for name, value in granted.items():
                setattr(membership, name, value)
            await membership.save(update_fields=["role", "ticket_access", *granted, "updated_at"])
        invitation = Invitation(
            organisation=organisation,
            membership=membership,
            email=address,
            token_hash=digest,
            invited_by=actor.user,
            expires_at=clock.now() + _expiry(),
            **{name: names[name] for name in DETAIL_FIELDS},
        )
        await invitation.save()
        await access.give_extension(actor, membership)
        await send_invitation(invitation, organisation, user, role, actor, raw)
        await audit.record(
            "invitation.created",
            actor=actor,
            organisation_id=organisation.id,
            target=invitation,
            subject_user_id=user.id,
            details={"role": role.value},
        )
    return invitation


async def _open_invitation(invitation_id: int) -> tuple[Invitation, Membership]:
    invitation = await Invitation.get(id=invitation_id)
    if invitation.status not in (InvitationStatus.PENDING, InvitationStatus.EXPIRED):
        raise DomainError(
            ErrorCode.INVALID_STATE, "This invitation was already accepted or revoked."
        )
    membership = await Membership.get(id=invitation.membership_id)
    return invitation, membership


async def resend_invitation(
    *, actor: Actor, organisation: Organisation, invitation_id: int
) -> Invitation:
    """A fresh token and expiry; the old link stops working."""
    async with in_transaction():
        invitation, membership = await _open_invitation(invitation_id)
        _check_role_in_reach(actor, organisation, membership.role)
        raw, digest = new_token(INVITATION_PREFIX)
        invitation.token_hash = digest
        invitation.expires_at = clock.now() + _expiry()
        await invitation.save(update_fields=["token_hash", "expires_at"])
        user = await User.get(id=membership.user_id)
        await send_invitation(invitation, organisation, user, membership.role, actor, raw)
        await audit.record(
            "invitation.resent",
            actor=actor,
            organisation_id=organisation.id,
            target=invitation,
            subject_user_id=membership.user_id,
        )
    return invitation


async def revoke_invitation(
    *, actor: Actor, organisation: Organisation, invitation_id: int
) -> Invitation:
    async with in_transaction():
        invitation, membership = await _open_invitation(invitation_id)
        _check_role_in_reach(actor, organisation, membership.role)
        invitation.revoked_at = clock.now()
        await invitation.save(update_fields=["revoked_at"])
        user = await User.get(id=membership.user_id)
        await membership.delete()
        await audit.record(
            "invitation.revoked",
            actor=actor,
            organisation_id=organisation.id,
            target=invitation,
            subject_user_id=user.id,
        )
        if user.status is UserStatus.INVITED and not await Membership.exists(user_id=user.id):
            await audit.pseudonymise_user(user.id)
            await user.delete()
    return invitation


def open_invitations(organisation: Organisation) -> QuerySet[Invitation]:
    """Invitations not yet accepted or revoked (expired ones included, to resend)."""
    return Invitation.filter(organisation_id=organisation.id, accepted_at=None, revoked_at=None)


async def confirm_invitation(
    *,
    token: str,
    actor: Actor | None,
    meta: RequestMeta,
    password: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
) -> tuple[Invitation, str | None, Session | None]:
    """Accept an invitation. A new person sets a password; an existing user
    proves who they are by being signed in as the invited address or by their
    password. Returns the invitation and, unless already signed in, a new session."""
    invalid = DomainError(ErrorCode.INVITE_INVALID, "This invitation link is not valid.", "token")
    invitation = await Invitation.get_or_none(token_hash=hash_token(token))
    if invitation is None or invitation.status in (
        InvitationStatus.ACCEPTED,
        InvitationStatus.REVOKED,
    ):
        raise invalid
    if invitation.status is InvitationStatus.EXPIRED:
        raise DomainError(
            ErrorCode.INVITE_EXPIRED, "This invitation has expired; ask for a new one.", "token"
        )
    organisation = await Organisation.get(id=invitation.organisation_id)
    if await organisation_suspended(organisation):
        # Nobody in or below a suspended organisation can sign in: nobody joins it either.
        raise DomainError(
            ErrorCode.INVALID_STATE,
            "This organisation is suspended; ask the person who invited you.",
            "token",
        )
    membership = await Membership.get(id=invitation.membership_id)
    user = await User.get(id=membership.user_id)
    if actor is not None and actor.user.id != user.id:
        raise DomainError(
            ErrorCode.INVITE_EMAIL_MISMATCH,
            "This invitation was sent to another email address; sign out and try again.",
            "token",
        )
    new_person = user.status is UserStatus.INVITED
    changes: dict[str, object] = {}
    if new_person:
        if not password:
            raise DomainError(ErrorCode.REQUIRED, "Choose a password.", "password")
        organisation = await Organisation.get(id=invitation.organisation_id)
        check_policy(password, user_inputs=await password_words(user, organisation.name))
        changes["first_name"] = clean_text(first_name, field="firstName") or user.first_name
        changes["last_name"] = clean_text(last_name, field="lastName") or user.last_name
        for name in DETAIL_FIELDS:  # what the inviter typed
            changes[name] = getattr(invitation, name) or getattr(user, name)
        changes["password_hash"] = await hash_password(password)
        changes["status"] = UserStatus.ACTIVE
    elif actor is None:
        if user.has_second_factor:
            # A password alone must not open a session that skips the second factor.
            raise DomainError(
                ErrorCode.SIGN_IN_REQUIRED, "Sign in first, then open the link again.", "token"
            )
        keys = throttle.keys_for(user.email, meta.client_ip)
        async with throttle.attempt(keys) as attempt:
            matches = (
                attempt.allowed and (await verify_password(user.password_hash, password or ""))[0]
            )
            if not matches or user.status is not UserStatus.ACTIVE:
                await attempt.fail()
                raise DomainError(
                    ErrorCode.WRONG_PASSWORD,
                    "Sign in, or enter the password of your existing account, to join.",
                    "password",
                )
            await attempt.succeed()
    raw: str | None = None
    session: Session | None = None
    async with in_transaction():
        # The conditional update is the single-use check: of concurrent accepts, one wins.
        now = clock.now()
        accepted = await Invitation.filter(
            id=invitation.id, token_hash=invitation.token_hash, accepted_at=None, revoked_at=None
        ).update(accepted_at=now)
        if accepted != 1:
            raise invalid
        if changes:
            await User.filter(id=user.id).update(**changes)
            user = await User.get(id=user.id)
        await Membership.filter(id=membership.id).update(status=MembershipStatus.ACTIVE)
        if actor is None:
            user.last_login_at = now
            await user.save(update_fields=["last_login_at"])
            raw, session = await create_session(user, meta)
        await audit.record(
            "invitation.accepted",
            meta=meta,
            actor_user_id=user.id,
            actor_label=user.email,
            organisation_id=invitation.organisation_id,
            target=invitation,
            subject_user_id=user.id,
            details={"newUser": new_person},
        )
    invitation.accepted_at = now
    return invitation, raw, session


async def create_user(
    *,
    actor: Actor,
    organisation: Organisation,
    email: str,
    role: Role,
    password: str | None = None,
    send_set_password_link: bool = False,
    first_name: str | None = None,
    last_name: str | None = None,
    grants: Grants = NO_GRANTS,
    email_two_factor: bool = False,
    details: Mapping[str, str | None] | None = None,
    extension_id: int | None = None,
) -> Membership:
    """An active user with an initial password they must change at first log-in, or
    (``send_set_password_link``) with none and a mailed link to choose one; with the
    grants and restrictions chosen now, if asked emailed sign-in codes, the title and
    phones given, and an extension of the organisation."""
    address = normalise_email(email)
    _check_role_in_reach(actor, organisation, role)
    first = clean_text(first_name, field="firstName")
    last = clean_text(last_name, field="lastName")
    profile = {"first_name": first, "last_name": last, **_details(details)}
    _check_one_way_to_a_password(password, send_set_password_link)
    password_hash = None
    if password is not None:
        words = personal_words(email=address, organisation_names=[organisation.name])
        check_policy(password, user_inputs=words)
        password_hash = await hash_password(password)
    taken = DomainError(
        ErrorCode.EMAIL_TAKEN, "This address already has an account: invite it instead.", "email"
    )
    try:
        return await _create_user(
            actor,
            organisation,
            address,
            role,
            (password_hash, profile),
            NewMemberAccess(grants, email_two_factor, extension_id),
            taken,
        )
    except IntegrityError:
        raise taken from None  # a concurrent request created the same address


def _check_one_way_to_a_password(password: str | None, send_set_password_link: bool) -> None:
    if password is not None and send_set_password_link:
        raise DomainError(
            ErrorCode.INVALID,
            "Give an initial password or send a set-password link, not both.",
            "sendSetPasswordLink",
        )
    if password is None and not send_set_password_link:
        raise DomainError(
            ErrorCode.REQUIRED,
            "Give an initial password, or send a link to choose one (sendSetPasswordLink).",
            "password",
        )


async def _create_user(
    actor: Actor,
    organisation: Organisation,
    address: str,
    role: Role,
    person: tuple[str | None, dict[str, str]],
    access: NewMemberAccess,
    taken: DomainError,
) -> Membership:
    password_hash, profile = person  # no hash: they choose it with a mailed link
    async with in_transaction():
        await claim_seat(organisation.id)
        if await User.exists(email=address):
            raise taken
        user = User(
            email=address,
            password_hash=password_hash,
            must_change_password=password_hash is not None,
            status=UserStatus.ACTIVE,
            email_two_factor=access.email_two_factor,
            **profile,
        )
        await user.save()
        granted = access.checked(actor, organisation, role, user)
        membership = await _new_membership(
            organisation, user, role, MembershipStatus.ACTIVE, granted
        )
        await access.give_extension(actor, membership)
        link = password_hash is None
        await send_welcome(organisation, user, role, actor, set_password_link=link)
        await audit.record(
            "user.created",
            actor=actor,
            organisation_id=organisation.id,
            target=membership,
            target_label=address,
            subject_user_id=user.id,
            details={"role": role.value, "setPasswordLink": link},
        )
    return membership
