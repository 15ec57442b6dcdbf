"""Store pickup codes: derived from the deployment's secret, never stored, locked when guessed.

A code is six digits, an HMAC-SHA256 of the fulfilment order and the moment it became
ready, keyed by ``OMS_SECRET_KEY``::

    code     = HMAC(key, "pickup-code" | tenant | fulfilment order | ready_at) mod 10^6
    verifier = HMAC(key, "pickup-verifier" | fulfilment order | code)   (the stored column)

Nothing stored reveals the code: the database holds only the keyed verifier, which cannot be
tried against the million possible codes without the key; outbox messages and the timeline
name the fulfilment order. Whoever holds the key (the notification step) derives the code
again while the pickup is ready (``PickupCodeKey.code_of``); changing the key voids every
outstanding code.

Guessing is bounded: every ``WRONG_CODES_PER_LOCK``-th wrong code locks the pickup, the
first time for ``FIRST_LOCK``, each next time twice as long (at most ``LONGEST_LOCK``).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

__all__ = [
    "FIRST_LOCK",
    "LONGEST_LOCK",
    "WRONG_CODES_PER_LOCK",
    "PickupCodeKey",
    "lock_after",
]

WRONG_CODES_PER_LOCK = 5
FIRST_LOCK = timedelta(minutes=15)
LONGEST_LOCK = timedelta(hours=24)

_DIGITS = 1_000_000


def lock_after(wrong_codes: int) -> timedelta | None:
    """How long the pickup locks after its ``wrong_codes``-th wrong code; None: no lock."""
    if wrong_codes <= 0 or wrong_codes % WRONG_CODES_PER_LOCK:
        return None
    doublings: int = min(wrong_codes // WRONG_CODES_PER_LOCK - 1, 16)
    lock: timedelta = FIRST_LOCK * (1 << doublings)
    return min(lock, LONGEST_LOCK)


@dataclass(frozen=True)
class PickupCodeKey:
    """The deployment secret that makes and checks pickup codes (``OMS_SECRET_KEY``)."""

    secret: str

    def __repr__(self) -> str:
        return "PickupCodeKey(<secret>)"

    def _mac(self, *parts: str) -> bytes:
        message = "\x1f".join(parts).encode()
        return hmac.new(self.secret.encode(), message, hashlib.sha256).digest()

    def code_of(self, *, tenant_id: UUID, fo_id: UUID, ready_at: datetime) -> str:
        """The six-digit code of the pickup that became ready at ``ready_at``."""
        moment = ready_at.astimezone(UTC).isoformat(timespec="microseconds")
        digest = self._mac("pickup-code", str(tenant_id), str(fo_id), moment)
        return f"{int.from_bytes(digest[:8], 'big') % _DIGITS:06d}"

    def verifier(self, *, fo_id: UUID, code: str) -> str:
        """What is stored for a code: a keyed hash bound to its fulfilment order."""
        return self._mac("pickup-verifier", str(fo_id), code.strip()).hex()

    def matches(self, *, fo_id: UUID, code: str, stored: str | None) -> bool:
        """True when ``code`` is the one whose verifier is ``stored`` (constant time)."""
        if not stored:
            return False
        return hmac.compare_digest(stored, self.verifier(fo_id=fo_id, code=code))
