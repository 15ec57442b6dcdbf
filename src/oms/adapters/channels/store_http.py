"""Calls to a store's REST API, patient with its rate limit: one place for the waiting rules
of the WooCommerce and Magento adapters.

    a 429          -> wait its Retry-After seconds (at most ``max_wait``), try again
    a 5xx, a drop  -> a backfill waits 1, 2, 4, 8, 16 s and tries again; a push fails the
                      attempt at once (the outbox retries it on its schedule)
    other 4xx      -> fails at once (404 ``final``: a retry cannot help)

``sleep`` is injected so tests never wait for real. ``store_attempt`` turns one attempt of
a push (a shipment, stock) into the outbox's ``Outcome``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from oms.domain.channels import SyncOutcome
from oms.services.channels import PayloadRefused, StoreUnavailable
from oms.services.events import Outcome

__all__ = [
    "BACKFILL",
    "PUSH",
    "RetryPolicy",
    "StoreCallFailed",
    "StoreHttp",
    "retry_after",
    "store_attempt",
]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int
    wait_out_server_errors: bool
    first_backoff: float = 1.0
    max_wait: float = 300.0


BACKFILL = RetryPolicy(attempts=6, wait_out_server_errors=True)
PUSH = RetryPolicy(attempts=5, wait_out_server_errors=False, max_wait=30.0)


class StoreCallFailed(StoreUnavailable):
    """The store did not answer a call usefully; ``status`` its last answer, if any."""

    def __init__(self, message: str, *, status: int | None = None, final: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.final = final


def retry_after(response: httpx.Response, fallback: float) -> float:
    """The seconds a 429 asks to wait (``Retry-After``), else ``fallback``."""
    raw = response.headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else fallback
    except ValueError:
        return fallback


# Given method, URL and query parameters: the parameters and headers that authenticate it.
Authenticate = Callable[[str, str, dict[str, Any]], tuple[dict[str, Any], dict[str, str]]]


class StoreHttp:
    """One store's REST API: ``call`` returns a 2xx answer or raises ``StoreCallFailed``."""

    def __init__(
        self,
        *,
        authenticate: Authenticate,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._authenticate = authenticate
        self._client = client or httpx.Client(timeout=30.0)
        self._sleep = sleep

    def call(
        self,
        method: str,
        url: str,
        *,
        policy: RetryPolicy,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        backoff = policy.first_backoff
        for attempt in range(policy.attempts):
            query, headers = self._authenticate(method, url, dict(params or {}))
            try:
                response = self._client.request(
                    method, url, params=query, headers=headers, json=json
                )
            except httpx.TransportError as error:
                problem = f"{method} {url}: {type(error).__name__}: {error}"
                if not policy.wait_out_server_errors:
                    raise StoreCallFailed(problem) from None
                status, wait = None, backoff
            else:
                if response.status_code < 300:
                    return response
                status = response.status_code
                problem = f"{method} {url} answered {status}: {response.text[:300]}"
                if status == 429:
                    wait = retry_after(response, backoff)
                elif status >= 500 and policy.wait_out_server_errors:
                    wait = backoff
                else:
                    raise StoreCallFailed(problem, status=status, final=status == 404)
            if attempt == policy.attempts - 1:
                raise StoreCallFailed(f"{problem} ({policy.attempts} attempts)", status=status)
            self._sleep(min(wait, policy.max_wait))
            backoff *= 2
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._client.close()


def store_attempt(push: Callable[[], str], log: Callable[[SyncOutcome, str], None]) -> Outcome:
    """Run one attempt of a REST store push (``push`` returns what it did) and log it: a
    ``StoreCallFailed`` is the attempt's outcome (the outbox retries unless ``final``); an
    answer that is not what the store documents, or that refuses what was sent
    (``PayloadRefused``), cannot get better by retrying and ends the delivery."""
    started = time.perf_counter()
    try:
        detail = push()
    except StoreCallFailed as failed:
        status, final, problem = failed.status, failed.final, str(failed)
    except PayloadRefused as refused:
        status, final, problem = 200, True, str(refused)
    else:
        log(SyncOutcome.OK, detail)
        return Outcome(
            delivered=True, status_code=200, latency_ms=(time.perf_counter() - started) * 1000
        )
    log(SyncOutcome.FAILED, problem)
    return Outcome(
        delivered=False,
        status_code=status,
        error=problem[:500],
        latency_ms=(time.perf_counter() - started) * 1000,
        final=final,
    )
