"""A Shopify shop on loopback, for tests: the Admin REST orders endpoint as documented
(cursor pagination by ``page_info`` in the ``Link`` header, ``X-Shopify-Access-Token``,
429 with ``Retry-After``), the Admin GraphQL calls oms makes (fulfillment orders,
``fulfillmentCreate``, ``productVariants`` by SKU, ``inventorySetQuantities``, THROTTLED
answers), and a record of every request.

``orders`` are REST ``Order`` objects (dicts); ``page_size`` is the shop's own page length
(whatever ``limit`` asks, to make pagination show in a few orders); ``answers`` scripts the
status codes of the first requests (a 429 carries ``Retry-After: retry_after``).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["API_PATH", "FakeShop", "Request", "shop_running"]

API_PATH = "/admin/api/2025-01"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    token: str | None
    status: int


@dataclass
class FakeShop:
    access_token: str
    orders: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2
    answers: list[int] = field(default_factory=list)
    retry_after: str = "2"
    requests: list[Request] = field(default_factory=list)
    base_url: str = ""
    # The Admin GraphQL API: fulfillment orders by order gid, and the fulfilments created.
    fulfillment_orders: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fulfillments: list[dict[str, Any]] = field(default_factory=list)
    graphql_calls: list[dict[str, Any]] = field(default_factory=list)
    # Inventory: each variant's SKU -> its InventoryItem gid; the available quantity of
    # (item gid, location gid) as set; every inventorySetQuantities input received.
    variants: dict[str, str] = field(default_factory=dict)
    available: dict[tuple[str, str], int] = field(default_factory=dict)
    inventory_sets: list[dict[str, Any]] = field(default_factory=list)
    # A shop that is down answers 503 to everything; ``throttled`` GraphQL calls are
    # answered THROTTLED (cost 10, 4 points available, 2 restored a second: wait 3 s).
    down: bool = False
    throttled: int = 0

    def graphql(self, body: dict[str, Any]) -> dict[str, Any]:
        """Answer a query or mutation this fake knows, as the Admin GraphQL API would."""
        self.graphql_calls.append(body)
        query, variables = body["query"], body.get("variables") or {}
        if "fulfillmentOrders" in query:
            nodes = self.fulfillment_orders.get(variables["id"])
            order = None if nodes is None else {"fulfillmentOrders": {"nodes": nodes}}
            return {"data": {"order": order}}
        if "fulfillmentCreate" in query:
            wanted = variables["fulfillment"]
            for group in wanted["lineItemsByFulfillmentOrder"]:
                for node in (n for ns in self.fulfillment_orders.values() for n in ns):
                    if node["id"] != group["fulfillmentOrderId"]:
                        continue
                    for item in group["fulfillmentOrderLineItems"]:
                        for line in node["lineItems"]["nodes"]:
                            if line["id"] == item["id"]:
                                line["remainingQuantity"] -= item["quantity"]
            self.fulfillments.append(wanted)
            made = {
                "id": f"gid://shopify/Fulfillment/{len(self.fulfillments)}",
                "status": "SUCCESS",
            }
            return {"data": {"fulfillmentCreate": {"fulfillment": made, "userErrors": []}}}
        if "productVariants" in query:
            skus = [
                re.sub(r"\\(.)", r"\1", found)
                for found in re.findall(r'sku:"((?:[^"\\]|\\.)*)"', variables["query"])
            ]
            nodes = [
                {"sku": sku, "inventoryItem": {"id": self.variants[sku]}}
                for sku in skus
                if sku in self.variants
            ]
            return {"data": {"productVariants": {"nodes": nodes[: variables["first"]]}}}
        if "inventorySetQuantities" in query:
            wanted = variables["input"]
            known = set(self.variants.values())
            errors = [
                {"code": "INVALID_INVENTORY_ITEM", "field": ["input", "quantities", str(n)],
                 "message": "The specified inventory item could not be found."}
                for n, q in enumerate(wanted["quantities"])
                if q["inventoryItemId"] not in known
            ]  # fmt: skip
            if wanted["name"] != "available" or not wanted.get("reason"):
                errors.append({"code": "INVALID_NAME", "field": ["input"], "message": "no"})
            if not errors:
                self.inventory_sets.append(wanted)
                for q in wanted["quantities"]:
                    self.available[q["inventoryItemId"], q["locationId"]] = q["quantity"]
            group = None if errors else {"reason": wanted["reason"]}
            answer = {"inventoryAdjustmentGroup": group, "userErrors": errors}
            return {"data": {"inventorySetQuantities": answer}}
        return {"errors": [{"message": "unknown query"}]}

    def _page(self, query: dict[str, list[str]]) -> tuple[list[dict[str, Any]], str | None]:
        if "page_info" in query:
            start = int(query["page_info"][0].removeprefix("cursor-"))
        else:
            since = datetime.fromisoformat(query["updated_at_min"][0])
            matching = [o for o in self.orders if datetime.fromisoformat(o["updated_at"]) >= since]
            self._matching = sorted(matching, key=lambda o: o["updated_at"])
            start = 0
        page = self._matching[start : start + self.page_size]
        more = start + self.page_size < len(self._matching)
        link = None
        if more:
            orders = f"{self.base_url}{API_PATH}/orders.json?limit=250&page_info=cursor-"
            nxt = f"{orders}{start + self.page_size}"
            link = f'<{nxt}>; rel="next"'
            if start:
                prev = f"{self.base_url}{API_PATH}/orders.json?limit=250&page_info=cursor-0"
                link = f'<{prev}>; rel="previous", {link}'
        return page, link

    def handler(self) -> type[BaseHTTPRequestHandler]:
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                token = self.headers.get("X-Shopify-Access-Token")
                status = shop.answers.pop(0) if shop.answers else 200
                if token != shop.access_token:
                    status = 401
                if shop.down:
                    status = 503
                shop.requests.append(Request("GET", url.path, query, token, status))
                if status == 429:
                    body = b'{"errors":"Exceeded 2 calls per second for api client."}'
                    self._send(429, body, {"Retry-After": shop.retry_after})
                    return
                if status != 200:
                    self._send(status, b'{"errors":"not now"}', {})
                    return
                if url.path != f"{API_PATH}/orders.json":
                    self._send(404, b'{"errors":"Not Found"}', {})
                    return
                page, link = shop._page(query)
                headers = {"Content-Type": "application/json; charset=utf-8"}
                if link:
                    headers["Link"] = link
                self._send(200, json.dumps({"orders": page}).encode(), headers)

            def do_POST(self) -> None:
                url = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                token = self.headers.get("X-Shopify-Access-Token")
                status = shop.answers.pop(0) if shop.answers else 200
                if token != shop.access_token:
                    status = 401
                if shop.down:
                    status = 503
                shop.requests.append(Request("POST", url.path, {}, token, status))
                if status == 200 and shop.throttled:
                    shop.throttled -= 1
                    throttled = {
                        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                        "extensions": {"cost": {
                            "requestedQueryCost": 10, "actualQueryCost": None,
                            "throttleStatus": {"maximumAvailable": 1000.0,
                                               "currentlyAvailable": 4, "restoreRate": 2.0},
                        }},
                    }  # fmt: skip
                    self._send(200, json.dumps(throttled).encode(), {})
                    return
                if status == 429:
                    body429 = b'{"errors":"Throttled"}'
                    self._send(429, body429, {"Retry-After": shop.retry_after})
                    return
                if status != 200 or url.path != f"{API_PATH}/graphql.json":
                    self._send(status if status != 200 else 404, b'{"errors":"no"}', {})
                    return
                answer = json.dumps(shop.graphql(json.loads(body))).encode()
                self._send(200, answer, {"Content-Type": "application/json"})

        return Handler


@contextmanager
def shop_running(shop: FakeShop) -> Iterator[FakeShop]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), shop.handler())
    shop.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield shop
    finally:
        server.shutdown()
        server.server_close()
