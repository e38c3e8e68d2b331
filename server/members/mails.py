"""The mails of changing a sign-in address: the link to the new address, and the
notice to the old one once the change is done. Both name who asked."""

from __future__ import annotations

from datetime import datetime

from server.accounts.mails import account_mail
from server.accounts.models import User
from server.mail.compose import Action, Gettext, Mail, Values, greeting, mail_kind
from server.mail.outbox import queue_mail


def _reason(_: Gettext, v: Values) -> str:
    if v.get("organisation_name"):
        return _(
            "You receive this mail because {requester_name} asked to change the sign-in "
            "address of an account at {organisation_name} on {portal} to {new_email}."
        )
    return _(
        "You receive this mail because {requester_name} asked to change the sign-in "
        "address of an account on {portal} to {new_email}."
    )


@mail_kind("email_change")
def email_change(_: Gettext, v: Values) -> Mail:
    """To the new address. name, requester_name, old_email, new_email, link (sealed),
    expires_at, organisation_name (may be absent)."""
    return Mail(
        subject=_("Confirm your new {portal} sign-in address"),
        greeting=greeting(_, v.get("name")),
        paragraphs=[
            _(
                "{requester_name} asked to make {new_email} the sign-in address of your "
                "{portal} account instead of {old_email}."
            ),
            _("Open the link to confirm that this address is yours."),
        ],
        action=Action(_("Confirm my new address"), "{link}"),
        after=[
            _("The link works once, until {expires_at}. Until then you sign in with {old_email}."),
            _("If you did not expect this, ignore this mail: nothing changes."),
        ],
        reason=_reason(_, v),
    )


@mail_kind("email_changed")
def email_changed(_: Gettext, v: Values) -> Mail:
    """To the old address. name, requester_name, old_email, new_email,
    organisation_name (may be absent)."""
    return Mail(
        subject=_("Your {portal} sign-in address was changed"),
        greeting=greeting(_, v.get("name")),
        paragraphs=[
            _(
                "The sign-in address of your {portal} account was changed from {old_email} "
                "to {new_email}, as {requester_name} asked."
            ),
            _("Mails about your account now go there, and this address no longer signs in."),
            _("If this was not you, contact your administrator at once."),
        ],
        reason=_reason(_, v),
    )


async def send_confirmation(
    user: User,
    *,
    new_email: str,
    requester: User,
    link: str,
    expires_at: datetime,
    organisation_id: int | None,
) -> None:
    await queue_mail(
        kind="email_change",
        recipient=new_email,
        **await account_mail(user, organisation_id),
        requester_name=requester.display_name,
        old_email=user.email,
        new_email=new_email,
        link=link,
        expires_at=expires_at,
    )


async def send_notice(
    user: User, *, old_email: str, requester: User | None, organisation_id: int | None
) -> None:
    await queue_mail(
        kind="email_changed",
        recipient=old_email,
        **await account_mail(user, organisation_id),
        requester_name=requester.display_name if requester is not None else user.display_name,
        old_email=old_email,
        new_email=user.email,
    )
