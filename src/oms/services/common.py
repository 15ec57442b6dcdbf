"""What every use case shares: the clock, retries of transient storage errors, what an
idempotent create answers."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from oms.services.ports import TransientStorageError

__all__ = ["CreateResult", "retry_transient", "utcnow"]

T = TypeVar("T")


@dataclass(frozen=True)
class CreateResult(Generic[T]):
    """What an idempotent create answers: the resource, and whether this call made it
    (False: an earlier call made it and this one found it; the API then answers 200)."""

    resource: T
    created: bool


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
