"""Standard Webhooks 1.0 signatures (standardwebhooks.com): ``v1,<base64 HMAC-SHA256>`` of
``<webhook-id>.<webhook-timestamp>.<body>``, keyed with the ``whsec_`` secret's decoded
bytes; several signatures (a rotation) are sent space-separated."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from oms.domain.webhooks import secret_key_bytes

__all__ = ["sign", "signature_header"]


def sign(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,...`` signature of one delivery with one secret."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: Sequence[str], *, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: one signature per secret, space-separated."""
    return " ".join(sign(s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets)
