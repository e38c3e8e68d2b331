"""docker-compose.yml (parsed, since no Docker engine runs here) is consistent
with the Dockerfile and the settings, and the README lists every setting."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SETTINGS = ROOT / "server" / "settings.py"


def setting_names() -> set[str]:
    """Every FRONTDESK_* variable server/settings.py reads (without the prefix)."""
    return set(re.findall(r'_env(?:_int|_bool|_list)?\(\s*"([A-Z0-9_]+)"', SETTINGS.read_text()))


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def env_of(service: dict) -> dict[str, str]:
    return {key: str(value) for key, value in (service.get("environment") or {}).items()}


def test_services(compose):
    assert set(compose["services"]) == {"db", "migrate", "server", "worker", "mail"}


def test_server_runs_two_processes_without_the_worker(compose):
    server = compose["services"]["server"]
    assert server["command"] == ["frontdesk", "serve", "--workers", "2"]
    assert env_of(server)["FRONTDESK_RUN_WORKER"] == "false"
    assert "8000:8000" in server["ports"]
    assert "/readyz" in " ".join(server["healthcheck"]["test"])
    assert server["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_worker_and_migrate(compose):
    services = compose["services"]
    assert services["worker"]["command"] == ["frontdesk", "worker"]
    assert services["migrate"]["command"] == ["frontdesk", "migrate"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["worker"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    # No HTTP in these: the image's /healthz probe would mark them unhealthy.
    assert services["worker"]["healthcheck"] == {"disable": True}
    assert services["migrate"]["healthcheck"] == {"disable": True}


def test_frontdesk_services_use_the_dockerfile_image(compose):
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "EXPOSE 8000" in dockerfile
    assert "FRONTDESK_PORT=8000" in dockerfile
    for name in ("migrate", "server", "worker"):
        service = compose["services"][name]
        assert service["build"] == "."
        assert (ROOT / service["build"] / "Dockerfile").is_file()
        assert service["image"] == "frontdesk:local"
        assert service["command"][0] == "frontdesk"  # the console script the image installs


def test_environment_is_wired(compose):
    services = compose["services"]
    known = setting_names()
    for name in ("migrate", "server", "worker"):
        env = env_of(services[name])
        for key in env:
            assert key.startswith("FRONTDESK_") and key.removeprefix("FRONTDESK_") in known, key
        assert env["FRONTDESK_ENV"] == "production"
        assert env["FRONTDESK_SECRET_KEY"].startswith("${FRONTDESK_SECRET_KEY:?")
        assert env["FRONTDESK_LOG_FORMAT"] == "json"
        # The database is the db service with its own credentials.
        url = urlsplit(
            env["FRONTDESK_DATABASE_URL"].replace("${POSTGRES_PASSWORD:-frontdesk}", "pw")
        )
        db_env = env_of(services["db"])
        assert (url.scheme, url.hostname, url.port) == ("postgres", "db", 5432)
        assert url.username == db_env["POSTGRES_USER"]
        assert url.path == "/" + db_env["POSTGRES_DB"]
        # Mail goes to the catcher.
        assert env["FRONTDESK_SMTP_HOST"] == "mail"
        assert env["FRONTDESK_SMTP_PORT"] == "1025"
    assert services["mail"]["image"].startswith("axllent/mailpit:")
    assert env_of(services["server"])["FRONTDESK_METRICS"] == "true"


def test_readme_lists_every_setting():
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in setting_names() if f"`{name}`" not in readme)
    assert missing == [], f"README's configuration table lacks {missing}"
