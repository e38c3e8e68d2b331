"""The mails the server sends, one function per kind (see ``compose.py`` for how
they are put together and rendered, and how to add one).

Each says what happened in its subject, names the organisation, and ends with
why the person receives it. English is written here; German is in
``server/mail/locale/de.po``. Values a kind reads are documented on it.
"""

from __future__ import annotations

from server.mail.compose import (
    N_,
    SEALED_MARKER,
    Action,
    Gettext,
    Mail,
    RenderedMail,
    Values,
    check_link,
    greeting,
    kinds,
    mail_kind,
    render,
)

__all__ = ["SEALED_MARKER", "RenderedMail", "check_link", "kinds", "render"]

ROLE_NAMES = {
    "OWNER": N_("Owner"),
    "ADMIN": N_("Administrator"),
    "MEMBER": N_("Member"),
    "VIEWER": N_("Viewer (read-only)"),
    "SUPPORT_ONLY": N_("Support only"),
}

TICKET_STATUS_NAMES = {
    "NEW": N_("new"),
    "IN_PROGRESS": N_("in progress"),
    "WAITING_ON_CUSTOMER": N_("waiting for your answer"),
    "RESOLVED": N_("resolved"),
    "CLOSED": N_("closed"),
}

SECURITY_CHANGES = {
    "totp_enabled": N_("An authenticator app was set up as your second factor."),
    "recovery_codes": N_("New recovery codes were made; the old ones no longer work."),
    "email_codes_on": N_("Codes by email were turned on."),
    "email_codes_off": N_("Codes by email were turned off."),
    "two_factor_off": N_("Two-factor sign-in was turned off."),
    "two_factor_reset": N_("{actor_name} reset your two-factor sign-in."),
    "passkey_added": N_("A passkey was added to your account."),
    "passkey_removed": N_("A passkey was removed from your account."),
}


def _place(_: Gettext, v: Values) -> str:
    """The organisation and where it sits: "Acme Ltd (a customer of Sangoma Reseller)"."""
    parent, kind = v.get("parent_name"), v.get("organisation_kind")
    if parent and kind == "CUSTOMER":
        return _("{organisation_name} (a customer of {parent_name})")
    if parent and kind == "RESELLER":
        return _("{organisation_name} (a reseller of {parent_name})")
    return "{organisation_name}"


def _account_reason(_: Gettext, v: Values) -> str:
    if v.get("organisation_name"):
        return _(
            "You receive this mail because {recipient} has an account at "
            "{organisation_name} on {portal}."
        )
    return _("You receive this mail because {recipient} has an account on {portal}.")


def _if_not_you(_: Gettext) -> str:
    return _("If this was not you, reset your password at once and contact your administrator.")


@mail_kind("invitation")
def invitation(_: Gettext, v: Values) -> Mail:
    """inviter_name, name (the invitee's, may be ""), organisation_name, organisation_kind,
    parent_name, role, existing_user, link, expires_at."""
    place = _place(_, v)
    joining = [
        _("{inviter_name} has invited you to join {place} on {portal}."),
        _("Your role: {role_name}."),
    ]
    if v["existing_user"]:
        subject = _("{inviter_name} added you to {organisation_name} on {portal}")
        joining.append(
            _(
                "You already have a {portal} account with this address: open the link "
                "and sign in with your current password to join."
            )
        )
        action = Action(_("Join {organisation_name}"), "{link}")
    else:
        subject = _("{inviter_name} invited you to {organisation_name} on {portal}")
        joining.append(_("Open the link to choose your password; then you can sign in."))
        action = Action(_("Choose your password and join"), "{link}")
    return Mail(
        subject=subject,
        greeting=greeting(_, v.get("name")),
        paragraphs=joining,
        action=action,
        after=[
            _("The link works once, until {expires_at}."),
            _("If you were not expecting this invitation, you can ignore this mail."),
        ],
        reason=_(
            "You receive this mail because {inviter_name} invited {recipient} to "
            "{organisation_name} on {portal}."
        ),
        values={"place": place.format(**v), "role_name": _(ROLE_NAMES[v["role"]])},
    )


def _welcome(_: Gettext, v: Values, choose: list[str], action: Action) -> Mail:
    return Mail(
        subject=_("Your {portal} account at {organisation_name}"),
        greeting=greeting(_, v.get("name")),
        paragraphs=[
            _("{creator_name} created a {portal} account for you at {place}."),
            _("Your role: {role_name}."),
            *choose,
        ],
        action=action,
        reason=_(
            "You receive this mail because {creator_name} created an account for "
            "{recipient} at {organisation_name}."
        ),
        values={"place": _place(_, v).format(**v), "role_name": _(ROLE_NAMES[v["role"]])},
    )


@mail_kind("welcome")
def welcome(_: Gettext, v: Values) -> Mail:
    """createUser with an initial password. name, creator_name, organisation_name,
    organisation_kind, parent_name, role, link (the sign-in page)."""
    choose = [
        _(
            "Your administrator will give you your initial password; you will be asked "
            "to change it when you first sign in."
        )
    ]
    return _welcome(_, v, choose, Action(_("Sign in"), "{link}"))


@mail_kind("welcome_set_password")
def welcome_set_password(_: Gettext, v: Values) -> Mail:
    """createUser with a set-password link. As ``welcome``, link (sealed) and expires_at."""
    choose = [
        _("Choose your password with the link below; then you can sign in."),
        _("The link works once, until {expires_at}."),
    ]
    return _welcome(_, v, choose, Action(_("Choose your password"), "{link}"))


@mail_kind("password_reset")
def password_reset(_: Gettext, v: Values) -> Mail:
    """link, minutes, organisation_name (may be absent)."""
    return Mail(
        subject=_("Reset your {portal} password"),
        greeting=greeting(_, v.get("name")),
        paragraphs=[
            _("Someone asked to reset the password of your {portal} account ({recipient})."),
            _("To choose a new password, open this link within {minutes} minutes."),
        ],
        action=Action(_("Choose a new password"), "{link}"),
        after=[_("If this was not you, ignore this mail: your password stays unchanged.")],
        reason=_account_reason(_, v),
    )


@mail_kind("password_changed")
def password_changed(_: Gettext, v: Values) -> Mail:
    """name, organisation_name (may be absent)."""
    return Mail(
        subject=_("Your {portal} password was changed"),
        greeting=greeting(_, v.get("name")),
        paragraphs=[_("The password of your {portal} account was just changed."), _if_not_you(_)],
        reason=_account_reason(_, v),
    )


@mail_kind("email_code")
def email_code(_: Gettext, v: Values) -> Mail:
    """code (sealed), minutes, name, organisation_name (may be absent)."""
    return Mail(
        subject=_("Your {portal} sign-in code"),
        greeting=greeting(_, v.get("name")),
        paragraphs=[
            _("Someone is signing in to your {portal} account. Your sign-in code is: {code}"),
            _("It is valid for {minutes} minutes. Never share it with anyone."),
            _if_not_you(_),
        ],
        reason=_account_reason(_, v),
    )


@mail_kind("security_notice")
def security_notice(_: Gettext, v: Values) -> Mail:
    """change (a key of SECURITY_CHANGES), actor_name (for a reset), name,
    organisation_name (may be absent)."""
    return Mail(
        subject=_("The sign-in settings of your {portal} account changed"),
        greeting=greeting(_, v.get("name")),
        paragraphs=[_(SECURITY_CHANGES[v["change"]]), _if_not_you(_)],
        reason=_account_reason(_, v),
    )


@mail_kind("impersonation_ended")
def impersonation_ended(_: Gettext, v: Values) -> Mail:
    """Sent once when an impersonation ends (stopped, signed out or expired).
    actor_name, actor_organisation (the administrator's), started_at, ended_at,
    minutes, reason, changes (the summaries of what was done, in the reader's
    language), name, organisation_name."""
    return Mail(
        subject=_("{actor_name} of {actor_organisation} used your {portal} account"),
        greeting=greeting(_, v.get("name")),
        paragraphs=[
            _(
                "{actor_name} of {actor_organisation} used your {portal} account at "
                "{organisation_name} as you, from {started_at} until {ended_at} "
                "({minutes} min)."
            ),
            _("Reason given: {reason}"),
            _("Changes made during that time:")
            if v["changes"]
            else _("No changes were made during that time."),
        ],
        items=list(v["changes"]),
        after=[_("If you did not expect this, contact your administrator.")],
        reason=_account_reason(_, v),
    )


def _ticket_reason(_: Gettext) -> str:
    return _(
        "You receive this mail because you reported ticket #{number} at "
        "{organisation_name} on {portal}."
    )


@mail_kind("ticket_comment")
def ticket_comment(_: Gettext, v: Values) -> Mail:
    """number, subject, author_name, comment, link, name, organisation_name."""
    return Mail(
        subject=_("Ticket #{number}: new reply - {subject}"),
        greeting=greeting(_, v.get("name")),
        paragraphs=[_("{author_name} answered your ticket #{number} ({subject}):")],
        quote="{comment}",
        action=Action(_("Read and answer it"), "{link}"),
        reason=_ticket_reason(_),
    )


@mail_kind("ticket_status")
def ticket_status(_: Gettext, v: Values) -> Mail:
    """number, subject, actor_name, old_status, new_status (TicketStatus values),
    link, name, organisation_name."""
    return Mail(
        subject=_("Ticket #{number} is now {new_status_name} - {subject}"),
        greeting=greeting(_, v.get("name")),
        paragraphs=[
            _(
                "{actor_name} moved your ticket #{number} ({subject}) from "
                "{old_status_name} to {new_status_name}."
            )
        ],
        action=Action(_("See the ticket"), "{link}"),
        reason=_ticket_reason(_),
        values={
            "old_status_name": _(TICKET_STATUS_NAMES[v["old_status"]]),
            "new_status_name": _(TICKET_STATUS_NAMES[v["new_status"]]),
        },
    )


@mail_kind("sender_verification")
def sender_verification(_: Gettext, v: Values) -> Mail:
    """To a new sender address of a brand (server/branding): actor_name,
    organisation_name, link (sealed), expires_at, name (usually absent: a mailbox)."""
    return Mail(
        subject=_("Confirm the sender address of {organisation_name} on {portal}"),
        greeting=greeting(_, v.get("name")),
        paragraphs=[
            _(
                "{actor_name} wants the mails of {organisation_name} on {portal} to come "
                "from this address ({recipient})."
            ),
            _("If this mailbox is yours to use for that, confirm it with the link below."),
        ],
        action=Action(_("Confirm this sender address"), "{link}"),
        after=[
            _("The link works once, until {expires_at}."),
            _(
                "Until it is confirmed, mails keep going from the portal's usual address. "
                "If you did not expect this, ignore this mail: nothing is sent in your name."
            ),
        ],
        reason=_(
            "You receive this mail because {actor_name} gave {recipient} as the sender "
            "address of {organisation_name}."
        ),
    )
