"""Stock levels to Shopify: an outbox subscriber (``EventSink``, kind ``shopify_stock``)
for ``channel.stock_push`` messages (``oms.services.stock_push``).

1. ``subscribers``: the message's connection, when it is a Shopify connection with
   ``push_stock`` on.
2. ``prepare`` (before every attempt, so a retry sends the figures as they are then):
   each level's available quantity, the store's SKU (the connection's ``sku_mapping`` read
   backwards), the Shopify location of its location (setting ``shopify_locations``: code
   -> location id; a location without one is not pushed) and the inventory item ids
   already looked up.
3. ``send``: the SKUs whose item is not known yet are looked up
   (``productVariants(query: "sku:...")``, remembered in ``channel_inventory_items``),
   then one ``inventorySetQuantities`` sets every level's ``available`` quantity (reason
   ``correction``; oms is the source of truth for these figures, so
   ``ignoreCompareQuantity``).

429 and THROTTLED answers are waited out inside the attempt (``shopify_graphql``); any
other failure fails the attempt and the outbox retries it, so a shop down for a while
gets the figures of that moment once it is back. Each attempt is in the sync log
(``inventorySetQuantities``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

import httpx

from oms.adapters.channels.shopify_graphql import GraphQLFailed, ShopifyGraphQL
from oms.adapters.channels.stock_sink import log_stock_push, stock_push_connection, store_skus
from oms.domain.channels import ChannelKind, SyncOutcome
from oms.services.channels import ChannelRepository
from oms.services.common import utcnow
from oms.services.events import Event, Outcome
from oms.services.ports import UnitOfWork
from oms.services.stock_push import STOCK_PUSH_TOPIC, available_figures, levels_of_message

__all__ = [
    "INVENTORY_SET_QUANTITIES",
    "VARIANTS_BY_SKU",
    "ShopifyStockSink",
    "StockPushJob",
    "location_gid",
    "sku_query",
]

VARIANTS_BY_SKU = """
query VariantsBySku($query: String!, $first: Int!) {
  productVariants(first: $first, query: $query) {
    nodes { sku inventoryItem { id } }
  }
}
"""

INVENTORY_SET_QUANTITIES = """
mutation SetAvailable($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { reason }
    userErrors { code field message }
  }
}
"""

# SKUs per productVariants look-up (the search query's length stays modest).
SKUS_PER_LOOKUP = 50


def location_gid(value: object) -> str:
    """A Shopify location id as its GraphQL gid (a bare number is made one)."""
    text = str(value).strip()
    return text if text.startswith("gid://") else f"gid://shopify/Location/{text}"


def sku_query(skus: Sequence[str]) -> str:
    """A productVariants search for exactly these SKUs (each quoted, quotes escaped)."""
    quoted = ('sku:"' + sku.replace("\\", "\\\\").replace('"', '\\"') + '"' for sku in skus)
    return " OR ".join(quoted)


@dataclass(frozen=True)
class StockPushJob:
    """One inventorySetQuantities to make: where, with what token, which figures."""

    channel_id: UUID
    graphql_url: str
    access_token: str
    quantities: tuple[tuple[str, str, int], ...]  # the store's SKU, location gid, available
    known_items: dict[str, str]  # the store's SKU -> InventoryItem gid, looked up before
    unmapped: tuple[str, ...]  # location codes with no Shopify location


class ShopifyStockSink:
    """``EventSink`` of kind ``shopify_stock``: stock pushes become inventorySetQuantities."""

    kind = "shopify_stock"
    internal_types = frozenset({STOCK_PUSH_TOPIC})

    def __init__(
        self,
        *,
        channels: ChannelRepository,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 30.0,
    ) -> None:
        self._channels = channels
        self._api = ShopifyGraphQL(client=client, sleep=sleep, max_wait=max_wait)

    def subscribers(self, uow: UnitOfWork, event: Event) -> Sequence[str]:
        connection = stock_push_connection(self._channels, event, ChannelKind.SHOPIFY)
        return [] if connection is None else [str(connection.id)]

    def prepare(self, uow: UnitOfWork, event: Event, key: str) -> object | None:
        connection = stock_push_connection(self._channels, event, ChannelKind.SHOPIFY, key)
        if connection is None:
            return None
        levels = levels_of_message(event.data)
        codes = {loc.id: loc.code for loc in uow.locations.visible_to(event.tenant_id)}
        shop_locations = dict(connection.settings.get("shopify_locations") or {})
        theirs = store_skus(connection)
        figures = available_figures(uow, event.tenant_id, levels)
        quantities: list[tuple[str, str, int]] = []
        unmapped: set[str] = set()
        for (sku, location_id), available in figures.items():
            code = codes.get(location_id, str(location_id))
            if code not in shop_locations:
                unmapped.add(code)
                continue
            quantities.append((theirs.get(sku, sku), location_gid(shop_locations[code]), available))
        shop_skus = sorted({sku for sku, _, _ in quantities})
        return StockPushJob(
            channel_id=connection.id,
            graphql_url=str(connection.settings["api_base_url"]).rstrip("/") + "/graphql.json",
            access_token=connection.credentials.get("access_token", ""),
            quantities=tuple(sorted(quantities)),
            known_items=self._channels.inventory_items(event.tenant_id, connection.id, shop_skus),
            unmapped=tuple(sorted(unmapped)),
        )

    def _look_up(self, event: Event, job: StockPushJob) -> dict[str, str]:
        """Every SKU's InventoryItem gid: those known, and the others asked of the shop
        (and remembered); a SKU the shop has no variant of is left out."""
        items = dict(job.known_items)
        missing = sorted({sku for sku, _, _ in job.quantities} - set(items))
        for start in range(0, len(missing), SKUS_PER_LOOKUP):
            chunk = missing[start : start + SKUS_PER_LOOKUP]
            data = self._api.call(
                job.graphql_url,
                job.access_token,
                VARIANTS_BY_SKU,
                {"query": sku_query(chunk), "first": 2 * len(chunk)},
            )
            found = {
                node["sku"]: node["inventoryItem"]["id"]
                for node in (data.get("productVariants") or {}).get("nodes", [])
                if node.get("sku") in chunk and node.get("inventoryItem")
            }
            self._channels.remember_inventory_items(
                event.tenant_id, job.channel_id, found, utcnow()
            )
            items.update(found)
        return items

    def send(self, prepared: object, *, event: Event, key: str, attempt: int) -> Outcome:
        assert isinstance(prepared, StockPushJob)
        started = time.perf_counter()
        unknown: list[str] = []
        sent = 0
        try:
            items = self._look_up(event, prepared) if prepared.quantities else {}
            quantities = []
            for sku, location, available in prepared.quantities:
                if sku not in items:
                    unknown.append(sku)
                    continue
                quantities.append(
                    {"inventoryItemId": items[sku], "locationId": location, "quantity": available}
                )
            if quantities:
                data = self._api.call(
                    prepared.graphql_url,
                    prepared.access_token,
                    INVENTORY_SET_QUANTITIES,
                    {
                        "input": {
                            "name": "available",
                            "reason": "correction",
                            "ignoreCompareQuantity": True,
                            "referenceDocumentUri": f"gid://oms/StockPush/{event.id}",
                            "quantities": quantities,
                        }
                    },
                )
                errors = (data.get("inventorySetQuantities") or {}).get("userErrors") or []
                if errors:
                    raise GraphQLFailed(json.dumps(errors)[:500], 200, final=True)
                sent = len(quantities)
        except GraphQLFailed as failed:
            self._log(event, prepared, SyncOutcome.FAILED, str(failed))
            return Outcome(
                delivered=False,
                status_code=failed.status,
                error=str(failed),
                latency_ms=(time.perf_counter() - started) * 1000,
                final=failed.final,
            )
        self._log(event, prepared, SyncOutcome.OK, _detail(sent, unknown, prepared.unmapped))
        return Outcome(
            delivered=True, status_code=200, latency_ms=(time.perf_counter() - started) * 1000
        )

    def _log(self, event: Event, job: StockPushJob, outcome: SyncOutcome, detail: str) -> None:
        log_stock_push(
            self._channels,
            tenant_id=event.tenant_id,
            channel_id=job.channel_id,
            operation="inventorySetQuantities",
            outcome=outcome,
            detail=detail,
        )

    def close(self) -> None:
        self._api.close()


def _detail(sent: int, unknown: Sequence[str], unmapped: Sequence[str]) -> str:
    parts = [f"{sent} available quantities set"]
    if unknown:
        parts.append(f"SKUs Shopify has no variant of: {', '.join(sorted(set(unknown))[:20])}")
    if unmapped:
        parts.append(f"locations with no Shopify location: {', '.join(unmapped)}")
    return "; ".join(parts)
