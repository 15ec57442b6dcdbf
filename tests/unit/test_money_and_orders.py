"""Money rounding per currency, and the order aggregate's own rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from oms.domain.catalogue import ProductKind
from oms.domain.errors import IllegalTransition
from oms.domain.money import is_known_currency, minor_units, round_money
from oms.domain.orders import Actor, Allocation, Customer, Order, OrderLine
from oms.domain.status import OrderStatus

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
WHO = Actor("system", "test")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("10.005", "EUR", "10.01"),
        ("10.004", "EUR", "10.00"),
        ("1999.5", "JPY", "2000"),
        ("1.0005", "KWD", "1.001"),
        ("-2.345", "USD", "-2.35"),
    ],
)
def test_money_rounds_half_up_to_the_currency_minor_unit(
    amount: str, currency: str, expected: str
) -> None:
    assert str(round_money(Decimal(amount), currency)) == expected


def test_currencies_are_checked_against_iso_4217() -> None:
    assert is_known_currency("EUR")
    assert not is_known_currency("EURO")
    assert (minor_units("EUR"), minor_units("JPY")) == (2, 0)


def _order(*lines: OrderLine, allocations: list[Allocation] | None = None) -> Order:
    return Order(
        id=UUID(int=9),
        tenant_id=UUID(int=8),
        number=1001,
        channel="api",
        external_id=None,
        currency="EUR",
        customer=Customer(),
        shipping_address=None,
        billing_address=None,
        lines=list(lines),
        allocations=allocations or [],
        created_at=NOW,
    )


def test_order_totals_sum_rounded_line_totals() -> None:
    order = _order(
        OrderLine(1, "A", "a", ProductKind.PHYSICAL, 3, Decimal("0.335")),
        OrderLine(2, "B", "b", ProductKind.PHYSICAL, 1, Decimal("10")),
    )
    assert order.subtotal == Decimal("11.01")


def test_cancelling_releases_open_allocations_and_cancels_every_unit() -> None:
    line = OrderLine(1, "A", "a", ProductKind.PHYSICAL, 5, Decimal(1), allocated=3, backordered=2)
    allocation = Allocation(UUID(int=1), 1, "A", UUID(int=2), quantity=3)
    order = _order(line, allocations=[allocation])

    released = order.cancel(actor=WHO, at=NOW, reason="customer asked")

    assert [(a.sku, a.quantity) for a in released] == [("A", 3)]
    assert allocation.open == 0
    assert (line.cancelled, line.allocated, line.backordered) == (5, 0, 0)
    assert line.quantities_balance
    assert order.status is OrderStatus.CANCELLED
    assert [e.type for e in order.new_events] == ["order.cancelled"]


def test_cancelling_twice_changes_nothing_the_second_time() -> None:
    order = _order(OrderLine(1, "A", "a", ProductKind.PHYSICAL, 1, Decimal(1), allocated=1))
    order.cancel(actor=WHO, at=NOW, reason=None)
    assert order.cancel(actor=WHO, at=NOW, reason=None) == []
    assert len(order.events) == 1


def test_cancelling_a_partly_shipped_order_is_refused() -> None:
    order = _order(
        OrderLine(1, "A", "a", ProductKind.PHYSICAL, 2, Decimal(1), allocated=1, shipped=1)
    )
    with pytest.raises(IllegalTransition):
        order.cancel(actor=WHO, at=NOW, reason=None)
    assert order.events == []
