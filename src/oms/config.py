"""All settings, read from ``OMS_*`` environment variables in one place."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Environment", "Settings", "normalise_database_url"]


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def normalise_database_url(url: str) -> str:
    """Accept ``postgresql://`` and ``sqlite:///PATH``; pick the psycopg 3 driver."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith(("postgresql+psycopg://", "sqlite://", "sqlite+pysqlite://")):
        return url
    raise ValueError(
        "OMS_DATABASE_URL must start with sqlite:/// or postgresql:// "
        f"(got {url.split('://', 1)[0]!r})"
    )


# Development defaults only: outside development they must be set (see the validator).
_DEV_SECRET = "oms-development-secret-key"  # noqa: S105 (public on purpose)
_DEV_CARRIER_SECRET = "oms-development-carrier-secret"  # noqa: S105


class Settings(BaseSettings):
    """Settings for every process (API, CLI, worker)."""

    model_config = SettingsConfigDict(env_prefix="OMS_", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = Field(default=f"sqlite:///{Path('oms.db').absolute()}")
    db_pool_size: int = Field(
        default=4,
        ge=1,
        le=200,
        description="Connections each process keeps, and so the requests each API worker "
        "runs against the database at once (the rest wait their turn in the event loop)",
    )
    db_max_overflow: int = Field(default=20, ge=0, le=500)
    db_analyze_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How often each API worker analyzes the PostgreSQL tables that changed "
        "enough and that autovacuum does not (0: never; oms.adapters.db.statistics)",
    )
    max_body_bytes: int = Field(default=1_000_000, ge=1_000)
    max_header_bytes: int = Field(
        default=32_768,
        ge=1_024,
        le=1_048_576,
        description="A request's line and headers together; more is answered 431 "
        "(oms.api.http_protocol)",
    )
    http_read_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3_600,
        description="How long `oms serve` waits for the rest of a request that has begun "
        "(its head within this long of its first byte, each piece of its body within this "
        "long of the last) and for a new connection's first request; then 408 and close",
    )
    max_page_size: int = Field(default=200, ge=1, le=1_000)
    default_page_size: int = Field(default=50, ge=1, le=1_000)
    max_order_lines: int = Field(default=250, ge=1, le=10_000)
    intake_group_size: int = Field(
        default=32,
        ge=1,
        le=500,
        description="At most this many orders an API worker places in one transaction "
        "(orders that arrive while earlier ones are written go together; 1: one by one)",
    )
    intake_group_wait_ms: float = Field(
        default=6.0,
        ge=0,
        le=1_000,
        description="After an API worker answers a big group of orders, how long the orders "
        "that wait may wait for its callers' next orders to go with them (0: never; "
        "oms.api.intake_groups)",
    )
    api_key_cache_seconds: float = Field(default=5.0, ge=0)
    docs_enabled: bool = True
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where customers reach this service (tracking and download links)",
    )
    public_rate_limit_per_minute: float = Field(
        default=30.0,
        gt=0,
        le=100_000,
        description="Requests a minute each client address may make to the public status and "
        "tracking pages, after a burst of OMS_PUBLIC_RATE_LIMIT_BURST (oms.web.rate_limit)",
    )
    public_rate_limit_burst: int = Field(default=20, ge=1, le=100_000)
    secret_key: str = Field(default=_DEV_SECRET, min_length=16)
    carrier_webhook_secret: str = Field(default=_DEV_CARRIER_SECRET, min_length=16)
    smtp_url: str | None = Field(
        default=None,
        description="Mail server for customer email, smtp://[user:password@]host:port"
        "[?starttls=1&timeout=10] or smtps://...; unset: no email is sent",
    )
    email_from: str = Field(
        default="orders@localhost",
        description="Sender address of tenants that set none (notification settings)",
    )
    nats_url: str | None = Field(
        default=None,
        description="NATS server events are also published to (JetStream stream OMS, "
        "subjects oms.<tenant_id>.<event type>), e.g. nats://127.0.0.1:4222; unset: none",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Let webhook endpoints reach loopback, private and link-local addresses "
        "(tests, the demo, a receiver on this host); off, only public addresses are called",
    )
    webhook_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    webhook_read_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("smtp_url")
    @classmethod
    def _known_mail_server(cls, value: str | None) -> str | None:
        if value and not value.startswith(("smtp://", "smtps://")):
            raise ValueError("OMS_SMTP_URL must start with smtp:// or smtps://")
        return value or None

    @model_validator(mode="after")
    def _safe_outside_development(self) -> Settings:
        if self.default_page_size > self.max_page_size:
            raise ValueError("OMS_DEFAULT_PAGE_SIZE cannot exceed OMS_MAX_PAGE_SIZE")
        if self.environment is Environment.PRODUCTION and (
            self.secret_key == _DEV_SECRET or self.carrier_webhook_secret == _DEV_CARRIER_SECRET
        ):
            raise ValueError(
                "set OMS_SECRET_KEY and OMS_CARRIER_WEBHOOK_SECRET in production "
                "(the development defaults are public)"
            )
        return self
