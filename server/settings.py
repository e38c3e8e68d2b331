"""Configuration, read once from environment variables (prefixed FRONTDESK_, but for
OpenTelemetry's own OTEL_* variables, which the SDK reads itself)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit


def _env(name: str, default: str = "") -> str:
    return os.environ.get(f"FRONTDESK_{name}", default)


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    return int(raw) if raw else default


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name).strip().lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "on"}


def _env_choice(name: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (the first by default); anything else stops start-up."""
    raw = _env(name).strip().lower() or choices[0]
    if raw not in choices:
        raise ValueError(f"FRONTDESK_{name} must be one of {', '.join(choices)}, not {raw!r}")
    return raw


def _env_list(name: str) -> list[str]:
    return [part.strip() for part in _env(name).split(",") if part.strip()]


def _otel_tracing() -> bool:
    """OpenTelemetry's own variables, not ours: traces are exported when an OTLP
    endpoint is set, unless OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none."""
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT", ""
    )
    disabled = os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower()
    return bool(endpoint.strip()) and not disabled and exporter != "none"


@dataclass(frozen=True)
class Settings:
    # "development" serves GraphiQL and introspection; "production" does not.
    environment: str = "development"
    database_url: str = "sqlite://frontdesk.sqlite3"
    # Links in mails are built from this, never from the request's Host header.
    public_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    # Origins whose browser code may call the API with bearer tokens (CORS).
    cors_origins: list[str] = field(default_factory=list)
    session_cookie_name: str = "__Host-frontdesk_session"
    # A separate cookie for an impersonation, so the administrator's own stays as it was.
    impersonation_cookie_name: str = "__Host-frontdesk_impersonation"
    session_idle_minutes: int = 60
    session_absolute_hours: int = 12
    invitation_days: int = 7
    password_reset_minutes: int = 30
    # How long the link confirming a new sign-in address works.
    email_change_hours: int = 24
    # argon2id parameters: OWASP's minimum profile (t=2, 19 MiB, p=1).
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19456
    argon2_parallelism: int = 1
    hash_concurrency: int = 2
    # Mail: with no SMTP host, mails are written as .eml files to mail_dir.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    # "starttls" (default), "tls" (implicit TLS) or "none" (plain, only for local sinks).
    smtp_security: str = "starttls"
    smtp_timeout: float = 10.0
    mail_from: str = "Frontdesk <no-reply@frontdesk.local>"
    mail_dir: str = "var/mail"
    mail_max_attempts: int = 6
    mail_batch_size: int = 50
    mail_poll_seconds: float = 1.0
    # How long a worker's claim on a batch lasts; 0 = 5 minutes plus one SMTP
    # timeout per mail of the batch. A crashed worker's mails are sent again after it.
    mail_lease_seconds: float = 0.0
    # Base of the retry backoff (doubling per attempt, capped at 1 h, ±25 % jitter).
    mail_retry_seconds: float = 30.0
    run_worker_in_server: bool = True
    max_body_bytes: int = 1_000_000
    # Fernet key (urlsafe base64 of 32 bytes) encrypting TOTP secrets at rest.
    # Required in production; development keeps one in var/secret.key.
    secret_key: str = ""
    # Proxies whose X-Forwarded-For is believed (exact addresses).
    trusted_proxies: list[str] = field(default_factory=list)
    # Brute-force defence: free attempts per account / per client address,
    # then locks doubling from 1 s up to the maximum.
    throttle_account_attempts: int = 5
    throttle_max_lock_seconds: int = 900
    # Per client address a token bucket: this many failures at once, one more
    # every `throttle_address_refill_seconds`.
    throttle_address_attempts: int = 30
    throttle_address_refill_seconds: float = 20.0
    # A browser that signed in to an account before gets a signed cookie that
    # lets it try that account past the address and account locks (its own
    # failures count for it alone), for this many days.
    device_cookie_name: str = "__Host-frontdesk_device"
    device_cookie_days: int = 180
    # Impersonation sessions: their length, and whether the person gets a mail.
    impersonation_minutes: int = 30
    impersonation_notice: bool = True
    # Audit events older than this are removed by `frontdesk prune-audit`.
    audit_retention_days: int = 400
    # Webhooks: delivery attempts before a delivery is dead, the per-request
    # timeout, and whether http:// and private addresses are allowed (development).
    webhook_max_attempts: int = 8
    webhook_timeout: float = 10.0
    webhook_allow_private: bool = False
    # OpenID Connect (server/oidc): how long an authorization code may wait for its exchange.
    oidc_code_seconds: int = 60
    # Both default to on in development and off in production.
    introspection: bool = True
    graphiql: bool = True
    # What runs GraphQL operations: "fast", the hand-built pipeline
    # (core/pipeline.py), or "stock", Strawberry's own Schema.execute. Both
    # apply the same limits, masking and metrics (core/policy.py).
    graphql_engine: str = "fast"
    # Trusted documents (server/trusted_documents.py): "allow" runs any document and
    # the manifest's by id; "enforce" lets only bearer credentials send others.
    trusted_documents: str = "allow"
    # Operations: log format ("text" or "json"; json by default in production)
    # and level, Prometheus /metrics (on by default in development only) with
    # an optional bearer token, and how long shutdown waits for requests.
    log_format: str = "text"
    log_level: str = "INFO"
    metrics_enabled: bool = True
    metrics_token: str = ""
    shutdown_timeout_seconds: int = 30
    readiness_timeout_seconds: float = 3.0
    # OpenTelemetry traces over OTLP (server/ops/tracing.py); see `_otel_tracing`.
    tracing: bool = False

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def mail_path(self) -> Path:
        return Path(self.mail_dir)

    @property
    def passkey_origin(self) -> str:
        """The origin browsers sign passkey answers for: the public URL's."""
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def passkey_rp_id(self) -> str:
        """The WebAuthn relying party id: the public URL's host name."""
        return urlsplit(self.public_url).hostname or ""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    environment = _env("ENV", "development")
    development = environment != "production"
    return Settings(
        environment=environment,
        database_url=_env("DATABASE_URL", Settings.database_url),
        public_url=_env("PUBLIC_URL", Settings.public_url).rstrip("/"),
        host=_env("HOST", Settings.host),
        port=_env_int("PORT", Settings.port),
        cors_origins=_env_list("CORS_ORIGINS"),
        session_cookie_name=_env("SESSION_COOKIE", Settings.session_cookie_name),
        session_idle_minutes=_env_int("SESSION_IDLE_MINUTES", Settings.session_idle_minutes),
        session_absolute_hours=_env_int("SESSION_ABSOLUTE_HOURS", Settings.session_absolute_hours),
        invitation_days=_env_int("INVITATION_DAYS", Settings.invitation_days),
        password_reset_minutes=_env_int("PASSWORD_RESET_MINUTES", Settings.password_reset_minutes),
        email_change_hours=_env_int("EMAIL_CHANGE_HOURS", Settings.email_change_hours),
        argon2_time_cost=_env_int("ARGON2_TIME_COST", Settings.argon2_time_cost),
        argon2_memory_kib=_env_int("ARGON2_MEMORY_KIB", Settings.argon2_memory_kib),
        argon2_parallelism=_env_int("ARGON2_PARALLELISM", Settings.argon2_parallelism),
        hash_concurrency=_env_int("HASH_CONCURRENCY", Settings.hash_concurrency),
        smtp_host=_env("SMTP_HOST"),
        smtp_port=_env_int("SMTP_PORT", Settings.smtp_port),
        smtp_username=_env("SMTP_USERNAME"),
        smtp_password=_env("SMTP_PASSWORD"),
        smtp_security=_env("SMTP_SECURITY", Settings.smtp_security),
        smtp_timeout=float(_env("SMTP_TIMEOUT", str(Settings.smtp_timeout))),
        mail_from=_env("MAIL_FROM", Settings.mail_from),
        mail_dir=_env("MAIL_DIR", Settings.mail_dir),
        mail_max_attempts=_env_int("MAIL_MAX_ATTEMPTS", Settings.mail_max_attempts),
        mail_batch_size=_env_int("MAIL_BATCH_SIZE", Settings.mail_batch_size),
        mail_poll_seconds=float(_env("MAIL_POLL_SECONDS", str(Settings.mail_poll_seconds))),
        mail_lease_seconds=float(_env("MAIL_LEASE_SECONDS", str(Settings.mail_lease_seconds))),
        mail_retry_seconds=float(_env("MAIL_RETRY_SECONDS", str(Settings.mail_retry_seconds))),
        run_worker_in_server=_env_bool("RUN_WORKER", True),
        max_body_bytes=_env_int("MAX_BODY_BYTES", Settings.max_body_bytes),
        secret_key=_env("SECRET_KEY"),
        trusted_proxies=_env_list("TRUSTED_PROXIES"),
        throttle_account_attempts=_env_int(
            "THROTTLE_ACCOUNT_ATTEMPTS", Settings.throttle_account_attempts
        ),
        throttle_address_attempts=_env_int(
            "THROTTLE_ADDRESS_ATTEMPTS", Settings.throttle_address_attempts
        ),
        throttle_max_lock_seconds=_env_int(
            "THROTTLE_MAX_LOCK_SECONDS", Settings.throttle_max_lock_seconds
        ),
        throttle_address_refill_seconds=float(
            _env("THROTTLE_ADDRESS_REFILL_SECONDS", str(Settings.throttle_address_refill_seconds))
        ),
        device_cookie_name=_env("DEVICE_COOKIE", Settings.device_cookie_name),
        device_cookie_days=_env_int("DEVICE_COOKIE_DAYS", Settings.device_cookie_days),
        impersonation_minutes=_env_int("IMPERSONATION_MINUTES", Settings.impersonation_minutes),
        impersonation_notice=_env_bool("IMPERSONATION_NOTICE", Settings.impersonation_notice),
        audit_retention_days=_env_int("AUDIT_RETENTION_DAYS", Settings.audit_retention_days),
        webhook_max_attempts=_env_int("WEBHOOK_MAX_ATTEMPTS", Settings.webhook_max_attempts),
        webhook_timeout=float(_env("WEBHOOK_TIMEOUT", str(Settings.webhook_timeout))),
        webhook_allow_private=_env_bool("WEBHOOK_ALLOW_PRIVATE", development),
        oidc_code_seconds=max(1, _env_int("OIDC_CODE_SECONDS", Settings.oidc_code_seconds)),
        introspection=_env_bool("INTROSPECTION", development),
        graphiql=_env_bool("GRAPHIQL", development),
        graphql_engine=_env_choice("GRAPHQL_ENGINE", ("fast", "stock")),
        trusted_documents=_env_choice("TRUSTED_DOCUMENTS", ("allow", "enforce")),
        log_format=_env("LOG_FORMAT", "text" if development else "json").strip().lower(),
        log_level=_env("LOG_LEVEL", Settings.log_level).strip().upper(),
        metrics_enabled=_env_bool("METRICS", development),
        metrics_token=_env("METRICS_TOKEN"),
        shutdown_timeout_seconds=_env_int("SHUTDOWN_TIMEOUT", Settings.shutdown_timeout_seconds),
        readiness_timeout_seconds=float(
            _env("READINESS_TIMEOUT", str(Settings.readiness_timeout_seconds))
        ),
        tracing=_otel_tracing(),
    )
