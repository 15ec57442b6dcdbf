"""A Magento 2 store on loopback, for tests: ``GET /rest/V1/orders`` with ``searchCriteria``
(an ``updated_at`` ``gteq`` filter, ``pageSize``/``currentPage``, ``total_count``; a page past
the end answered with the last page, as Magento does), ``GET /rest/V1/orders/{id}`` and
``POST /rest/V1/order/{id}/ship`` (items checked against what is left to ship, tracks kept);
``POST /rest/V1/inventory/source-items`` (every item's SKU and source checked, all saved
or none); a bearer token; ``answers`` scripts the status of the first requests; ``down``:
every request answered 503."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from tests.store_server import Answer, Request

__all__ = ["API_PATH", "FakeMagento"]

API_PATH = "/rest/V1"
_ORDER = re.compile(rf"{API_PATH}/orders/(\d+)")
_SHIP = re.compile(rf"{API_PATH}/order/(\d+)/ship")
_FILTER = "searchCriteria[filter_groups][0][filters][0]"


@dataclass
class FakeMagento:
    access_token: str
    orders: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2  # whatever pageSize asks
    answers: list[int] = field(default_factory=list)
    retry_after: str = "2"
    requests: list[Request] = field(default_factory=list)
    shipments: list[dict[str, Any]] = field(default_factory=list)
    total_count_extra: int = 0  # a count that overstates what matches (orders in flux)
    catalogue: set[str] = field(default_factory=set)  # the SKUs of its products
    sources: set[str] = field(default_factory=lambda: {"default"})
    source_items: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    source_item_saves: list[list[dict[str, Any]]] = field(default_factory=list)
    down: bool = False
    base_url: str = ""

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
        if headers.get("authorization") != f"Bearer {self.access_token}":
            status = 401
        self.requests.append(Request(method, path, query, headers, body, status))
        if status == 429:
            return Answer(429, {"message": "Too Many Requests"}, {"Retry-After": self.retry_after})
        if status == 401:
            return Answer(
                401, {"message": "The consumer isn't authorized to access %resources."}, {}
            )
        if status != 200:
            return Answer(status, {"message": "Internal Error"}, {})
        if method == "GET" and path == f"{API_PATH}/orders":
            return self._search(query)
        if method == "GET" and (found := _ORDER.fullmatch(path)):
            order = self._order(found.group(1))
            if order is None:
                return Answer(404, {"message": "The entity that was requested doesn't exist."}, {})
            return Answer(200, order, {})
        if method == "POST" and (found := _SHIP.fullmatch(path)):
            return self._ship(found.group(1), body)
        if method == "POST" and path == f"{API_PATH}/inventory/source-items":
            return self._save_source_items(body["sourceItems"])
        return Answer(404, {"message": "Request does not match any route."}, {})

    def _order(self, entity_id: str) -> dict[str, Any] | None:
        return next((o for o in self.orders if str(o["entity_id"]) == entity_id), None)

    def _search(self, query: dict[str, list[str]]) -> Answer:
        assert query[f"{_FILTER}[field]"] == ["updated_at"]
        assert query[f"{_FILTER}[condition_type]"] == ["gteq"]
        since = query[f"{_FILTER}[value]"][0]
        matching = sorted(
            (o for o in self.orders if o["updated_at"] >= since), key=lambda o: o["entity_id"]
        )
        last = max(1, math.ceil(len(matching) / self.page_size))
        page = min(int(query["searchCriteria[currentPage]"][0]), last)  # Magento's quirk
        start = (page - 1) * self.page_size
        body = {
            "items": matching[start : start + self.page_size],
            "search_criteria": {"page_size": self.page_size, "current_page": page},
            "total_count": len(matching) + self.total_count_extra,
        }
        return Answer(200, body, {})

    def _ship(self, entity_id: str, body: dict[str, Any]) -> Answer:
        order = self._order(entity_id)
        if order is None:
            return Answer(404, {"message": "The entity that was requested doesn't exist."}, {})
        items = {item["item_id"]: item for item in order["items"]}
        for wanted in body["items"]:
            item = items.get(wanted["order_item_id"])
            if item is None or item["qty_ordered"] - item["qty_shipped"] < wanted["qty"]:
                return Answer(400, {"message": "Shipment Document Validation Error(s)"}, {})
        for wanted in body["items"]:
            items[wanted["order_item_id"]]["qty_shipped"] += wanted["qty"]
        self.shipments.append(body)
        return Answer(200, 40 + len(self.shipments), {})

    def _save_source_items(self, items: list[dict[str, Any]]) -> Answer:
        errors = [
            {"message": f"SKU {item['sku']} or source {item['source_code']} is unknown"}
            for item in items
            if item["sku"] not in self.catalogue or item["source_code"] not in self.sources
        ]
        if errors:
            return Answer(400, {"message": "Validation Failed", "errors": errors}, {})
        self.source_item_saves.append(items)
        for item in items:
            self.source_items[(item["sku"], item["source_code"])] = item
        return Answer(200, [], {})
