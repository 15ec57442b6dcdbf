"""HMAC-SHA256 signatures of carrier webhooks.

A carrier signs the raw request body with the secret it shares with us and sends
``sha256=<64 lower-case hex digits>`` in a header (GitHub's ``X-Hub-Signature-256`` style).
``verify`` recomputes the signature over the exact bytes received, before any parsing, and
compares in constant time; a missing or malformed header, or an empty secret, is refused.
``verify`` bound to the deployment's secret is the ``oms.services.carrier_webhooks``
``SignatureCheck`` port (``oms.wiring``).
"""

from __future__ import annotations

import hashlib
import hmac
import re

__all__ = ["SCHEME", "sign", "verify"]

SCHEME = "sha256="

_HEADER = re.compile(r"sha256=([0-9a-fA-F]{64})")


def sign(body: bytes, secret: str) -> str:
    """The signature header value of ``body``: ``sha256=`` and the hex HMAC-SHA256."""
    if not secret:
        raise ValueError("a webhook secret must not be empty")
    return SCHEME + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secret: str) -> bool:
    """Whether ``header`` is the signature of ``body`` with ``secret``; ``False`` when the
    header is missing or malformed or the secret is empty."""
    if header is None or not secret:
        return False
    match = _HEADER.fullmatch(header)
    if match is None:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(match.group(1).lower(), expected)
