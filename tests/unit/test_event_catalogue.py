"""The public event catalogue covers every outbox topic the code writes: each maps to a
public type or is deliberately kept inside; each public type names a resource its messages
can find."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oms.services.event_catalogue import (
    PUBLIC_TYPES,
    derived_topics,
    public_type,
    resource_of,
    unknown_types,
)

SRC = Path(__file__).resolve().parents[2] / "src" / "oms"

# Timeline steps a merchant does not subscribe to (warehouse work in progress, and the
# timeline's twin of notification.pickup_ready).
PRIVATE = {
    "fulfillment_order.cancelled",
    "fulfillment_order.moved",
    "fulfillment_order.on_hold",
    "fulfillment_order.packed",
    "fulfillment_order.picked",
    "fulfillment_order.pickup_expired",
    "fulfillment_order.pickup_locked",
    "fulfillment_order.ready_for_pickup",
    "fulfillment_order.rejected",
    "fulfillment_order.resumed",
    "fulfillment_order.scan_refused",
    "fulfillment_order.short_picked",
    "fulfillment_order.unpacked",
    "notification.resent",
    "shipment.label_created",
    "payment.declined",
    "payment.failed",
    "payment.pending",
    # Inbound steps kept in the outbox (the others are public: docs/events.md).
    "inbound_shipment.announced",
    "inbound_shipment.put_away",
}


def _written_topics() -> set[str]:
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'(?:change|record)\(\s*"([a-z_]+\.[a-z_]+)"', text))
        found |= set(re.findall(r'topic="([a-z_]+\.[a-z_]+)"', text))
        found |= set(re.findall(r'"(fulfillment_order\.[a-z_]+)"', text))
    return found


def test_every_topic_written_is_public_or_deliberately_private() -> None:
    written = _written_topics()
    assert {"order.placed", "hold.placed", "notification.pickup_ready"} <= written

    unmapped = {t for t in written if public_type(t, {"on_hand": 0, "safety_stock": 0}) is None}

    assert unmapped - PRIVATE == set()


@pytest.mark.parametrize(
    ("topic", "payload", "kind"),
    [
        ("order.placed", {"order_id": "o"}, "order"),
        ("fulfillment_order.created", {"data": {"fulfillment_order_id": "f"}}, "fulfillment_order"),
        ("notification.pickup_ready", {"fulfillment_order_id": "f"}, "fulfillment_order"),
        (
            "fulfillment_order.picked_up",
            {"data": {"fulfillment_order_id": "f"}},
            "fulfillment_order",
        ),
        ("shipment.delivered", {"data": {"shipment_id": "s"}}, "shipment"),
        ("inventory.adjusted", {"sku": "TEE", "on_hand": 1, "safety_stock": 2}, "stock"),
        ("webhook_endpoint.disabled", {}, "webhook_endpoint"),
        ("purchase_order.received", {"purchase_order_id": "p"}, "purchase_order"),
        ("inbound_shipment.closed", {"inbound_shipment_id": "s"}, "inbound_shipment"),
        ("transfer.shipped", {"transfer_id": "t"}, "transfer"),
        ("cycle_count.approved", {"cycle_count_id": "c"}, "cycle_count"),
    ],
)
def test_each_public_event_finds_its_resource(topic: str, payload: dict, kind: str) -> None:
    event_type = public_type(topic, payload)
    assert event_type is not None

    ref = resource_of(event_type, "aggregate", payload)

    assert ref is not None
    assert ref.kind == kind


def test_stock_is_low_once_no_more_is_on_hand_than_the_safety_stock() -> None:
    assert (
        public_type("inventory.adjusted", {"on_hand": 3, "safety_stock": 3})
        == "inventory.low_stock"
    )
    assert public_type("inventory.adjusted", {"on_hand": 4, "safety_stock": 3}) is None


def test_an_order_at_one_location_is_not_split() -> None:
    one = {"allocations": [{"location_id": "A", "quantity": 2, "fulfilled": 0}] * 2}
    two = {
        "allocations": [{"location_id": "A", "quantity": 2}, {"location_id": "B", "quantity": 1}]
    }

    assert derived_topics("order.released", one) == []
    assert derived_topics("order.released", two) == ["order.split"]
    assert derived_topics("order.placed", two) == []


def test_the_names_a_merchant_may_ask_for() -> None:
    assert unknown_types(["*", "order.created", "order.exploded"]) == ["order.exploded"]
    assert set(PUBLIC_TYPES) >= {
        "order.created",
        "order.updated",
        "order.on_hold",
        "order.hold_released",
        "order.released",
        "order.cancelled",
        "order.split",
        "fulfillment_order.created",
        "shipment.created",
        "shipment.out_for_delivery",
        "shipment.delivered",
        "shipment.exception",
        "pickup.ready",
        "pickup.collected",
        "payment.captured",
        "payment.refunded",
        "inventory.low_stock",
        "webhook_endpoint.disabled",
    }
