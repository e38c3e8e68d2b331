"""Every action the server records reads as one line, in English and German."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po

from server.audit.models import AuditEvent
from server.audit.summaries import SUMMARIES, summarise
from server.auth.people import SIGN_IN_EVENTS
from server.core import clock

SERVER = Path(__file__).resolve().parents[2] / "server"
CATALOGUE = SERVER / "audit" / "locale" / "de.po"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
RECORDERS = {"record", "record_sign_in"}


def _actions_in(node: ast.expr | None, where: str) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _actions_in(node.body, where) | _actions_in(node.orelse, where)
    if isinstance(node, ast.Name) and node.id == "action":
        return set()  # passed through (record_sign_in): its callers are scanned
    raise AssertionError(f"{where}: write the action as a literal so it can be checked")


def recorded_actions() -> set[str]:
    """Every action a `record(...)`/`record_sign_in(...)` call in server/ can write."""
    actions = set(SIGN_IN_EVENTS)
    for path in SERVER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            if name in RECORDERS:
                actions |= _actions_in(node.args[0], f"{path}:{node.lineno}")
    return actions


def test_every_recorded_action_has_a_summary() -> None:
    actions = recorded_actions()
    assert len(actions) > 50  # the scan found the call sites
    missing = sorted(actions - set(SUMMARIES))
    assert missing == [], f"add a summary to server/audit/summaries.py for {missing}"


def sample(action: str) -> AuditEvent:
    """An event with the fields its summary may use."""
    member = {"id": "TWVtYmVyc2hpcDox", "name": "Bob Member"}
    return AuditEvent(
        created_at=clock.now(),
        action=action,
        actor_label="ann@example.com",
        target_label="201",
        client_ip="203.0.113.7",
        details={
            "actor": {"id": "VXNlcjox", "name": "Ann Admin"},
            "target": {"id": "RXh0ZW5zaW9uOjE=", "name": "201", "type": "Extension"},
            "subject": {"id": "VXNlcjoy", "name": "Carol Member"},
            "organisation": {"id": "T3JnYW5pc2F0aW9uOjE=", "name": "Acme"},
            "impersonator": {"id": "VXNlcjoz", "name": "Dan Desk"},
            "before": {"member": member, "role": "MEMBER", "status": "NEW", "seatLimit": 5},
            "after": {"member": member, "role": "ADMIN", "status": "RESOLVED", "seatLimit": 9},
            "role": "ADMIN",
            "reason": "help",
            "endedBy": "expired",
        },
    )


def test_every_summary_reads_in_english_and_in_german() -> None:
    for action in SUMMARIES:
        english, german = summarise(sample(action), "en"), summarise(sample(action), "de")
        for text in (english, german):
            assert text and "{" not in text and "}" not in text and "\n" not in text, action
        assert english != german, f"{action} has no German: {english}"


def test_the_words_of_a_summary() -> None:
    moved = sample("extension.assigned")
    moved.details["before"]["member"] = {"id": "x", "name": "Bob"}
    moved.details["after"]["member"] = {"id": "y", "name": "Carol"}
    del moved.details["impersonator"]
    assert summarise(moved, "en") == "Ann Admin moved extension 201 from Bob to Carol"
    assert summarise(moved, "de") == "Ann Admin hat die Nebenstelle 201 von Bob zu Carol verschoben"
    role = sample("member.role_changed")
    assert summarise(role, "en") == (
        "Dan Desk as Ann Admin changed the role of 201 from member to administrator"
    )
    assert summarise(role, "de") == (
        "Dan Desk als Ann Admin hat die Rolle von 201 von Mitglied auf Administrator geändert"
    )
    # An unknown language reads as English.
    assert summarise(role, "fr") == summarise(role, "en")


def test_events_stored_before_the_fields_existed_still_read() -> None:
    old = AuditEvent(
        created_at=clock.now(),
        action="extension.assigned",
        actor_label="ann@example.com",
        target_label="201",
        details={"before": {"membershipId": None}, "after": {"membershipId": 9}},
    )
    assert summarise(old, "en") == "ann@example.com gave extension 201 to a member"
    assert (
        summarise(old, "de") == "ann@example.com hat die Nebenstelle 201 an ein Mitglied vergeben"
    )
    unknown = AuditEvent(
        created_at=clock.now(), action="legacy.thing", actor_label="", target_label="x", details=[]
    )
    assert summarise(unknown, "en") == "The system: legacy.thing (x)"
    assert summarise(unknown, "de") == "Das System: legacy.thing (x)"


def test_every_marked_message_has_german_with_the_same_placeholders() -> None:
    with CATALOGUE.open("rb") as file:
        catalogue = {m.id: m for m in read_po(file, locale="de") if m.id}
    marked = {
        message
        for path in (SERVER / "audit").glob("*.py")
        for _, message, _, _ in extract_from_file("python", str(path), keywords=DEFAULT_KEYWORDS)
    }
    assert marked
    for message in marked:
        translated = catalogue.get(message)
        assert translated is not None and translated.string, f"no German in {CATALOGUE}: {message}"
        assert not translated.fuzzy, message
        assert set(PLACEHOLDER.findall(str(translated.string))) == set(
            PLACEHOLDER.findall(str(message))
        ), message
