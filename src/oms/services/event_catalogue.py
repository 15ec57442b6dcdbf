"""The public event catalogue: which outbox messages the outside world hears about, under
which type, and which resource each event's ``data`` is.

Outbox topics are the order timeline's event types (``order.placed``, ``hold.placed``,
``shipment.delivered``, ...) plus a few messages of their own (``notification.pickup_ready``,
``inventory.adjusted``, ``webhook_endpoint.disabled``). Merchants subscribe to public types,
which are fewer and named for what a merchant cares about (``order.created``,
``order.on_hold``, ``pickup.ready``); docs/events.md shows each with an example payload.
A topic outside the catalogue is fanned out to nobody.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "INTERNAL_TYPES",
    "PUBLIC_TYPES",
    "RECORD_KINDS",
    "ResourceKind",
    "ResourceRef",
    "derived_topics",
    "public_type",
    "resource_of",
    "stock_is_low",
    "unknown_types",
]

ResourceKind = Literal[
    "order",
    "fulfillment_order",
    "shipment",
    "stock",
    "webhook_endpoint",
    "purchase_order",
    "inbound_shipment",
    "transfer",
    "cycle_count",
]

# The warehouse's steps carry the message's own record as ``data`` (written in the step's
# transaction: the scan, the variance at closing, the differences a count posted), not the
# resource re-read at fan-out, which a later step may already have changed.
RECORD_KINDS: frozenset[ResourceKind] = frozenset(
    {"purchase_order", "inbound_shipment", "transfer", "cycle_count"}
)

# Public type -> (the resource its data is, what it means). docs/events.md follows this.
PUBLIC_TYPES: dict[str, tuple[ResourceKind, str]] = {
    "order.created": ("order", "an order was taken (whatever its channel)"),
    "order.updated": (
        "order",
        "an order changed: edited, a backorder allocated, a payment authorized or voided, "
        "digital lines delivered",
    ),
    "order.on_hold": ("order", "an order was put on hold (the hold's reason is in its holds)"),
    "order.hold_released": ("order", "a hold on an order was released"),
    "order.released": ("order", "an order was released to the warehouses for fulfilment"),
    "order.cancelled": ("order", "an order was cancelled"),
    "order.split": ("order", "an order now ships from more than one location"),
    "fulfillment_order.created": (
        "fulfillment_order",
        "a location got its share of an order to ship or to hand over",
    ),
    "shipment.created": ("shipment", "a parcel was labelled and handed to the carrier"),
    "shipment.in_transit": ("shipment", "the carrier reports the parcel on its way"),
    "shipment.out_for_delivery": ("shipment", "the parcel is out for delivery"),
    "shipment.delivered": ("shipment", "the parcel was delivered"),
    "shipment.exception": ("shipment", "the carrier reports a problem with the parcel"),
    "shipment.returned_to_sender": ("shipment", "the parcel is going back to the sender"),
    "pickup.ready": ("fulfillment_order", "a store pickup is ready to be collected"),
    "pickup.collected": ("fulfillment_order", "the customer collected a store pickup"),
    "payment.captured": ("order", "money was captured for an order"),
    "payment.refunded": ("order", "money was refunded to the customer"),
    "return.requested": ("order", "a customer or staff asked to return units of an order"),
    "return.approved": ("order", "a return was approved (by a person or the return policy)"),
    "return.label_created": ("order", "a return label was bought for the customer"),
    "return.in_transit": ("order", "the carrier scanned the return label's parcel on its way"),
    "return.delivered": (
        "order",
        "the return parcel reached the warehouse (its units still to be inspected)",
    ),
    "return.rejected": ("order", "a return was rejected, with a note saying why"),
    "return.received": ("order", "returned units were received and inspected"),
    "return.refunded": ("order", "a return was paid back (or given as store credit)"),
    "inventory.low_stock": (
        "stock",
        "a stock count or adjustment left a location with no more on hand than its safety stock",
    ),
    "webhook_endpoint.disabled": (
        "webhook_endpoint",
        "a webhook endpoint failing for 3 days was disabled",
    ),
    "purchase_order.sent": ("purchase_order", "a purchase order was sent to its supplier"),
    "purchase_order.received": (
        "purchase_order",
        "units of a purchase order were received (its status says partly or in full)",
    ),
    "inbound_shipment.received": (
        "inbound_shipment",
        "a scan of an inbound shipment was counted (good units went on hand)",
    ),
    "inbound_shipment.closed": (
        "inbound_shipment",
        "an inbound shipment was closed: each line's expected, received, damaged, variance",
    ),
    "transfer.shipped": ("transfer", "a transfer left its source location (now in transit)"),
    "transfer.received": ("transfer", "units of a transfer arrived at its destination"),
    "cycle_count.approved": (
        "cycle_count",
        "a cycle count was approved: each difference posted as a count movement",
    ),
}

# Internal types: outbox messages for the OMS's own outbound connections, never public
# (no webhook or broker subscriber hears of them). Each is its own type and its payload is
# its data; only a sink naming it in its ``internal_types`` is asked for subscribers.
INTERNAL_TYPES: dict[str, str] = {
    "channel.stock_push": "available quantities to set in a store (oms.services.stock_push)",
}

# The steps of a return (oms.services.returns), each a timeline event and a public type.
RETURN_STEPS = (
    "requested",
    "approved",
    "label_created",
    "in_transit",
    "delivered",
    "rejected",
    "received",
    "refunded",
)

# Outbox topic -> public type, for the topics that map whatever their payload says.
_BY_TOPIC = {
    "order.placed": "order.created",
    "order.edited": "order.updated",
    "order.backorder_allocated": "order.updated",
    "order.rerouted": "order.updated",
    "payment.authorized": "order.updated",
    "payment.voided": "order.updated",
    "payment.authorization_lapsed": "order.updated",
    "digital.delivered": "order.updated",
    "hold.placed": "order.on_hold",
    "hold.released": "order.hold_released",
    "order.released": "order.released",
    "order.cancelled": "order.cancelled",
    "order.split": "order.split",
    "fulfillment_order.created": "fulfillment_order.created",
    # notification.pickup_ready is written beside the timeline's
    # fulfillment_order.ready_for_pickup for the same moment: one of them is public.
    "notification.pickup_ready": "pickup.ready",
    "fulfillment_order.picked_up": "pickup.collected",
    "payment.captured": "payment.captured",
    "payment.refunded": "payment.refunded",
    "webhook_endpoint.disabled": "webhook_endpoint.disabled",
    **{f"return.{step}": f"return.{step}" for step in RETURN_STEPS},
    **{
        topic: topic
        for topic in (
            "purchase_order.sent",
            "purchase_order.received",
            "inbound_shipment.received",
            "inbound_shipment.closed",
            "transfer.shipped",
            "transfer.received",
            "cycle_count.approved",
        )
    },
    **{
        f"shipment.{status}": f"shipment.{status}"
        for status in (
            "created",
            "in_transit",
            "out_for_delivery",
            "delivered",
            "exception",
            "returned_to_sender",
        )
    },
}

# The topics after which an order may have come to ship from several locations.
_ROUTED = frozenset({"order.released", "order.rerouted", "order.backorder_allocated"})


def stock_is_low(on_hand: int, safety_stock: int) -> bool:
    """Whether a change of a level that leaves these figures is ``inventory.low_stock``:
    the only ``inventory.adjusted`` messages anyone hears of. Writers of the topic write
    it for these changes alone (a message no subscriber can receive is not written)."""
    return on_hand <= safety_stock


def public_type(topic: str, payload: Mapping[str, Any]) -> str | None:
    """The public type of an outbox message, or None when it is not a public event."""
    if topic == "inventory.adjusted":
        on_hand, safety = payload.get("on_hand"), payload.get("safety_stock")
        if isinstance(on_hand, int) and isinstance(safety, int) and stock_is_low(on_hand, safety):
            return "inventory.low_stock"
        return None
    return _BY_TOPIC.get(topic)


@dataclass(frozen=True)
class ResourceRef:
    """Which resource an event's data is: its kind and its key (an id, or a SKU)."""

    kind: ResourceKind
    key: str


def resource_of(
    event_type: str, aggregate_id: str, payload: Mapping[str, Any]
) -> ResourceRef | None:
    """The resource an event of ``event_type`` carries as ``data`` (None: it cannot be told
    from this message, which a test of the catalogue rules out for every writer)."""
    kind = PUBLIC_TYPES[event_type][0]
    inner = payload.get("data")
    details = inner if isinstance(inner, Mapping) else {}
    key: object
    if kind == "order" or kind == "webhook_endpoint" or kind in RECORD_KINDS:
        key = aggregate_id
    elif kind == "fulfillment_order":
        key = payload.get("fulfillment_order_id") or details.get("fulfillment_order_id")
    elif kind == "shipment":
        key = details.get("shipment_id")
    else:
        key = payload.get("sku")
    return ResourceRef(kind, key) if isinstance(key, str) and key else None


def derived_topics(topic: str, data: Mapping[str, Any]) -> list[str]:
    """Further outbox messages an event implies once its data is known: ``order.split``
    when a routing step left the order's units (reserved or shipped) at more than one
    location."""
    if topic not in _ROUTED:
        return []
    allocations = data.get("allocations")
    if not isinstance(allocations, list):
        return []
    locations = {
        a.get("location_id")
        for a in allocations
        if isinstance(a, Mapping) and (a.get("quantity") or 0) + (a.get("fulfilled") or 0) > 0
    }
    return ["order.split"] if len(locations) > 1 else []


def unknown_types(wanted: list[str]) -> list[str]:
    """The names in ``wanted`` that are neither a public type nor ``*``."""
    return [name for name in wanted if name != "*" and name not in PUBLIC_TYPES]
