"""A per-client token bucket for the public pages, held in the process.

Each client (an IPv4 address, or the /64 network of an IPv6 one, which one household or
host usually holds whole) has a bucket of ``burst`` tokens that refills at ``per_minute``
tokens a minute; a request takes one, and a request that finds none is refused with the
seconds until the next token. ``clock`` is monotonic seconds, injected so tests move time
without sleeping.

Buckets live in one process: with N API workers a client may make N times as many requests
(each worker counts its own), which bounds guessing well enough for pages that reveal
nothing without the right details. Full buckets are forgotten when the table grows past
``max_clients`` (then the oldest half, if that is not enough), so memory stays bounded
whatever the clients do.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Callable

__all__ = ["RateLimited", "RateLimiter", "client_key"]


class RateLimited(Exception):
    """A client made too many requests; ``retry_after`` seconds until it may again."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


def client_key(host: str | None) -> str:
    """The bucket a client address counts against."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class RateLimiter:
    """Token buckets by client key; thread-safe."""

    def __init__(
        self,
        *,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 100_000,
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def _level(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (self._burst, now))
        return min(self._burst, tokens + max(0.0, now - at) * self._rate)

    def take(self, key: str) -> int | None:
        """Take a token for ``key``: None when granted, else whole seconds to wait."""
        with self._lock:
            now = self._clock()
            tokens = self._level(key, now)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > self._max_clients:
                    self._forget_full(now)
                return None
            self._buckets[key] = (tokens, now)
            if self._rate <= 0:
                return 3600
            return max(1, math.ceil((1.0 - tokens) / self._rate))

    def _forget_full(self, now: float) -> None:
        full = [k for k in self._buckets if self._level(k, now) >= self._burst]
        for key in full:
            del self._buckets[key]
        # Still too many (clients from very many addresses): the oldest half goes.
        if len(self._buckets) > self._max_clients:
            for key in list(self._buckets)[: len(self._buckets) // 2]:
                del self._buckets[key]
