"""Shopify's Admin REST API: orders page by page, patient with its rate limit.

``GET {api_base_url}/orders.json?status=any&updated_at_min=...&limit=250`` with the
``X-Shopify-Access-Token`` header; the next page is the ``rel="next"`` URL of the ``Link``
header (cursor pagination by ``page_info``: that URL carries every parameter it needs).
A 429 is retried after its ``Retry-After`` seconds; a 5xx or a connection error after a
doubling backoff; ``sleep`` is injected so tests never wait for real.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

from oms.adapters.channels.shopify import ShopifyPayloadError, parse_order_json
from oms.services.channels import StoreUnavailable

__all__ = ["ShopifyAdmin", "ShopifyUnavailable", "next_page_url"]

PAGE_SIZE = 250
MAX_ATTEMPTS = 6
FIRST_BACKOFF = 1.0
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class ShopifyUnavailable(StoreUnavailable):
    """The shop did not answer after every retry."""


def next_page_url(link: str | None) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header, or None on the last page."""
    if not link:
        return None
    found = _NEXT.search(link)
    return None if found is None else found.group(1)


def _retry_after(response: httpx.Response, fallback: float) -> float:
    raw = response.headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else fallback
    except ValueError:
        return fallback


class ShopifyAdmin:
    """One shop's Admin API: ``api_base_url`` as ``https://<shop>/admin/api/<version>``."""

    def __init__(
        self,
        *,
        api_base_url: str,
        access_token: str,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._base = api_base_url.rstrip("/")
        self._token = access_token
        self._client = client or httpx.Client(timeout=30.0)
        self._sleep = sleep

    def get(self, url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """A GET answered 2xx, after waiting out 429s, 5xx and dropped connections."""
        backoff = FIRST_BACKOFF
        for attempt in range(MAX_ATTEMPTS):
            try:
                response = self._client.get(
                    url, params=params, headers={"X-Shopify-Access-Token": self._token}
                )
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}: {error}"
                wait = backoff
            else:
                if response.status_code < 400:
                    return response
                if response.status_code != 429 and response.status_code < 500:
                    raise ShopifyUnavailable(
                        f"GET {url} answered {response.status_code}: {response.text[:200]}"
                    )
                problem = f"GET {url} answered {response.status_code}"
                wait = _retry_after(response, backoff)
            if attempt == MAX_ATTEMPTS - 1:
                raise ShopifyUnavailable(f"{problem} ({MAX_ATTEMPTS} attempts)")
            self._sleep(wait)
            backoff *= 2
        raise AssertionError("unreachable")

    def orders_since(self, since: datetime) -> Iterator[dict[str, Any]]:
        """Every order updated at or after ``since`` (any status), oldest page first."""
        url: str | None = f"{self._base}/orders.json"
        params: dict[str, Any] | None = {
            "status": "any",
            "updated_at_min": since.astimezone(UTC).isoformat(),
            "limit": PAGE_SIZE,
            "order": "updated_at asc",
        }
        while url is not None:
            response = self.get(url, params)
            body = parse_order_json(response.content)
            orders = body.get("orders")
            if not isinstance(orders, list):
                raise ShopifyPayloadError("the answer has no orders list")
            yield from (o for o in orders if isinstance(o, dict))
            url = next_page_url(response.headers.get("Link"))
            params = None  # the next URL carries page_info and limit; nothing may be added
