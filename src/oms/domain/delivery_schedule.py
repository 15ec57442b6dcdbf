"""When a failed delivery is tried again, and when it is given up (docs/events.md).

Attempt 1 goes out as soon as a worker has the event. After the n-th failed attempt the
next waits ``5 s * 5 ** (n - 1)``, at most a day, each wait stretched or shrunk by up to a
fifth at random so that the retries of many deliveries that failed together do not arrive
together. After the 8th failed attempt (about 27 hours after the first) the delivery is dead.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from random import Random

__all__ = [
    "ENDPOINT_DISABLED_AFTER",
    "FIRST_RETRY",
    "JITTER",
    "LONGEST_WAIT",
    "MAX_ATTEMPTS",
    "DeliveryStatus",
    "base_delay",
    "retry_delay",
    "schedule_table",
]

FIRST_RETRY = timedelta(seconds=5)
GROWTH = 5
LONGEST_WAIT = timedelta(hours=24)
JITTER = 0.2
MAX_ATTEMPTS = 8
# A webhook endpoint whose deliveries have failed, with no success since, for this long is
# disabled (and its tenant told).
ENDPOINT_DISABLED_AFTER = timedelta(days=3)


class DeliveryStatus(StrEnum):
    """Where one (event, subscriber) delivery stands."""

    PENDING = "pending"  # waiting for its next attempt (or being attempted)
    DELIVERED = "delivered"
    FAILED = "failed"  # dead: every attempt of the schedule failed
    CANCELLED = "cancelled"  # nothing to send any more (the endpoint was deleted, disabled)


def base_delay(failed_attempts: int) -> timedelta:
    """The wait after ``failed_attempts`` failures in a row, before jitter."""
    if failed_attempts < 1:
        raise ValueError("at least one attempt failed before a retry")
    seconds = FIRST_RETRY.total_seconds() * GROWTH ** (failed_attempts - 1)
    return min(timedelta(seconds=seconds), LONGEST_WAIT)


def retry_delay(failed_attempts: int, rng: Random) -> timedelta | None:
    """How long to wait before the next attempt after ``failed_attempts`` failures in a
    row; None when the schedule is exhausted (the delivery is dead)."""
    if failed_attempts >= MAX_ATTEMPTS:
        return None
    factor = 1 + rng.uniform(-JITTER, JITTER)
    return base_delay(failed_attempts) * factor


def schedule_table() -> list[tuple[int, timedelta]]:
    """(attempt, wait before it without jitter) for attempts 2 to ``MAX_ATTEMPTS``."""
    return [(n + 1, base_delay(n)) for n in range(1, MAX_ATTEMPTS)]
