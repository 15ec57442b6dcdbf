"""Stock levels to Magento 2: an outbox subscriber (``EventSink``, kind ``magento2_stock``)
for ``channel.stock_push`` messages (``oms.services.stock_push``), built as the Shopify one
(``shopify_stock``).

Magento's Inventory Management (MSI) keeps a quantity per source, so each level is its own
source item: the location's source code from the connection's setting ``magento_sources``
(location code -> source code; a location not named there: its code as it is).

1. ``subscribers``: the message's connection, when it is a Magento connection with
   ``push_stock`` on.
2. ``prepare`` (before every attempt, so a retry sends the figures as they are then): each
   level's available quantity, the store's SKU (``sku_mapping`` read backwards) and source.
3. ``send``: one ``POST /rest/V1/inventory/source-items`` with every level as
   ``{"sku", "source_code", "quantity", "status"}`` (status 1, in stock, when the
   quantity is above 0, else 0).

No look-up is needed: Magento takes the SKU itself. Waiting rules as for the shipment push
(``store_http``): a 429 is waited out inside the attempt, a 5xx or a dropped connection
fails the attempt and the outbox retries it. Magento saves a request's items all or none:
when it refuses one (400: a SKU it has no product of, a source it does not have), each
item is sent alone, so the others are saved, and the delivery ends ``failed`` naming the
refused ones (a retry cannot make Magento know them). Each attempt is in the sync log
(``source-items``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

import httpx

from oms.adapters.channels.magento import MagentoPayloadError
from oms.adapters.channels.magento_rest import MagentoRest
from oms.adapters.channels.stock_sink import (
    log_stock_push,
    stock_push_connection,
    store_skus,
)
from oms.adapters.channels.store_http import PUSH, StoreCallFailed, store_attempt
from oms.domain.channels import ChannelKind, SyncOutcome
from oms.services.channels import ChannelRepository
from oms.services.events import Event, Outcome
from oms.services.ports import UnitOfWork
from oms.services.stock_push import STOCK_PUSH_TOPIC, available_figures, levels_of_message

__all__ = ["MagentoStockJob", "MagentoStockSink", "source_item"]


def source_item(sku: str, source_code: str, quantity: int) -> dict[str, object]:
    """A ``SourceItemInterface`` as Magento takes it."""
    return {
        "sku": sku,
        "source_code": source_code,
        "quantity": quantity,
        "status": 1 if quantity > 0 else 0,
    }


@dataclass(frozen=True)
class MagentoStockJob:
    """One push to make: where, with what token, which figures."""

    channel_id: UUID
    base_url: str
    access_token: str
    quantities: tuple[tuple[str, str, int], ...]  # the store's SKU, source code, available


class MagentoStockSink:
    """``EventSink`` of kind ``magento2_stock``: stock pushes become source items."""

    kind = "magento2_stock"
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
        connection = stock_push_connection(self._channels, event, ChannelKind.MAGENTO2)
        return [] if connection is None else [str(connection.id)]

    def prepare(self, uow: UnitOfWork, event: Event, key: str) -> object | None:
        connection = stock_push_connection(self._channels, event, ChannelKind.MAGENTO2, key)
        if connection is None:
            return None
        levels = levels_of_message(event.data)
        codes = {loc.id: loc.code for loc in uow.locations.visible_to(event.tenant_id)}
        sources = dict(connection.settings.get("magento_sources") or {})
        theirs = store_skus(connection)
        quantities = []
        for (sku, location_id), available in available_figures(
            uow, event.tenant_id, levels
        ).items():
            code = codes.get(location_id, str(location_id))
            quantities.append((theirs.get(sku, sku), str(sources.get(code, code)), available))
        return MagentoStockJob(
            channel_id=connection.id,
            base_url=str(connection.settings["base_url"]),
            access_token=connection.credentials.get("access_token", ""),
            quantities=tuple(sorted(quantities)),
        )

    def _push(self, job: MagentoStockJob) -> str:
        if not job.quantities:
            return "0 source items saved"
        rest = MagentoRest(
            base_url=job.base_url,
            access_token=job.access_token,
            client=self._client,
            sleep=self._sleep,
        )
        items = [source_item(sku, source, quantity) for sku, source, quantity in job.quantities]
        try:
            rest.save_source_items(items, policy=PUSH)
        except StoreCallFailed as failed:
            if failed.status != 400 or len(items) == 1:
                raise
        else:
            return f"{len(items)} source items saved"
        # Magento saves all or none: one item it refuses (a SKU it has no product of, an
        # unknown source) must not hold the others back, so each is sent alone.
        refused = []
        for item in items:
            try:
                rest.save_source_items([item], policy=PUSH)
            except StoreCallFailed as failed:
                if failed.status != 400:
                    raise
                refused.append(f"{item['sku']} at {item['source_code']}")
        raise MagentoPayloadError(
            f"{len(items) - len(refused)} source items saved; refused: {', '.join(refused[:20])}"
        )

    def send(self, prepared: object, *, event: Event, key: str, attempt: int) -> Outcome:
        assert isinstance(prepared, MagentoStockJob)

        def log(outcome: SyncOutcome, detail: str) -> None:
            log_stock_push(
                self._channels,
                tenant_id=event.tenant_id,
                channel_id=prepared.channel_id,
                operation="source-items",
                outcome=outcome,
                detail=detail,
            )

        return store_attempt(lambda: self._push(prepared), log)

    def close(self) -> None:
        self._client.close()
