"""WooCommerce's REST API v3 (``{store_url}/wp-json/wc/v3``): orders page by page for a
backfill, order notes and the order's status for the push-back.

Authentication with the REST API key (consumer key and secret), as WooCommerce documents it:
over HTTPS, HTTP Basic (key as user, secret as password); over plain HTTP, where Basic is
refused, OAuth 1.0a "one-legged": ``oauth_consumer_key``, ``oauth_timestamp``,
``oauth_nonce``, ``oauth_signature_method=HMAC-SHA256`` and ``oauth_signature`` in the query,
the signature being the base64 HMAC-SHA256, keyed with ``consumer_secret&``, of
``METHOD&enc(url without query)&enc(sorted enc(key)=enc(value) joined by &)`` (RFC 5849).

Backfill: ``GET /orders?modified_after=T&dates_are_gmt=true&orderby=id&order=asc&per_page=100
&page=N``, N from 1 to the ``X-WP-TotalPages`` header (id order: an order changed during the
sync does not move between pages).

Stock: ``GET /products?sku=A,B`` finds products and variations by SKU, ``POST
/products/batch`` and ``POST /products/{id}/variations/batch`` update up to 100 at a time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from oms.adapters.channels.payload import parse_json
from oms.adapters.channels.store_http import BACKFILL, RetryPolicy, StoreHttp
from oms.adapters.channels.woocommerce import WooCommercePayloadError, parse_order_json
from oms.domain.channels import ChannelConnection
from oms.services.common import utcnow

__all__ = ["API_PATH", "PAGE_SIZE", "WooCommerceRest", "oauth1_signature"]

API_PATH = "/wp-json/wc/v3"
PAGE_SIZE = 100


def _enc(value: str) -> str:
    return quote(value, safe="-._~")


def oauth1_signature(method: str, url: str, params: dict[str, str], consumer_secret: str) -> str:
    """The ``oauth_signature`` of a request (``params``: its query without the signature)."""
    parts = urlsplit(url)
    base_url = f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path}"
    pairs = sorted((_enc(k), _enc(v)) for k, v in params.items())
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    base = f"{method.upper()}&{_enc(base_url)}&{_enc(normalized)}"
    key = f"{consumer_secret}&".encode()
    return base64.b64encode(hmac.new(key, base.encode(), hashlib.sha256).digest()).decode()


class WooCommerceRest:
    """One store's REST API with its consumer key and secret."""

    def __init__(
        self,
        *,
        store_url: str,
        consumer_key: str,
        consumer_secret: str,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._base = store_url.rstrip("/") + API_PATH
        self._key = consumer_key
        self._secret = consumer_secret
        self._clock = clock
        self._http = StoreHttp(authenticate=self._authenticate, client=client, sleep=sleep)

    @classmethod
    def of(
        cls,
        connection: ChannelConnection,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> WooCommerceRest:
        return cls(
            store_url=str(connection.settings["store_url"]),
            consumer_key=connection.credentials.get("consumer_key", ""),
            consumer_secret=connection.credentials.get("consumer_secret", ""),
            client=client,
            sleep=sleep,
        )

    def _authenticate(
        self, method: str, url: str, params: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        if url.startswith("https://"):
            token = base64.b64encode(f"{self._key}:{self._secret}".encode()).decode()
            return params, {"Authorization": f"Basic {token}"}
        signed = {k: str(v) for k, v in params.items()}
        signed.update(
            oauth_consumer_key=self._key,
            oauth_timestamp=str(int(self._clock().timestamp())),
            oauth_nonce=secrets.token_hex(16),
            oauth_signature_method="HMAC-SHA256",
        )
        signed["oauth_signature"] = oauth1_signature(method, url, signed, self._secret)
        return signed, {}

    def orders_since(self, since: datetime) -> Iterator[dict[str, Any]]:
        """Every order modified at or after ``since`` (any status), page by page."""
        page, pages = 1, 1
        while page <= pages:
            params = {
                "modified_after": since.astimezone(UTC).replace(tzinfo=None).isoformat(),
                "dates_are_gmt": "true",
                "orderby": "id",
                "order": "asc",
                "per_page": PAGE_SIZE,
                "page": page,
            }
            response = self._http.call(
                "GET", f"{self._base}/orders", policy=BACKFILL, params=params
            )
            orders = parse_json(response.content, WooCommercePayloadError)
            if not isinstance(orders, list):
                raise WooCommercePayloadError("the answer is not a list of orders")
            if not orders:
                return
            yield from (o for o in orders if isinstance(o, dict))
            try:
                pages = int(response.headers.get("X-WP-TotalPages", page))
            except ValueError:
                pages = page
            page += 1

    def notes(self, order_id: str, *, policy: RetryPolicy) -> list[dict[str, Any]]:
        """The order's notes (``GET /orders/{id}/notes``)."""
        response = self._http.call("GET", f"{self._base}/orders/{order_id}/notes", policy=policy)
        found = parse_json(response.content, WooCommercePayloadError)
        return [n for n in found if isinstance(n, dict)] if isinstance(found, list) else []

    def add_note(self, order_id: str, note: str, *, policy: RetryPolicy) -> None:
        """A note the customer is told of (``customer_note: true``)."""
        self._http.call(
            "POST",
            f"{self._base}/orders/{order_id}/notes",
            policy=policy,
            json={"note": note, "customer_note": True},
        )

    def set_status(self, order_id: str, status: str, *, policy: RetryPolicy) -> dict[str, Any]:
        """``PUT /orders/{id}`` with the new status; the order as the store answers it."""
        response = self._http.call(
            "PUT", f"{self._base}/orders/{order_id}", policy=policy, json={"status": status}
        )
        return parse_order_json(response.content)

    def products_by_sku(self, skus: Sequence[str], *, policy: RetryPolicy) -> list[dict[str, Any]]:
        """The products and variations with these SKUs (``GET /products?sku=A,B``; a
        variation comes with ``type: "variation"`` and its ``parent_id``)."""
        response = self._http.call(
            "GET",
            f"{self._base}/products",
            policy=policy,
            params={"sku": ",".join(skus), "per_page": PAGE_SIZE},
        )
        found = parse_json(response.content, WooCommercePayloadError)
        if not isinstance(found, list):
            raise WooCommercePayloadError("the answer is not a list of products")
        return [p for p in found if isinstance(p, dict)]

    def batch_update(
        self, path: str, updates: Sequence[dict[str, Any]], *, policy: RetryPolicy
    ) -> list[dict[str, Any]]:
        """``POST {path}/batch`` with ``{"update": updates}`` (``path``: ``/products`` or
        ``/products/{id}/variations``); the answer's ``update`` list, where an object that
        was refused carries an ``error``."""
        response = self._http.call(
            "POST", f"{self._base}{path}/batch", policy=policy, json={"update": list(updates)}
        )
        found = parse_json(response.content, WooCommercePayloadError)
        updated = found.get("update") if isinstance(found, dict) else None
        if not isinstance(updated, list):
            raise WooCommercePayloadError("the batch answer has no update list")
        return [u for u in updated if isinstance(u, dict)]

    def close(self) -> None:
        self._http.close()
