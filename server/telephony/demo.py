"""Demo extensions, forwarding and calls for `frontdesk seed-demo`."""

from __future__ import annotations

from datetime import timedelta

from server.accounts.models import Membership, User
from server.core import clock
from server.telephony.models import (
    CallDirection,
    CallRecord,
    Extension,
    ForwardingCondition,
    ForwardingRule,
    RecordingFormat,
)
from server.tenancy.models import Organisation

# (organisation, number, label, member's email or None, do-not-disturb)
DEMO_EXTENSIONS = [
    ("Acme Ltd", "200", "Reception", None, False),
    ("Acme Ltd", "201", "Alice", "alice@acme.example.com", False),
    ("Acme Ltd", "202", "Bob", "bob@acme.example.com", True),
    ("Acme Ltd", "203", "Admin desk", "admin@acme.example.com", False),
    ("Globex GmbH", "300", "Front desk", None, False),
    ("Globex GmbH", "301", "Carol", "carol@globex.example.com", False),
]
# (organisation, number, condition, destination, ring seconds)
DEMO_RULES = [
    ("Acme Ltd", "201", ForwardingCondition.NO_ANSWER, "200", 20),
    ("Acme Ltd", "201", ForwardingCondition.UNAVAILABLE, "+44 7700 900123", 20),
    ("Acme Ltd", "202", ForwardingCondition.BUSY, "200", 15),
    ("Globex GmbH", "301", ForwardingCondition.NO_ANSWER, "300", 25),
]
REMOTE = ["+44 20 7946 0999", "+44 161 496 0123", "+49 30 901820", "202", "+1 212 555 0142"]


async def seed(organisations: dict[str, Organisation]) -> None:
    extensions: dict[tuple[str, str], Extension] = {}
    for name, number, label, email, dnd in DEMO_EXTENSIONS:
        organisation = organisations[name]
        membership = None
        if email is not None:
            user = await User.get(email=email)
            membership = await Membership.get(organisation=organisation, user=user)
        extensions[(name, number)] = await Extension.create(
            organisation=organisation,
            number=number,
            label=label,
            membership=membership,
            do_not_disturb=dnd,
        )
    for name, number, condition, destination, ring in DEMO_RULES:
        await ForwardingRule.create(
            organisation=organisations[name],
            extension=extensions[(name, number)],
            condition=condition,
            destination=destination,
            ring_seconds=ring,
        )
    now = clock.now()
    for offset, extension in enumerate(extensions.values()):
        for i in range(4):
            recorded = i % 2 == 0
            duration = 30 + 45 * i + offset
            await CallRecord.create(
                organisation_id=extension.organisation_id,
                extension=extension,
                membership_id=extension.membership_id,
                started_at=now - timedelta(hours=6 * i + offset, minutes=7 * i),
                direction=CallDirection.INBOUND if i % 3 else CallDirection.OUTBOUND,
                remote_number=REMOTE[(i + offset) % len(REMOTE)],
                duration_seconds=duration,
                recording_format=RecordingFormat.MP3 if recorded else None,
                recording_seconds=duration if recorded else None,
                recording_bytes=duration * 16_000 if recorded else None,
            )
