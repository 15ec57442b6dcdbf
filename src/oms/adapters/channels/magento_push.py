"""Shipments back to Magento 2: an outbox subscriber (``EventSink``) that, when a shipment
of a Magento order is created,

1. reads the order (``GET /rest/V1/orders/{id}``) and matches the parcel's contents to its
   items by SKU (through the connection's SKU mapping, read backwards), the lines only
   (no ``parent_item_id``), up to what each has left to ship
   (``qty_ordered - qty_shipped - qty_refunded - qty_canceled``);
2. ships them: ``POST /rest/V1/order/{id}/ship`` with ``items`` (``order_item_id``, ``qty``),
   ``tracks`` (``track_number``, ``title``, ``carrier_code``: Magento's own code for DHL,
   UPS, USPS and FedEx, else ``custom``) and ``notify: true`` (Magento emails the customer).

Items Magento shows shipped already are not sent again, so a retry after a lost answer
ships nothing twice. Waiting rules as for WooCommerce (``store_http``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx

from oms.adapters.channels.magento import shippable_items
from oms.adapters.channels.magento_rest import MagentoRest
from oms.adapters.channels.shipment_push import ShipmentOfStore, ShipmentSink, log_push
from oms.adapters.channels.store_http import PUSH, store_attempt
from oms.domain.channels import ChannelKind, SyncOutcome
from oms.services.channels import ChannelRepository
from oms.services.events import Event, Outcome

__all__ = ["MagentoShipment", "MagentoShipmentSink", "carrier_code_of"]

_CARRIER_CODES = {"dhl": "dhl", "ups": "ups", "usps": "usps", "fedex": "fedex"}


def carrier_code_of(carrier: str) -> str:
    """Magento's ``carrier_code`` for our carrier's name: its own code, else ``custom``."""
    return _CARRIER_CODES.get(carrier.strip().lower().replace(" ", ""), "custom")


@dataclass(frozen=True)
class MagentoShipment:
    """What one push needs: where, with what token, which order, what shipped."""

    channel_id: UUID
    tenant_id: UUID
    base_url: str
    access_token: str
    order_id: str
    carrier: str
    title: str
    tracking_number: str
    items: tuple[tuple[str, int], ...]  # the store's SKU, quantity


def _left(item: Any) -> int:
    def qty(name: str) -> Decimal:
        return Decimal(str(item.get(name) or 0))

    return int(qty("qty_ordered") - qty("qty_shipped") - qty("qty_refunded") - qty("qty_canceled"))


def items_to_ship(order: dict[str, Any], wanted: Sequence[tuple[str, int]]) -> list[dict[str, int]]:
    """``order_item_id`` and ``qty`` of the order's lines for the parcel's contents."""
    left = dict[str, int]()
    for sku, quantity in wanted:
        left[sku] = left.get(sku, 0) + quantity
    chosen: list[dict[str, int]] = []
    for item in shippable_items(order):
        sku = str(item.get("sku") or "")
        take = min(left.get(sku, 0), _left(item))
        if take > 0:
            chosen.append({"order_item_id": int(item["item_id"]), "qty": take})
            left[sku] -= take
    return chosen


class MagentoShipmentSink(ShipmentSink):
    """``EventSink`` of kind ``magento2``: shipments of Magento orders become Magento
    shipments with their tracks."""

    kind = "magento2"
    channel_kind = ChannelKind.MAGENTO2

    def __init__(
        self,
        *,
        channels: ChannelRepository,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(channels=channels)
        self._client = client or httpx.Client(timeout=30.0)
        self._sleep = sleep

    def push_of(self, shipment: ShipmentOfStore) -> object:
        connection = shipment.connection
        return MagentoShipment(
            channel_id=connection.id,
            tenant_id=connection.tenant_id,
            base_url=str(connection.settings["base_url"]),
            access_token=connection.credentials.get("access_token", ""),
            order_id=shipment.external_id,
            carrier=shipment.carrier,
            title=" ".join(p for p in (shipment.carrier, shipment.service) if p) or "Carrier",
            tracking_number=shipment.tracking_number,
            items=shipment.items,
        )

    def _push(self, push: MagentoShipment) -> str:
        rest = MagentoRest(
            base_url=push.base_url,
            access_token=push.access_token,
            client=self._client,
            sleep=self._sleep,
        )
        items = items_to_ship(rest.order(push.order_id, policy=PUSH), push.items)
        if not items:
            return "nothing left to ship: already shipped in Magento"
        shipment_id = rest.ship(
            push.order_id,
            {
                "items": items,
                "notify": True,
                "tracks": [
                    {
                        "track_number": push.tracking_number,
                        "title": push.title,
                        "carrier_code": carrier_code_of(push.carrier),
                    }
                ],
            },
            policy=PUSH,
        )
        return f"shipment {shipment_id} with {push.carrier} {push.tracking_number}"

    def send(self, prepared: object, *, event: Event, key: str, attempt: int) -> Outcome:
        assert isinstance(prepared, MagentoShipment)
        return store_attempt(
            lambda: self._push(prepared),
            lambda outcome, detail: self._log(event, prepared, outcome, detail),
        )

    def _log(self, event: Event, push: MagentoShipment, outcome: SyncOutcome, detail: str) -> None:
        log_push(
            self._channels,
            tenant_id=push.tenant_id,
            channel_id=push.channel_id,
            operation="ship",
            outcome=outcome,
            detail=detail,
            external_id=push.order_id,
            order_id=event.aggregate_id,
        )

    def close(self) -> None:
        self._client.close()
