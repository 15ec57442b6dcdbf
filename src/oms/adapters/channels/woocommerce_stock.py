"""Stock levels to WooCommerce: an outbox subscriber (``EventSink``, kind
``woocommerce_stock``) for ``channel.stock_push`` messages (``oms.services.stock_push``),
built as the Shopify one (``shopify_stock``).

WooCommerce keeps one stock figure per product or variation (no locations), so a SKU's
figure is the sum of what is available at every location the connection sells
(``location_codes``; empty: every location).

1. ``subscribers``: the message's connection, when it is a WooCommerce connection with
   ``push_stock`` on.
2. ``prepare`` (before every attempt, so a retry sends the figures as they are then): each
   SKU the message names, its total available now, the store's SKU (``sku_mapping`` read
   backwards) and the product ids already looked up.
3. ``send``: the SKUs whose product is not known yet are looked up
   (``GET /products?sku=A,B``; a variation answers with ``type: "variation"`` and its
   ``parent_id``), remembered in ``channel_inventory_items`` (``"123"`` for a product,
   ``"45/123"`` for variation 123 of product 45); then ``POST /products/batch`` and, per
   parent, ``POST /products/{parent}/variations/batch`` set ``stock_quantity`` (with
   ``manage_stock: true``), at most 100 objects a request.

Waiting rules as for the shipment push (``store_http``): a 429 is waited out inside the
attempt (its ``Retry-After``, at most 30 s); a 5xx or a dropped connection fails the attempt
and the outbox retries it. An id the batch no longer knows (a product deleted, perhaps
made again, since it was looked up) is forgotten and the attempt fails, so the retry looks
its SKU up again; any other object the batch refuses (its ``error``) ends the delivery.
Each attempt is in the sync log (``stock_quantity``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx

from oms.adapters.channels.stock_sink import (
    log_stock_push,
    stock_push_connection,
    store_skus,
)
from oms.adapters.channels.store_http import PUSH, StoreCallFailed, store_attempt
from oms.adapters.channels.woocommerce import WooCommercePayloadError
from oms.adapters.channels.woocommerce_rest import WooCommerceRest
from oms.domain.channels import ChannelKind, SyncOutcome
from oms.services.channels import ChannelRepository
from oms.services.common import utcnow
from oms.services.events import Event, Outcome
from oms.services.ports import UnitOfWork
from oms.services.stock_push import STOCK_PUSH_TOPIC, available_figures, levels_of_message

__all__ = ["BATCH_SIZE", "WooCommerceStockJob", "WooCommerceStockSink", "item_id_of"]

# Objects per batch request: WooCommerce's limit.
BATCH_SIZE = 100
# The batch's error for an id the store does not have (deleted since it was looked up).
INVALID_ID = "woocommerce_rest_product_invalid_id"
# SKUs per look-up (one page of at most 100 products answers them, variations included).
SKUS_PER_LOOKUP = 50


def item_id_of(product: dict[str, Any]) -> str | None:
    """What is remembered of a product the store answered: ``"id"`` for a product,
    ``"parent/id"`` for a variation; None without a usable id."""
    try:
        own = int(product["id"])
        parent = int(product.get("parent_id") or 0)
    except (KeyError, TypeError, ValueError):
        return None
    if product.get("type") == "variation" and parent:
        return f"{parent}/{own}"
    return str(own)


def _batch_of(item: str) -> tuple[str, int]:
    """The batch path and object id of a remembered product (``"id"``) or variation
    (``"parent/id"``)."""
    parent, _, own = item.rpartition("/")
    return (f"/products/{parent}/variations" if parent else "/products"), int(own)


@dataclass(frozen=True)
class WooCommerceStockJob:
    """One push to make: where, with which keys, which totals."""

    channel_id: UUID
    store_url: str
    consumer_key: str
    consumer_secret: str
    quantities: tuple[tuple[str, int], ...]  # the store's SKU, total available
    known_items: dict[str, str]  # the store's SKU -> "id" or "parent/id", looked up before


class WooCommerceStockSink:
    """``EventSink`` of kind ``woocommerce_stock``: stock pushes become ``stock_quantity``
    batch updates."""

    kind = "woocommerce_stock"
    internal_types = frozenset({STOCK_PUSH_TOPIC})

    def __init__(
        self,
        *,
        channels: ChannelRepository,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._channels = channels
        self._client = client or httpx.Client(timeout=30.0)
        self._sleep = sleep

    def subscribers(self, uow: UnitOfWork, event: Event) -> Sequence[str]:
        connection = stock_push_connection(self._channels, event, ChannelKind.WOOCOMMERCE)
        return [] if connection is None else [str(connection.id)]

    def prepare(self, uow: UnitOfWork, event: Event, key: str) -> object | None:
        connection = stock_push_connection(self._channels, event, ChannelKind.WOOCOMMERCE, key)
        if connection is None:
            return None
        skus = sorted({sku for sku, _ in levels_of_message(event.data)})
        sold = [
            location.id
            for location in uow.locations.visible_to(event.tenant_id)
            if not connection.location_codes or location.code in connection.location_codes
        ]
        figures = available_figures(
            uow, event.tenant_id, [(sku, location) for sku in skus for location in sold]
        )
        totals = dict.fromkeys(skus, 0)
        for (sku, _), available in figures.items():
            totals[sku] += available
        theirs = store_skus(connection)
        quantities = tuple(sorted((theirs.get(sku, sku), total) for sku, total in totals.items()))
        return WooCommerceStockJob(
            channel_id=connection.id,
            store_url=str(connection.settings["store_url"]),
            consumer_key=connection.credentials.get("consumer_key", ""),
            consumer_secret=connection.credentials.get("consumer_secret", ""),
            quantities=quantities,
            known_items=self._channels.inventory_items(
                event.tenant_id, connection.id, [sku for sku, _ in quantities]
            ),
        )

    def _look_up(
        self, rest: WooCommerceRest, event: Event, job: WooCommerceStockJob
    ) -> dict[str, str]:
        """Every SKU's product (or variation): those known, and the others asked of the
        store (and remembered); a SKU the store has no product of is left out."""
        items = dict(job.known_items)
        missing = sorted({sku for sku, _ in job.quantities} - set(items))
        for start in range(0, len(missing), SKUS_PER_LOOKUP):
            chunk = missing[start : start + SKUS_PER_LOOKUP]
            found: dict[str, str] = {}
            for product in rest.products_by_sku(chunk, policy=PUSH):
                item = item_id_of(product)
                if product.get("sku") in chunk and item is not None:
                    found[str(product["sku"])] = item
            self._channels.remember_inventory_items(
                event.tenant_id, job.channel_id, found, utcnow()
            )
            items.update(found)
        return items

    def _push(self, event: Event, job: WooCommerceStockJob) -> str:
        rest = WooCommerceRest(
            store_url=job.store_url,
            consumer_key=job.consumer_key,
            consumer_secret=job.consumer_secret,
            client=self._client,
            sleep=self._sleep,
        )
        items = self._look_up(rest, event, job) if job.quantities else {}
        updates: dict[str, list[dict[str, Any]]] = {}  # batch path -> updates
        unknown = []
        for sku, quantity in job.quantities:
            if sku not in items:
                unknown.append(sku)
                continue
            path, own = _batch_of(items[sku])
            updates.setdefault(path, []).append(
                {"id": own, "manage_stock": True, "stock_quantity": quantity}
            )
        # (batch path, id) -> the SKU it is, to name what the store no longer has.
        sku_of: dict[tuple[str, Any], str] = {
            _batch_of(items[sku]): sku for sku, _ in job.quantities if sku in items
        }
        refused: list[str] = []
        gone: list[str] = []
        sent = 0
        for path in sorted(updates, key=lambda p: (p != "/products", p)):
            objects = updates[path]
            for start in range(0, len(objects), BATCH_SIZE):
                chunk = objects[start : start + BATCH_SIZE]
                for answered in rest.batch_update(path, chunk, policy=PUSH):
                    error, key = answered.get("error"), (path, answered.get("id"))
                    if not isinstance(error, dict):
                        sent += 1
                    elif error.get("code") == INVALID_ID and key in sku_of:
                        gone.append(sku_of[key])
                    else:
                        refused.append(f"{answered.get('id')}: {error.get('message')}")
        if gone:
            # Deleted (and perhaps made again) in the store since it was looked up.
            self._channels.forget_inventory_items(event.tenant_id, job.channel_id, gone)
            raise StoreCallFailed(
                f"{sent} stock quantities set; the store no longer has the products of "
                f"{', '.join(gone[:20])}: looked up again at the next attempt",
                status=400,
            )
        if refused:
            raise WooCommercePayloadError(f"the batch refused {'; '.join(refused)}")
        parts = [f"{sent} stock quantities set"]
        if unknown:
            parts.append(f"SKUs the store has no product of: {', '.join(unknown[:20])}")
        return "; ".join(parts)

    def send(self, prepared: object, *, event: Event, key: str, attempt: int) -> Outcome:
        assert isinstance(prepared, WooCommerceStockJob)

        def log(outcome: SyncOutcome, detail: str) -> None:
            log_stock_push(
                self._channels,
                tenant_id=event.tenant_id,
                channel_id=prepared.channel_id,
                operation="stock_quantity",
                outcome=outcome,
                detail=detail,
            )

        return store_attempt(lambda: self._push(event, prepared), log)

    def close(self) -> None:
        self._client.close()
