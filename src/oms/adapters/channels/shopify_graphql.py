"""One call to a shop's Admin GraphQL API, patient with its rate limits.

``POST {api_base_url}/graphql.json`` with ``X-Shopify-Access-Token``. Shopify limits
GraphQL calls by query cost (a leaky bucket per app and shop): a call the bucket cannot
pay for is answered with an error of code ``THROTTLED`` and the bucket's state in
``extensions.cost.throttleStatus`` (``currentlyAvailable``, ``restoreRate`` points a
second); a 429 carries ``Retry-After``. Either is waited out (``sleep`` injected, at most
``max_wait`` seconds a time, ``attempts`` calls in all). Any other failure raises
``GraphQLFailed`` at once: the outbox retries the delivery on its own schedule.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

__all__ = ["GraphQLFailed", "ShopifyGraphQL", "throttle_wait"]


class GraphQLFailed(Exception):
    """The call did not succeed: ``status`` the HTTP status if any; ``final`` when a retry
    cannot help (the shop refused what was asked)."""

    def __init__(self, message: str, status: int | None = None, final: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.final = final


def throttle_wait(extensions: Mapping[str, Any] | None, fallback: float = 1.0) -> float:
    """Seconds until the bucket holds the query's cost again, from a THROTTLED answer's
    ``extensions.cost``: (requested cost - currently available) / restore rate."""
    cost = (extensions or {}).get("cost")
    if not isinstance(cost, Mapping):
        return fallback
    status = cost.get("throttleStatus")
    try:
        requested = float(cost["requestedQueryCost"])
        available = float(status["currentlyAvailable"])  # type: ignore[index]
        rate = float(status["restoreRate"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return fallback
    if rate <= 0:
        return fallback
    return max(0.0, requested - available) / rate


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def _throttled(errors: Any) -> bool:
    return isinstance(errors, list) and any(
        isinstance(e, Mapping)
        and (
            (e.get("extensions") or {}).get("code") == "THROTTLED"
            or e.get("message") == "Throttled"
        )
        for e in errors
    )


class ShopifyGraphQL:
    """Calls to one or more shops' Admin GraphQL APIs over one HTTP client."""

    def __init__(
        self,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 30.0,
        attempts: int = 5,
    ) -> None:
        self._client = client or httpx.Client(timeout=30.0)
        self._sleep = sleep
        self._max_wait = max_wait
        self._attempts = attempts

    def call(self, url: str, token: str, query: str, variables: Mapping[str, Any]) -> Any:
        """The answer's ``data``, after waiting out 429s and THROTTLED answers."""
        for _ in range(self._attempts):
            try:
                response = self._client.post(
                    url,
                    json={"query": query, "variables": dict(variables)},
                    headers={"X-Shopify-Access-Token": token},
                )
            except httpx.TransportError as error:
                raise GraphQLFailed(f"{type(error).__name__}: {error}") from None
            if response.status_code == 429:
                self._sleep(min(_retry_after(response), self._max_wait))
                continue
            if response.status_code >= 300:
                raise GraphQLFailed(response.text[:500], response.status_code)
            body = json.loads(response.content)
            errors = body.get("errors")
            if _throttled(errors):
                self._sleep(min(throttle_wait(body.get("extensions")), self._max_wait))
                continue
            if errors:
                raise GraphQLFailed(json.dumps(errors)[:500], response.status_code)
            return body.get("data") or {}
        raise GraphQLFailed("still rate limited after every wait", 429)

    def close(self) -> None:
        self._client.close()
