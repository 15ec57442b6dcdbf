"""An order and its parcels as the customer sees them: one stage in plain words, and the
timeline events they care about.

The stage is derived from the order's status axes, its parcels and its pickups by one pure
function (``order_stage``), the first rule that holds winning::

    cancelled            the order is cancelled
    picked_up            everything delivered, and nothing went by carrier (store pickup)
    delivered            everything delivered
    delivery_problem     a parcel reports an exception or is on its way back
    out_for_delivery     a parcel is out for delivery
    ready_for_pickup     a pickup is waiting in the store
    partially_delivered  some of it delivered
    shipped              everything shipped
    partially_shipped    some of it shipped
    in_review            the order is on hold (never why: holds are the merchant's business)
    preparing            released to the warehouse or store
    received             anything else (placed, payment not yet secured)

The timeline keeps only the events in ``TIMELINE``: no holds, payments, edits, waves or
re-routing, and of each event only its time and its public detail (a carrier and a
tracking number), never who did it or why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from oms.domain.orders import OrderEvent
from oms.domain.status import FulfillmentStatus, OrderStatus
from oms.domain.tracking import ShipmentStatus

__all__ = [
    "PARCEL_WORDS",
    "TIMELINE",
    "WORDS",
    "CustomerStage",
    "PickupState",
    "TimelineEntry",
    "customer_timeline",
    "order_stage",
]


class CustomerStage(StrEnum):
    RECEIVED = "received"
    IN_REVIEW = "in_review"
    PREPARING = "preparing"
    READY_FOR_PICKUP = "ready_for_pickup"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_PROBLEM = "delivery_problem"
    PARTIALLY_DELIVERED = "partially_delivered"
    DELIVERED = "delivered"
    PICKED_UP = "picked_up"
    CANCELLED = "cancelled"


class PickupState(StrEnum):
    """Where a store pickup stands, for the customer."""

    PREPARING = "preparing"
    READY = "ready"
    PICKED_UP = "picked_up"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


# (headline, one sentence): what the page and the JSON say for each stage.
WORDS: Mapping[CustomerStage, tuple[str, str]] = {
    CustomerStage.RECEIVED: ("Order received", "We have your order and will confirm it soon."),
    CustomerStage.IN_REVIEW: (
        "We are checking your order",
        "We are checking a few details; we will contact you if we need anything.",
    ),
    CustomerStage.PREPARING: ("Being prepared", "Your order is confirmed and being prepared."),
    CustomerStage.READY_FOR_PICKUP: (
        "Ready for pickup",
        "Your order is waiting for you in the store. Bring the pickup code from your email.",
    ),
    CustomerStage.PARTIALLY_SHIPPED: (
        "Partly shipped",
        "Part of your order is on its way; the rest follows.",
    ),
    CustomerStage.SHIPPED: ("Shipped", "Your order is on its way."),
    CustomerStage.OUT_FOR_DELIVERY: ("Out for delivery", "Your parcel arrives today."),
    CustomerStage.DELIVERY_PROBLEM: (
        "Delivery problem",
        "The carrier reported a problem with a parcel; see its tracking for details.",
    ),
    CustomerStage.PARTIALLY_DELIVERED: (
        "Partly delivered",
        "Part of your order has arrived; the rest is on its way.",
    ),
    CustomerStage.DELIVERED: ("Delivered", "Your order has arrived."),
    CustomerStage.PICKED_UP: ("Picked up", "You have collected your order."),
    CustomerStage.CANCELLED: ("Cancelled", "This order was cancelled."),
}

PARCEL_WORDS: Mapping[ShipmentStatus, tuple[str, str]] = {
    ShipmentStatus.LABEL_CREATED: (
        "Label created",
        "The parcel is packed and waits for the carrier.",
    ),
    ShipmentStatus.IN_TRANSIT: ("On its way", "The carrier has the parcel."),
    ShipmentStatus.OUT_FOR_DELIVERY: ("Out for delivery", "The parcel arrives today."),
    ShipmentStatus.DELIVERED: ("Delivered", "The parcel has arrived."),
    ShipmentStatus.EXCEPTION: (
        "Delivery problem",
        "The carrier reported a problem; the latest update says more.",
    ),
    ShipmentStatus.RETURNED_TO_SENDER: (
        "Returned to sender",
        "The parcel is on its way back to the sender.",
    ),
}
"""A parcel's status (and each carrier scan) in the customer's words: the tracking page."""

_PROBLEMS = frozenset({ShipmentStatus.EXCEPTION, ShipmentStatus.RETURNED_TO_SENDER})


def order_stage(
    *,
    status: OrderStatus,
    fulfillment_status: FulfillmentStatus,
    released: bool,
    parcels: Iterable[ShipmentStatus],
    pickups: Iterable[PickupState],
) -> CustomerStage:
    """The order's stage for its customer, by the table in the module docstring."""
    parcels, pickups = list(parcels), list(pickups)
    if status is OrderStatus.CANCELLED:
        return CustomerStage.CANCELLED
    if fulfillment_status is FulfillmentStatus.DELIVERED:
        picked_up = not parcels and PickupState.PICKED_UP in pickups
        return CustomerStage.PICKED_UP if picked_up else CustomerStage.DELIVERED
    if any(parcel in _PROBLEMS for parcel in parcels):
        return CustomerStage.DELIVERY_PROBLEM
    if ShipmentStatus.OUT_FOR_DELIVERY in parcels:
        return CustomerStage.OUT_FOR_DELIVERY
    if PickupState.READY in pickups:
        return CustomerStage.READY_FOR_PICKUP
    by_progress = {
        FulfillmentStatus.PARTIALLY_DELIVERED: CustomerStage.PARTIALLY_DELIVERED,
        FulfillmentStatus.FULFILLED: CustomerStage.SHIPPED,
        FulfillmentStatus.PARTIALLY_FULFILLED: CustomerStage.PARTIALLY_SHIPPED,
    }
    if fulfillment_status in by_progress:
        return by_progress[fulfillment_status]
    if status is OrderStatus.ON_HOLD:
        return CustomerStage.IN_REVIEW
    return CustomerStage.PREPARING if released else CustomerStage.RECEIVED


# Order timeline event type -> what the customer reads.
TIMELINE: Mapping[str, str] = {
    "order.placed": "Order placed",
    "order.released": "Order confirmed",
    "fulfillment_order.packed": "Packed",
    "shipment.created": "Handed to the carrier",
    "shipment.in_transit": "On its way",
    "shipment.out_for_delivery": "Out for delivery",
    "shipment.delivered": "Delivered",
    "shipment.exception": "Delivery problem reported",
    "shipment.returned_to_sender": "Returned to sender",
    "fulfillment_order.ready_for_pickup": "Ready for pickup",
    "fulfillment_order.picked_up": "Picked up",
    "fulfillment_order.pickup_expired": "Not picked up in time",
    "digital.delivered": "Download ready",
    "order.cancelled": "Order cancelled",
}


@dataclass(frozen=True)
class TimelineEntry:
    """One step of the order as the customer reads it; ``tracking_number`` and ``carrier``
    for parcel steps only."""

    at: datetime
    type: str
    title: str
    carrier: str | None = None
    tracking_number: str | None = None


def customer_timeline(events: Sequence[OrderEvent]) -> list[TimelineEntry]:
    """The order's events named in ``TIMELINE``, oldest first, each with its public detail
    only."""
    entries = []
    for event in events:
        title = TIMELINE.get(event.type)
        if title is None:
            continue
        parcel = event.type.startswith("shipment.")
        data = event.data if parcel else {}
        entries.append(
            TimelineEntry(
                at=event.created_at,
                type=event.type,
                title=title,
                carrier=data.get("carrier"),
                tracking_number=data.get("tracking_number"),
            )
        )
    return sorted(entries, key=lambda entry: entry.at)
