"""A WooCommerce store on loopback, for tests: the REST API v3 endpoints the adapter uses,
as documented: ``GET /orders`` (``modified_after``, ``page``/``per_page``, ``X-WP-Total`` and
``X-WP-TotalPages``), ``GET``/``POST /orders/{id}/notes``, ``PUT /orders/{id}``, and for stock ``GET
/products?sku=A,B`` (products and variations, a variation with ``type: "variation"`` and
its ``parent_id``), ``POST /products/batch`` and ``POST /products/{id}/variations/batch``
(``update`` objects, at most 100, an unknown id answered with its ``error``); over plain
HTTP only OAuth 1.0a one-legged requests are let in (checked here independently of the
adapter's signing); ``answers`` scripts the status of the first requests (a 429 carries
``Retry-After: retry_after``; ``down``: every request answered 503)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from tests.store_server import Answer, Request

__all__ = ["API_PATH", "FakeWooCommerce"]

API_PATH = "/wp-json/wc/v3"
_ORDER = re.compile(rf"{API_PATH}/orders/(\d+)(/notes)?")
_BATCH = re.compile(rf"{API_PATH}/products(?:/(\d+)/variations)?/batch")


def _rfc3986(text: str) -> str:
    return quote(text, safe="~")


@dataclass
class FakeWooCommerce:
    consumer_key: str
    consumer_secret: str
    orders: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2  # whatever per_page asks, to show pagination in a few orders
    answers: list[int] = field(default_factory=list)
    retry_after: str = "2"
    requests: list[Request] = field(default_factory=list)
    notes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    products: list[dict[str, Any]] = field(default_factory=list)  # variations too
    batches: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    down: bool = False
    base_url: str = ""

    def _signed(self, method: str, path: str, query: dict[str, list[str]]) -> bool:
        params = {k: v[0] for k, v in query.items()}
        given = params.pop("oauth_signature", None)
        if given is None or params.get("oauth_consumer_key") != self.consumer_key:
            return False
        if params.get("oauth_signature_method") != "HMAC-SHA256":
            return False
        encoded = sorted((_rfc3986(k), _rfc3986(v)) for k, v in params.items())
        normalized = "&".join("=".join(pair) for pair in encoded)
        base = "&".join([method, _rfc3986(f"{self.base_url}{path}"), _rfc3986(normalized)])
        digest = hmac.new(f"{self.consumer_secret}&".encode(), base.encode(), hashlib.sha256)
        return hmac.compare_digest(base64.b64encode(digest.digest()).decode(), given)

    def answer(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Any,
    ) -> Answer:
        status = self.answers.pop(0) if self.answers else 200
        if self.down:
            status = 503
        if not self._signed(method, path, query):
            status = 401
        self.requests.append(Request(method, path, query, headers, body, status))
        if status == 429:
            return Answer(429, {"code": "too_many_requests"}, {"Retry-After": self.retry_after})
        if status == 401:
            return Answer(401, {"code": "woocommerce_rest_authentication_error"}, {})
        if status != 200:
            return Answer(status, {"code": "internal_server_error"}, {})
        if method == "GET" and path == f"{API_PATH}/orders":
            return self._page(query)
        if method == "GET" and path == f"{API_PATH}/products":
            wanted = set(query["sku"][0].split(","))
            per_page = int(query.get("per_page", ["10"])[0])
            return Answer(200, [p for p in self.products if p["sku"] in wanted][:per_page], {})
        if method == "POST" and (batch := _BATCH.fullmatch(path)):
            return self._batch(batch.group(1), body)
        found = _ORDER.fullmatch(path)
        order = next((o for o in self.orders if found and str(o["id"]) == found.group(1)), None)
        if found is None or order is None:
            return Answer(404, {"code": "woocommerce_rest_shop_order_invalid_id"}, {})
        order_id = found.group(1)
        if found.group(2) and method == "GET":
            return Answer(200, self.notes.get(order_id, []), {})
        if found.group(2) and method == "POST":
            note = {
                "id": 9000 + sum(len(n) for n in self.notes.values()),
                "author": "WooCommerce",
                "date_created": "2026-12-07T13:00:00",
                "date_created_gmt": "2026-12-07T12:00:00",
                "note": body["note"],
                "customer_note": bool(body.get("customer_note")),
            }
            self.notes.setdefault(order_id, []).append(note)
            return Answer(201, note, {})
        if method == "PUT":
            order["status"] = body["status"]
            return Answer(200, order, {})
        return Answer(200, order, {})

    def _page(self, query: dict[str, list[str]]) -> Answer:
        since = datetime.fromisoformat(query["modified_after"][0])
        matching = sorted(
            (o for o in self.orders if datetime.fromisoformat(o["date_modified_gmt"]) > since),
            key=lambda o: int(o["id"]),
        )
        page = int(query.get("page", ["1"])[0])
        start = (page - 1) * self.page_size
        pages = max(1, math.ceil(len(matching) / self.page_size))
        headers = {"X-WP-Total": str(len(matching)), "X-WP-TotalPages": str(pages)}
        return Answer(200, matching[start : start + self.page_size], headers)

    def _batch(self, parent: str | None, body: dict[str, Any]) -> Answer:
        updates = body["update"]
        if len(updates) > 100:
            return Answer(413, {"code": "woocommerce_rest_request_entity_too_large"}, {})
        self.batches.append((parent or "", updates))
        answered = []
        for update in updates:
            product = next(
                (
                    p
                    for p in self.products
                    if p["id"] == update["id"]
                    and (p["type"] == "variation") == (parent is not None)
                    and (parent is None or str(p["parent_id"]) == parent)
                ),
                None,
            )
            if product is None:
                answered.append(
                    {
                        "id": update["id"],
                        "error": {
                            "code": "woocommerce_rest_product_invalid_id",
                            "message": "Invalid ID.",
                            "data": {"status": 400},
                        },
                    }
                )
                continue
            product.update({k: v for k, v in update.items() if k != "id"})
            answered.append(product)
        return Answer(200, {"update": answered}, {})
