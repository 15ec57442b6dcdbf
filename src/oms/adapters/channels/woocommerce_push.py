"""Shipments back to WooCommerce: an outbox subscriber (``EventSink``) that, when a shipment
of a WooCommerce order is created,

1. reads the order's notes (``GET /wp-json/wc/v3/orders/{id}/notes``) and, unless one names
   the tracking number already, adds a customer note (``POST .../notes``,
   ``customer_note: true``: WooCommerce emails it) with the carrier, tracking number and URL;
2. once every line of the order has shipped, sets the order ``completed``
   (``PUT /wp-json/wc/v3/orders/{id}`` ``{"status": "completed"}``; the same again is
   harmless).

So a retry after a lost answer adds no second note. A 429 is retried inside the attempt
after its ``Retry-After`` (at most 30 s, ``sleep`` injected); any other failure is the
attempt's outcome and the outbox retries it on its schedule; a 404 (no such order in the
store) ends the delivery.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import httpx

from oms.adapters.channels.shipment_push import ShipmentOfStore, ShipmentSink, log_push
from oms.adapters.channels.store_http import PUSH, store_attempt
from oms.adapters.channels.woocommerce_rest import WooCommerceRest
from oms.domain.channels import ChannelKind, SyncOutcome
from oms.domain.status import FulfillmentStatus
from oms.services.channels import ChannelRepository
from oms.services.events import Event, Outcome

__all__ = ["WooCommerceCompletion", "WooCommerceShipmentSink", "tracking_note"]

_SHIPPED = {
    FulfillmentStatus.FULFILLED,
    FulfillmentStatus.PARTIALLY_DELIVERED,
    FulfillmentStatus.DELIVERED,
}


@dataclass(frozen=True)
class WooCommerceCompletion:
    """What one push needs: where, with which keys, which order, the note, and whether the
    order is complete."""

    channel_id: UUID
    tenant_id: UUID
    store_url: str
    consumer_key: str
    consumer_secret: str
    order_id: str
    tracking_number: str
    note: str
    complete: bool


def tracking_note(shipment: ShipmentOfStore) -> str:
    """The customer note: carrier, tracking number, link, and what the parcel holds."""
    carrier = " ".join(p for p in (shipment.carrier, shipment.service) if p) or "the carrier"
    note = f"Your order has shipped with {carrier}. Tracking number: {shipment.tracking_number}"
    if shipment.tracking_url:
        note = f"{note}. Track it: {shipment.tracking_url}"
    contents = ", ".join(f"{quantity} x {sku}" for sku, quantity in shipment.items)
    return f"{note}. In this parcel: {contents}." if contents else f"{note}."


class WooCommerceShipmentSink(ShipmentSink):
    """``EventSink`` of kind ``woocommerce``: shipments of WooCommerce orders become customer
    notes with tracking, and complete orders ``completed``."""

    kind = "woocommerce"
    channel_kind = ChannelKind.WOOCOMMERCE

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
        return WooCommerceCompletion(
            channel_id=connection.id,
            tenant_id=connection.tenant_id,
            store_url=str(connection.settings["store_url"]),
            consumer_key=connection.credentials.get("consumer_key", ""),
            consumer_secret=connection.credentials.get("consumer_secret", ""),
            order_id=shipment.external_id,
            tracking_number=shipment.tracking_number,
            note=tracking_note(shipment),
            complete=shipment.order.fulfillment_status in _SHIPPED,
        )

    def _push(self, push: WooCommerceCompletion) -> str:
        rest = WooCommerceRest(
            store_url=push.store_url,
            consumer_key=push.consumer_key,
            consumer_secret=push.consumer_secret,
            client=self._client,
            sleep=self._sleep,
        )
        done = []
        notes = rest.notes(push.order_id, policy=PUSH)
        if push.tracking_number and any(
            push.tracking_number in str(n.get("note", "")) for n in notes
        ):
            done.append("tracking note there already")
        else:
            rest.add_note(push.order_id, push.note, policy=PUSH)
            done.append(f"customer note with {push.tracking_number}")
        if push.complete:
            rest.set_status(push.order_id, "completed", policy=PUSH)
            done.append("status completed")
        return "; ".join(done)

    def send(self, prepared: object, *, event: Event, key: str, attempt: int) -> Outcome:
        assert isinstance(prepared, WooCommerceCompletion)
        return store_attempt(
            lambda: self._push(prepared),
            lambda outcome, detail: self._log(event, prepared, outcome, detail),
        )

    def _log(
        self, event: Event, push: WooCommerceCompletion, outcome: SyncOutcome, detail: str
    ) -> None:
        log_push(
            self._channels,
            tenant_id=push.tenant_id,
            channel_id=push.channel_id,
            operation="order completed",
            outcome=outcome,
            detail=detail,
            external_id=push.order_id,
            order_id=event.aggregate_id,
        )

    def close(self) -> None:
        self._client.close()
