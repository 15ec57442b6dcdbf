"""Merchant webhook endpoints: what they subscribe to and which secrets sign for them.

Secrets follow Standard Webhooks: ``whsec_`` and the base64 of random bytes; the bytes
(decoded) are the HMAC-SHA256 key. A rotated secret keeps signing beside the new one for
``ROTATION_OVERLAP`` so receivers can switch without missing a delivery.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from uuid import UUID

__all__ = [
    "ROTATION_OVERLAP",
    "SECRET_PREFIX",
    "WebhookEndpoint",
    "secret_key_bytes",
    "secret_of",
    "url_problem",
]

SECRET_PREFIX = "whsec_"  # noqa: S105 (the standard prefix, not a secret)
ROTATION_OVERLAP = timedelta(hours=24)
MAX_URL_LENGTH = 2000


def secret_of(random_bytes: bytes) -> str:
    """The ``whsec_`` secret of these random bytes."""
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode()


def secret_key_bytes(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret: its base64 part, decoded."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a webhook endpoint by its form alone (None: it can); whether
    its host is a public address is the address check's question."""
    if len(url) > MAX_URL_LENGTH:
        return f"at most {MAX_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("http", "https"):
        return "must be an http or https URL"
    if not parts.hostname:
        return "must name a host"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials (put them in the path or query instead)"
    if port == 0:
        return "port 0 is not a port"
    if any(c.isspace() for c in url):
        return "must not contain spaces"
    return None


@dataclass(frozen=True)
class WebhookEndpoint:
    """Where a tenant wants its events POSTed, and which ones (``["*"]``: all)."""

    tenant_id: UUID
    id: UUID
    url: str
    event_types: tuple[str, ...]
    description: str | None
    secret: str
    created_at: datetime
    previous_secret: str | None = None
    previous_secret_until: datetime | None = None
    disabled_at: datetime | None = None
    failing_since: datetime | None = None

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint subscribes to events of ``event_type`` (and is enabled)."""
        return self.disabled_at is None and (
            "*" in self.event_types or event_type in self.event_types
        )

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets each delivery at ``now`` is signed with: the current one, and the
        previous one while the rotation's overlap lasts."""
        if self.previous_secret and self.previous_secret_until and now < self.previous_secret_until:
            return [self.secret, self.previous_secret]
        return [self.secret]

    def rotated(self, new_secret: str, now: datetime) -> WebhookEndpoint:
        """This endpoint with ``new_secret``; the current one signs too for a day."""
        return replace(
            self,
            secret=new_secret,
            previous_secret=self.secret,
            previous_secret_until=now + ROTATION_OVERLAP,
        )
