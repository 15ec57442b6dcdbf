"""What every use case shares: the clock, retries of transient storage errors, paging."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from oms.services.ports import TransientStorageError

__all__ = ["retry_transient", "utcnow"]

T = TypeVar("T")

MAX_ATTEMPTS = 8


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def retry_transient(attempt: Callable[[], T], *, attempts: int = MAX_ATTEMPTS) -> T:
    """Run ``attempt`` (one whole transaction) again after a deadlock or lock timeout."""
    for n in range(attempts):
        try:
            return attempt()
        except TransientStorageError:
            if n == attempts - 1:
                raise
            time.sleep(random.uniform(0, 0.005 * 2**n))
    raise AssertionError("unreachable")
