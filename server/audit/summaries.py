"""One line a person can read per audit event, in their language.

Rendered at read time from the event's columns and the documented fields of its
details (refs.py: names as they were then), so the words can change and be
translated without touching stored events. Events written before the details
named things fall back to the labels (email addresses) and still read well.

Every action has an entry in `SUMMARIES`; tests/audit/test_summaries.py finds
every action the server records and fails on one without a summary or without
German. The German lives in ``server/audit/locale/de.po``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from babel.support import NullTranslations

from server.audit.models import AuditEvent
from server.core.actor import Actor
from server.core.i18n import from_accept_language, negotiate, translator


def N_(message: str) -> str:
    """Marks a message for translation where it is defined; translated where used."""
    return message


@dataclass(frozen=True)
class Reading:
    """One event as the templates see it, in one language."""

    event: AuditEvent
    gettext: Callable[[str], str]

    @property
    def details(self) -> dict[str, Any]:
        details = self.event.details
        return details if isinstance(details, dict) else {}

    def name(self, key: str) -> str | None:
        value = self.details.get(key)
        if isinstance(value, dict) and isinstance(value.get("name"), str) and value["name"]:
            return str(value["name"])
        return None

    @property
    def actor(self) -> str:
        _ = self.gettext
        actor = self.name("actor") or self.event.actor_label
        impersonator = self.name("impersonator") or self.event.impersonator_label
        if not actor:
            return _("Someone") if self.event.client_ip else _("The system")
        if impersonator:
            return _("{impersonator} as {person}").format(impersonator=impersonator, person=actor)
        return actor

    @property
    def target(self) -> str:
        return self.name("target") or self.event.target_label or self.gettext("someone")

    @property
    def subject(self) -> str:
        return self.name("subject") or self.target

    def side(self, which: str, key: str) -> Any:
        side = self.details.get(which)
        return side.get(key) if isinstance(side, dict) else None

    def word(self, value: Any) -> str:
        """A value in words: enum values and switches translated, the rest as it is."""
        _ = self.gettext
        if value is None or value == "" or value == []:
            return _("none")
        if value is True:
            return _("on")
        if value is False:
            return _("off")
        if isinstance(value, dict) and "name" in value:
            return str(value["name"])
        if isinstance(value, list):
            return ", ".join(self.word(item) for item in value)
        text = str(value)
        return _(VALUES[text]) if text in VALUES else text

    def changes(self) -> str:
        """'label: Reception → Front desk; do not disturb: off → on'."""
        _ = self.gettext
        before = self.details.get("before")
        after = self.details.get("after")
        before = before if isinstance(before, dict) else {}
        after = after if isinstance(after, dict) else {}
        parts = [
            _("{field}: {before} → {after}").format(
                field=self.field(key), before=self.word(before.get(key)), after=self.word(value)
            )
            for key, value in after.items()
            if before.get(key) != value or key not in before
        ]
        return "; ".join(parts) or _("no visible change")

    def field(self, key: str) -> str:
        if key in FIELDS:
            return self.gettext(FIELDS[key])
        return re.sub(r"(?<!^)(?=[A-Z])", " ", key).lower()


# Values stored in details (enum values), as words.
VALUES = {
    "OWNER": N_("owner"),
    "ADMIN": N_("administrator"),
    "MEMBER": N_("member"),
    "VIEWER": N_("viewer"),
    "ACTIVE": N_("active"),
    "DISABLED": N_("disabled"),
    "INVITED": N_("invited"),
    "SUSPENDED": N_("suspended"),
    "NONE": N_("no access"),
    "READ": N_("read"),
    "WRITE": N_("write"),
    "NEW": N_("new"),
    "IN_PROGRESS": N_("in progress"),
    "WAITING_ON_CUSTOMER": N_("waiting on customer"),
    "RESOLVED": N_("resolved"),
    "CLOSED": N_("closed"),
    "LOW": N_("low"),
    "NORMAL": N_("normal"),
    "HIGH": N_("high"),
    "URGENT": N_("urgent"),
    "INCIDENT": N_("incident"),
    "REQUEST": N_("request"),
    "INVITE": N_("an invitation"),
    "SET_PASSWORD_LINK": N_("a set-password link"),
}

# Field names of before/after, as words.
FIELDS = {
    "number": N_("number"),
    "label": N_("label"),
    "name": N_("name"),
    "role": N_("role"),
    "status": N_("status"),
    "ticketAccess": N_("ticket access"),
    "canImpersonate": N_("may open members' portals"),
    "restrictRecordingDeletion": N_("may not delete call recordings"),
    "doNotDisturb": N_("do not disturb"),
    "firstName": N_("first name"),
    "lastName": N_("last name"),
    "email": N_("email"),
    "phone": N_("phone"),
    "portalName": N_("portal name"),
    "senderName": N_("sender name"),
    "senderAddress": N_("sender address"),
    "supportContact": N_("support contact"),
    "logoUrl": N_("logo"),
    "colour": N_("colour"),
    "hostName": N_("host name"),
    "title": N_("title"),
    "officePhone": N_("office phone"),
    "mobilePhone": N_("mobile phone"),
    "fax": N_("fax"),
    "language": N_("language"),
    "subject": N_("subject"),
    "priority": N_("priority"),
    "type": N_("type"),
    "url": N_("address"),
    "events": N_("events"),
    "paused": N_("paused"),
    "seatLimit": N_("seat limit"),
    "requireTwoFactor": N_("require two-step sign-in"),
}

_FORWARDING = {
    "ALWAYS": N_("always to {destination}"),
    "BUSY": N_("when busy to {destination}"),
    "NO_ANSWER": N_("after {seconds} s without answer to {destination}"),
    "UNAVAILABLE": N_("when unreachable to {destination}"),
}


def _simple(message: str) -> Callable[[Reading], str]:
    """A summary that names at most the actor, the target, the subject and the organisation."""

    def summary(reading: Reading) -> str:
        return reading.gettext(message).format(
            actor=reading.actor,
            target=reading.target,
            subject=reading.subject,
            organisation=reading.name("organisation") or "",
        )

    return summary


def _with_changes(message: str) -> Callable[[Reading], str]:
    def summary(reading: Reading) -> str:
        return reading.gettext(message).format(
            actor=reading.actor, target=reading.target, changes=reading.changes()
        )

    return summary


def _from_to(message: str, key: str) -> Callable[[Reading], str]:
    def summary(reading: Reading) -> str:
        return reading.gettext(message).format(
            actor=reading.actor,
            target=reading.target,
            before=reading.word(reading.side("before", key)),
            after=reading.word(reading.side("after", key)),
        )

    return summary


def _with_role(message: str) -> Callable[[Reading], str]:
    def summary(reading: Reading) -> str:
        return reading.gettext(message).format(
            actor=reading.actor,
            target=reading.target,
            role=reading.word(reading.details.get("role")),
        )

    return summary


def _assigned(reading: Reading) -> str:
    _ = reading.gettext
    before, after = reading.side("before", "member"), reading.side("after", "member")
    values = {"actor": reading.actor, "target": reading.target}
    if before and after:
        return _("{actor} moved extension {target} from {before} to {after}").format(
            before=reading.word(before), after=reading.word(after), **values
        )
    return _("{actor} gave extension {target} to {after}").format(
        after=reading.word(after) if after else reading.name("subject") or _("a member"),
        **values,
    )


def _unassigned(reading: Reading) -> str:
    _ = reading.gettext
    before = reading.side("before", "member")
    values = {"actor": reading.actor, "target": reading.target}
    if before:
        return _("{actor} took extension {target} away from {before}").format(
            before=reading.word(before), **values
        )
    return _("{actor} took extension {target} away from its holder").format(**values)


def _do_not_disturb(reading: Reading) -> str:
    _ = reading.gettext
    message = (
        N_("{actor} switched do not disturb on for extension {target}")
        if reading.side("after", "doNotDisturb")
        else N_("{actor} switched do not disturb off for extension {target}")
    )
    return _(message).format(actor=reading.actor, target=reading.target)


def _forwarding(reading: Reading) -> str:
    _ = reading.gettext
    rules = reading.details.get("after")
    values = {"actor": reading.actor, "target": reading.target}
    if not isinstance(rules, list) or not rules:
        return _("{actor} switched call forwarding off for extension {target}").format(**values)
    words = [
        _(_FORWARDING.get(str(rule.get("condition")), "{destination}")).format(
            destination=rule.get("destination", ""), seconds=rule.get("ringSeconds") or ""
        )
        for rule in rules
        if isinstance(rule, dict)
    ]
    return _("{actor} forwarded calls of extension {target}: {rules}").format(
        rules="; ".join(words), **values
    )


def _impersonation_started(reading: Reading) -> str:
    return reading.gettext("{actor} opened the portal of {target}; reason: {reason}").format(
        actor=reading.actor, target=reading.target, reason=reading.details.get("reason", "")
    )


def _impersonation_ended(reading: Reading) -> str:
    _ = reading.gettext
    how = reading.details.get("endedBy")
    message = {
        "expired": N_("{impersonator}'s session in the portal of {person} expired"),
        "signedOut": N_("{impersonator} signed out of the portal of {person}"),
    }.get(str(how), N_("{impersonator} closed the portal of {person}"))
    impersonator = reading.name("impersonator") or reading.event.impersonator_label
    person = reading.name("subject") or reading.name("actor") or reading.event.actor_label
    return _(message).format(
        impersonator=impersonator or _("an administrator"), person=person or _("someone")
    )


def _email_change_requested(reading: Reading) -> str:
    return reading.gettext(
        "{actor} asked to change the email address of {target} to {address} "
        "(pending until confirmed from that address)"
    ).format(
        actor=reading.actor,
        target=reading.target,
        address=reading.word(reading.details.get("newEmail")),
    )


def _sender_verified(reading: Reading) -> str:
    return reading.gettext("{address} was confirmed as the sender of the mails of {target}").format(
        address=reading.word(reading.details.get("senderAddress")), target=reading.target
    )


def _seat_limit(reading: Reading) -> str:
    return _from_to(
        N_("{actor} changed the seat limit of {target} from {before} to {after}"), "seatLimit"
    )(reading)


SUMMARIES: dict[str, Callable[[Reading], str]] = {
    "api_token.created": _simple(N_("{actor} created the API token {target}")),
    "api_token.revoked": _simple(N_("{actor} revoked the API token {target}")),
    "scim_token.created": _simple(N_("{actor} created the SCIM token {target}")),
    "scim_token.revoked": _simple(N_("{actor} revoked the SCIM token {target}")),
    "oidc_client.created": _simple(N_("{actor} registered the OpenID Connect client {target}")),
    "oidc_client.updated": _simple(N_("{actor} changed the OpenID Connect client {target}")),
    "oidc_client.secret_rotated": _simple(
        N_("{actor} gave the OpenID Connect client {target} a new secret")
    ),
    "oidc_client.deleted": _simple(N_("{actor} deleted the OpenID Connect client {target}")),
    "oidc.signed_in": _simple(N_("{actor} signed in to {target}")),
    "oidc.refused": _simple(N_("{actor} was refused sign-in to {target}")),
    "oidc.refresh_reuse_detected": _simple(
        N_("A refresh token of {actor} for {target} was used twice: the sign-in was ended")
    ),
    "scim.settings_changed": _from_to(
        N_("{actor} changed how SCIM adds people to {target} from {before} to {after}"),
        "newPeople",
    ),
    "scim.user_name_changed": _from_to(
        N_("{actor} changed the sign-in address of {target} from {before} to {after} (SCIM)"),
        "email",
    ),
    "scim.external_id_changed": _from_to(
        N_("{actor} changed the identity provider's id of {target} from {before} to {after}"),
        "externalId",
    ),
    "auth.login": _simple(N_("{actor} signed in")),
    "auth.login_failed": _simple(N_("A sign-in as {target} failed")),
    "auth.login_throttled": _simple(N_("A sign-in as {target} was refused: too many attempts")),
    "auth.two_factor_failed": _simple(N_("A wrong two-step code was entered for {target}")),
    "auth.logout": _simple(N_("{actor} signed out")),
    "auth.session_revoked": _simple(N_("{actor} signed out one of their sessions")),
    "auth.other_sessions_revoked": _simple(N_("{actor} signed out all their other sessions")),
    "auth.password_changed": _simple(N_("{actor} changed their password")),
    "auth.password_reset_requested": _simple(N_("A password reset was requested for {target}")),
    "auth.password_reset": _simple(N_("{target} chose a new password with a reset link")),
    "auth.reauthenticated": _simple(N_("{actor} confirmed it was them")),
    "auth.reauth_failed": _simple(N_("{actor} failed to confirm it was them")),
    "call_record.added": _simple(N_("{actor} added a call to extension {target}")),
    "recording.deleted": _simple(N_("{actor} deleted a call recording")),
    "contact.created": _simple(N_("{actor} added the contact {target}")),
    "contact.updated": _with_changes(N_("{actor} changed the contact {target}: {changes}")),
    "contact.deleted": _simple(N_("{actor} deleted the contact {target}")),
    "contact.invited": _with_role(N_("{actor} invited the contact {target} as {role}")),
    "extension.created": _simple(N_("{actor} created extension {target}")),
    "extension.updated": _with_changes(N_("{actor} changed extension {target}: {changes}")),
    "extension.deleted": _simple(N_("{actor} deleted extension {target}")),
    "extension.assigned": _assigned,
    "extension.unassigned": _unassigned,
    "extension.do_not_disturb_changed": _do_not_disturb,
    "extension.forwarding_changed": _forwarding,
    "impersonation.started": _impersonation_started,
    "impersonation.ended": _impersonation_ended,
    "invitation.created": _with_role(N_("{actor} invited {target} as {role}")),
    "invitation.resent": _simple(N_("{actor} sent the invitation to {target} again")),
    "invitation.revoked": _simple(N_("{actor} withdrew the invitation to {target}")),
    "invitation.accepted": _simple(N_("{actor} accepted the invitation to {organisation}")),
    "mail.retried": _simple(N_("{actor} put the mail {target} back in the outbox")),
    "member.role_changed": _from_to(
        N_("{actor} changed the role of {target} from {before} to {after}"), "role"
    ),
    "member.feature_access_changed": _with_changes(
        N_("{actor} changed what {target} may do: {changes}")
    ),
    "member.profile_updated": _with_changes(
        N_("{actor} changed the details of {target}: {changes}")
    ),
    "member.disabled": _simple(N_("{actor} disabled {target}")),
    "member.enabled": _simple(N_("{actor} enabled {target} again")),
    "member.removed": _simple(N_("{actor} removed {target} from {organisation}")),
    "organisation.created": _simple(N_("{actor} created the organisation {target}")),
    "organisation.updated": _with_changes(
        N_("{actor} changed the settings of {target}: {changes}")
    ),
    "organisation.seat_limit_changed": _seat_limit,
    "organisation.brand_changed": _with_changes(
        N_("{actor} changed the brand of {target}: {changes}")
    ),
    "organisation.sender_verified": _sender_verified,
    "organisation.suspended": _simple(N_("{actor} suspended {target}")),
    "organisation.reactivated": _simple(N_("{actor} reactivated {target}")),
    "ticket.created": _simple(N_("{actor} raised ticket {target}")),
    "ticket.updated": _with_changes(N_("{actor} changed ticket {target}: {changes}")),
    "ticket.status_changed": _from_to(
        N_("{actor} moved ticket {target} from {before} to {after}"), "status"
    ),
    "ticket.commented": _simple(N_("{actor} answered ticket {target}")),
    "two_factor.totp_enabled": _simple(N_("{actor} set up an authenticator app")),
    "two_factor.email_enabled": _simple(N_("{actor} turned on sign-in codes by email")),
    "two_factor.email_disabled": _simple(N_("{actor} turned off sign-in codes by email")),
    "two_factor.recovery_codes_regenerated": _simple(N_("{actor} made new recovery codes")),
    "two_factor.disabled": _simple(N_("{actor} turned off two-step sign-in")),
    "two_factor.reset": _simple(N_("{actor} reset the two-step sign-in of {target}")),
    "passkey.added": _simple(N_("{actor} added a passkey")),
    "passkey.renamed": _simple(N_("{actor} renamed a passkey")),
    "passkey.removed": _simple(N_("{actor} removed a passkey")),
    "user.created": _with_role(N_("{actor} created the user {target} as {role}")),
    "user.deleted": _simple(N_("{actor} deleted the user {target}")),
    "user.email_change_requested": _email_change_requested,
    "user.email_changed": _from_to(
        N_("The email address of {target} changed from {before} to {after}"), "email"
    ),
    "user.profile_updated": _with_changes(N_("{actor} changed the profile of {target}: {changes}")),
    "webhook.created": _simple(N_("{actor} added the webhook {target}")),
    "webhook.updated": _with_changes(N_("{actor} changed the webhook {target}: {changes}")),
    "webhook.deleted": _simple(N_("{actor} deleted the webhook {target}")),
    "webhook.redelivered": _simple(N_("{actor} sent a webhook delivery again")),
}


def summarise(event: AuditEvent, language: str) -> str:
    """The event in one line, in `language` (English for any we do not have)."""
    translations: NullTranslations = translator(language)
    reading = Reading(event=event, gettext=translations.gettext)
    summary = SUMMARIES.get(event.action)
    if summary is None:  # an action from a newer or older version of the server
        return translations.gettext("{actor}: {action} ({target})").format(
            actor=reading.actor, action=event.action, target=reading.target
        )
    try:
        return summary(reading)
    except (KeyError, IndexError, ValueError):  # a translation with a placeholder typo
        return SUMMARIES[event.action](Reading(event=event, gettext=NullTranslations().gettext))


def reader_language(actor: Actor | None, accept_language: str | None) -> str:
    """The language summaries are written in for a reader: their profile's, else
    their browser's (Accept-Language), else English."""
    profile = actor.user.language if actor is not None else None
    return negotiate(profile, from_accept_language(accept_language))
