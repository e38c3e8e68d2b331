"""The example apps of examples/ against a real Frontdesk (subprocess, its own
SQLite database, the demo data) in Chromium: tests/helpers/oidc_server.py, as
tests/oidc/rp uses it. Runs in the SQLite pass, as tests/browser does; needs
no npm."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import oidc_server
from tests.helpers.live_server import demo_server, skip_below
from tests.helpers.oidc_server import Server

HERE = Path(__file__).resolve().parent


def _skip_reason() -> str | None:
    reason = oidc_server.skip_reason()
    if reason is not None:
        return reason
    try:
        import authlib.integrations.starlette_client  # noqa: F401
        import itsdangerous  # noqa: F401
        import playwright  # noqa: F401
    except ImportError as error:
        return f"{error.name} is not installed (pip install -e '.[test]')"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_below(HERE, items, _skip_reason())


@pytest.fixture(autouse=True)
def clean_database() -> Iterator[None]:
    """The examples' server has its own database, not the suite's."""
    yield


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with demo_server(
        tmp_path_factory.mktemp("examples-server"), log_name="examples-server.log"
    ) as server:
        yield server


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    yield from oidc_server.chromium()
