"""Magento 2's REST API (``{base_url}/rest/V1``) with an integration's access token as a
bearer token: orders by ``searchCriteria`` for the pull, one order, shipments, and the
quantities of source items (stock per source).

The pull: ``GET /orders`` filtered on ``updated_at`` ``gteq`` the start (Magento keeps
``updated_at`` in UTC, as ``YYYY-MM-DD HH:MM:SS``), sorted by ``entity_id`` ascending,
``pageSize`` 100, ``currentPage`` from 1 until ``total_count`` orders came: Magento answers
a page past the end with the last page again (its ``search_criteria.current_page`` then
differs from the one asked), so the count, not an empty page, ends it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from oms.adapters.channels.magento import MagentoPayloadError, parse_order_json
from oms.adapters.channels.store_http import BACKFILL, RetryPolicy, StoreHttp
from oms.domain.channels import ChannelConnection

__all__ = ["API_PATH", "PAGE_SIZE", "MagentoRest", "updated_since_criteria"]

API_PATH = "/rest/V1"
PAGE_SIZE = 100


def updated_since_criteria(since: datetime, page: int) -> dict[str, Any]:
    """The ``searchCriteria`` query of one page of orders updated at or after ``since``."""
    group = "searchCriteria[filter_groups][0][filters][0]"
    return {
        f"{group}[field]": "updated_at",
        f"{group}[value]": since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        f"{group}[condition_type]": "gteq",
        "searchCriteria[sortOrders][0][field]": "entity_id",
        "searchCriteria[sortOrders][0][direction]": "ASC",
        "searchCriteria[pageSize]": PAGE_SIZE,
        "searchCriteria[currentPage]": page,
    }


class MagentoRest:
    """One store's REST API with its access token."""

    def __init__(
        self,
        *,
        base_url: str,
        access_token: str,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._base = base_url.rstrip("/") + API_PATH
        headers = {"Authorization": f"Bearer {access_token}"}
        self._http = StoreHttp(
            authenticate=lambda _m, _u, params: (params, headers), client=client, sleep=sleep
        )

    @classmethod
    def of(
        cls,
        connection: ChannelConnection,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> MagentoRest:
        return cls(
            base_url=str(connection.settings["base_url"]),
            access_token=connection.credentials.get("access_token", ""),
            client=client,
            sleep=sleep,
        )

    def orders_since(self, since: datetime) -> Iterator[dict[str, Any]]:
        """Every order updated at or after ``since``, page by page, until ``total_count``
        orders came (a store may cap ``pageSize`` below what is asked)."""
        page, seen = 1, 0
        while True:
            response = self._http.call(
                "GET",
                f"{self._base}/orders",
                policy=BACKFILL,
                params=updated_since_criteria(since, page),
            )
            body = parse_order_json(response.content)
            items, total = body.get("items"), body.get("total_count")
            if not isinstance(items, list) or not isinstance(total, int):
                raise MagentoPayloadError("the answer has no items and total_count")
            criteria = body.get("search_criteria")
            answered = criteria.get("current_page") if isinstance(criteria, dict) else None
            if answered is not None and answered != page:
                return  # a page past the end: Magento answers the last one again
            yield from (o for o in items if isinstance(o, dict))
            seen += len(items)
            if not items or seen >= total:
                return
            page += 1

    def order(self, order_id: str, *, policy: RetryPolicy) -> dict[str, Any]:
        """``GET /orders/{id}``."""
        response = self._http.call("GET", f"{self._base}/orders/{order_id}", policy=policy)
        return parse_order_json(response.content)

    def ship(self, order_id: str, body: dict[str, Any], *, policy: RetryPolicy) -> str:
        """``POST /order/{id}/ship``; the new shipment's id."""
        response = self._http.call(
            "POST", f"{self._base}/order/{order_id}/ship", policy=policy, json=body
        )
        return response.text.strip().strip('"')

    def save_source_items(self, items: Sequence[dict[str, Any]], *, policy: RetryPolicy) -> None:
        """``POST /inventory/source-items`` (Inventory Management): each item's quantity
        and stock status at its source, made or replaced."""
        self._http.call(
            "POST",
            f"{self._base}/inventory/source-items",
            policy=policy,
            json={"sourceItems": list(items)},
        )

    def close(self) -> None:
        self._http.close()
