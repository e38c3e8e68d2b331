"""Schemathesis hooks, loaded through SCHEMATHESIS_HOOKS by test_schemathesis.py:
one check that tells Frontdesk's faults from its expected outcomes.

Faults (the check fails): a 5xx response, a body that is not a JSON object, a
masked exception ("Unexpected error."), a non-null field resolved to null.
Expected (the check passes): validation and limit errors (no `path`; the
fuzzer sends invalid documents on purpose) and typed errors with an
`extensions.code` such as NOT_FOUND, FORBIDDEN, UNAUTHENTICATED, INVALID,
COST_LIMIT. In between, an error raised during execution (it has a `path`)
without a code is not a fault but breaks the "expected outcomes are typed"
rule: it is written to FRONTDESK_FUZZ_NOTES (JSON lines) for the summary, and
counts as a failure only with FRONTDESK_FUZZ_STRICT=1.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import schemathesis

MASKED = "Unexpected error."
NULL_IN_NON_NULL = "Cannot return null for non-nullable field"
_notes_lock = threading.Lock()


def classify(status_code: int, body: Any) -> tuple[list[str], list[str]]:
    """(faults, untyped execution errors) of one GraphQL response."""
    if status_code >= 500:
        return [f"HTTP {status_code}"], []
    if not isinstance(body, dict):
        return [f"HTTP {status_code} with a body that is not a JSON object"], []
    faults: list[str] = []
    untyped: list[str] = []
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            faults.append(f"malformed error entry: {error!r}")
            continue
        message = str(error.get("message", ""))
        extensions = error.get("extensions")
        code = extensions.get("code") if isinstance(extensions, dict) else None
        path = error.get("path")
        if message == MASKED:
            faults.append(f"masked error at {path}")
        elif NULL_IN_NON_NULL in message:
            faults.append(f"null in a non-null field: {message}")
        elif path and not code:
            untyped.append(message)
    return faults, untyped


def _note(operation: str, messages: list[str], request_body: Any) -> None:
    target = os.environ.get("FRONTDESK_FUZZ_NOTES")
    if not target:
        return
    if isinstance(request_body, bytes):
        request_body = request_body.decode("utf-8", "replace")
    line = json.dumps(
        {"operation": operation, "messages": messages, "request": str(request_body)[:600]}
    )
    with _notes_lock, open(target, "a", encoding="utf-8") as notes:
        notes.write(line + "\n")


@schemathesis.check
def frontdesk_no_fault(ctx, response, case) -> None:  # type: ignore[no-untyped-def]
    """No 5xx, no masked exception, no null in a non-null field."""
    body: Any = None
    if response.status_code < 500:
        try:
            body = response.json()
        except ValueError:
            body = None
    faults, untyped = classify(response.status_code, body)
    if untyped:
        _note(case.operation.label, untyped, response.request.body)
        if os.environ.get("FRONTDESK_FUZZ_STRICT") == "1":
            faults += [f"untyped error: {message}" for message in untyped]
    if faults:
        raise AssertionError("; ".join(faults))
