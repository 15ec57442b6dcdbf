"""An order and its parcels in the customer's words: the stage derived from the status
axes, parcels and pickups, and a timeline with only the customer's events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.domain.customer_status import (
    PARCEL_WORDS,
    TIMELINE,
    WORDS,
    CustomerStage,
    PickupState,
    customer_timeline,
    order_stage,
)
from oms.domain.orders import OrderEvent
from oms.domain.status import FulfillmentStatus, OrderStatus
from oms.domain.tracking import ShipmentStatus

S, F, P = ShipmentStatus, FulfillmentStatus, PickupState
OPEN, HELD, CANCELLED = OrderStatus.OPEN, OrderStatus.ON_HOLD, OrderStatus.CANCELLED


@pytest.mark.parametrize(
    ("status", "progress", "released", "parcels", "pickups", "stage"),
    [
        (OPEN, F.UNFULFILLED, False, [], [], CustomerStage.RECEIVED),
        (HELD, F.UNFULFILLED, False, [], [], CustomerStage.IN_REVIEW),
        (OPEN, F.UNFULFILLED, True, [], [], CustomerStage.PREPARING),
        (OPEN, F.UNFULFILLED, True, [S.LABEL_CREATED], [], CustomerStage.PREPARING),
        (OPEN, F.PARTIALLY_FULFILLED, True, [S.IN_TRANSIT], [], CustomerStage.PARTIALLY_SHIPPED),
        (OPEN, F.FULFILLED, True, [S.IN_TRANSIT], [], CustomerStage.SHIPPED),
        (HELD, F.FULFILLED, True, [S.IN_TRANSIT], [], CustomerStage.SHIPPED),
        (
            OPEN,
            F.FULFILLED,
            True,
            [S.DELIVERED, S.OUT_FOR_DELIVERY],
            [],
            CustomerStage.OUT_FOR_DELIVERY,
        ),
        (
            OPEN,
            F.FULFILLED,
            True,
            [S.OUT_FOR_DELIVERY, S.EXCEPTION],
            [],
            CustomerStage.DELIVERY_PROBLEM,
        ),
        (OPEN, F.FULFILLED, True, [S.RETURNED_TO_SENDER], [], CustomerStage.DELIVERY_PROBLEM),
        (OPEN, F.PARTIALLY_DELIVERED, True, [S.DELIVERED], [], CustomerStage.PARTIALLY_DELIVERED),
        (OrderStatus.CLOSED, F.DELIVERED, True, [S.DELIVERED], [], CustomerStage.DELIVERED),
        (OPEN, F.UNFULFILLED, True, [], [P.PREPARING], CustomerStage.PREPARING),
        (OPEN, F.UNFULFILLED, True, [], [P.READY], CustomerStage.READY_FOR_PICKUP),
        (OrderStatus.CLOSED, F.DELIVERED, True, [], [P.PICKED_UP], CustomerStage.PICKED_UP),
        (
            OrderStatus.CLOSED,
            F.DELIVERED,
            True,
            [S.DELIVERED],
            [P.PICKED_UP],
            CustomerStage.DELIVERED,
        ),
        (CANCELLED, F.UNFULFILLED, True, [], [P.EXPIRED], CustomerStage.CANCELLED),
        (CANCELLED, F.UNFULFILLED, False, [], [], CustomerStage.CANCELLED),
    ],
)
def test_the_stage_follows_the_first_rule_that_holds(
    status: OrderStatus,
    progress: FulfillmentStatus,
    released: bool,
    parcels: list[ShipmentStatus],
    pickups: list[PickupState],
    stage: CustomerStage,
) -> None:
    found = order_stage(
        status=status,
        fulfillment_status=progress,
        released=released,
        parcels=parcels,
        pickups=pickups,
    )

    assert found is stage


@given(
    st.sampled_from(OrderStatus),
    st.sampled_from(FulfillmentStatus),
    st.booleans(),
    st.lists(st.sampled_from(ShipmentStatus), max_size=4),
    st.lists(st.sampled_from(PickupState), max_size=3),
)
def test_every_order_has_a_stage_with_words(
    status: OrderStatus,
    progress: FulfillmentStatus,
    released: bool,
    parcels: list[ShipmentStatus],
    pickups: list[PickupState],
) -> None:
    stage = order_stage(
        status=status,
        fulfillment_status=progress,
        released=released,
        parcels=parcels,
        pickups=pickups,
    )

    headline, sentence = WORDS[stage]
    assert headline
    assert sentence.endswith(".")


def test_every_parcel_status_has_words() -> None:
    assert set(PARCEL_WORDS) == set(ShipmentStatus)


AT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def _event(seq: int, type_: str, **data: object) -> OrderEvent:
    return OrderEvent(
        seq=seq,
        type=type_,
        actor="api_key:0191",
        created_at=AT + timedelta(minutes=seq),
        reason="risk score 97",
        data=dict(data),
    )


def test_the_timeline_keeps_the_customers_events_and_only_their_public_detail() -> None:
    events = [
        _event(1, "order.placed", total="99.00"),
        _event(2, "hold.placed", reason="risk"),
        _event(3, "hold.released"),
        _event(4, "payment.captured", amount="99.00"),
        _event(5, "order.released"),
        _event(6, "fulfillment_order.created", location="WH-A"),
        _event(7, "fulfillment_order.packed", location="WH-A"),
        _event(8, "shipment.created", carrier="acme", tracking_number="AC1", location="WH-A"),
        _event(9, "order.rerouted"),
        _event(10, "shipment.delivered", carrier="acme", tracking_number="AC1", where="Koeln"),
    ]

    timeline = customer_timeline(list(reversed(events)))

    assert [(e.type, e.title) for e in timeline] == [
        ("order.placed", "Order placed"),
        ("order.released", "Order confirmed"),
        ("fulfillment_order.packed", "Packed"),
        ("shipment.created", "Handed to the carrier"),
        ("shipment.delivered", "Delivered"),
    ]
    assert [(e.carrier, e.tracking_number) for e in timeline][-2:] == [("acme", "AC1")] * 2
    assert all(e.carrier is None for e in timeline[:3])
    assert set(TIMELINE) >= {e.type for e in timeline}
