"""Status axes are derived from line quantities, totally and consistently."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.domain.status import (
    FulfillmentStatus,
    OrderStatus,
    derive_fulfillment_status,
    derive_order_status,
)


@dataclass
class Line:
    quantity: int
    shipped: int = 0
    delivered: int = 0
    cancelled: int = 0


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([Line(2)], FulfillmentStatus.UNFULFILLED),
        ([Line(2, shipped=1)], FulfillmentStatus.PARTIALLY_FULFILLED),
        ([Line(2, shipped=2)], FulfillmentStatus.FULFILLED),
        ([Line(2, shipped=1, cancelled=1)], FulfillmentStatus.FULFILLED),
        ([Line(2, shipped=2, delivered=1)], FulfillmentStatus.PARTIALLY_DELIVERED),
        ([Line(2, shipped=2, delivered=2)], FulfillmentStatus.DELIVERED),
        ([Line(2, shipped=2, delivered=2), Line(1)], FulfillmentStatus.PARTIALLY_DELIVERED),
        ([Line(3, cancelled=3)], FulfillmentStatus.UNFULFILLED),
    ],
)
def test_fulfillment_status_follows_the_units_that_were_not_cancelled(
    lines: list[Line], expected: FulfillmentStatus
) -> None:
    assert derive_fulfillment_status(lines) is expected


@pytest.mark.parametrize(
    ("lines", "holds", "expected"),
    [
        ([Line(1)], 0, OrderStatus.OPEN),
        ([Line(1)], 1, OrderStatus.ON_HOLD),
        ([Line(1, cancelled=1)], 1, OrderStatus.CANCELLED),
        ([Line(2, cancelled=1, shipped=1, delivered=1)], 0, OrderStatus.CLOSED),
        ([Line(2, shipped=2, delivered=1)], 0, OrderStatus.OPEN),
    ],
)
def test_order_status_is_cancelled_closed_held_or_open(
    lines: list[Line], holds: int, expected: OrderStatus
) -> None:
    assert derive_order_status(lines, open_holds=holds) is expected


@st.composite
def lines(draw: st.DrawFn) -> Line:
    quantity = draw(st.integers(1, 50))
    cancelled = draw(st.integers(0, quantity))
    shipped = draw(st.integers(0, quantity - cancelled))
    delivered = draw(st.integers(0, shipped))
    return Line(quantity, shipped=shipped, delivered=delivered, cancelled=cancelled)


@given(st.lists(lines(), min_size=1, max_size=6), st.integers(0, 3))
def test_status_derivation_is_total_and_consistent(order: list[Line], holds: int) -> None:
    fulfillment = derive_fulfillment_status(order)
    status = derive_order_status(order, open_holds=holds)
    wanted = sum(line.quantity - line.cancelled for line in order)
    shipped = sum(line.shipped for line in order)
    delivered = sum(line.delivered for line in order)

    assert (status is OrderStatus.CANCELLED) == (wanted == 0)
    assert (fulfillment is FulfillmentStatus.DELIVERED) == (wanted > 0 and delivered == wanted)
    assert (status is OrderStatus.CLOSED) == (fulfillment is FulfillmentStatus.DELIVERED)
    assert (fulfillment is FulfillmentStatus.UNFULFILLED) == (wanted == 0 or shipped == 0)
    if status is OrderStatus.ON_HOLD:
        assert holds > 0
