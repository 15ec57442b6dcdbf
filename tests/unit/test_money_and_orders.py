"""Money rounding per currency, and the order aggregate's own rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.domain.catalogue import ProductKind
from oms.domain.errors import IllegalTransition
from oms.domain.money import (
    is_known_currency,
    minor_unit_problem,
    minor_units,
    round_money,
    without_negative_zero,
)
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


@pytest.mark.parametrize("code", ["EUR", "USD", "JPY", "KWD", "CHF", "XOF", "XCD"])
def test_a_currency_in_use_somewhere_is_money(code: str) -> None:
    assert is_known_currency(code)


# ISO 4217 codes of no currency a shop can take: no currency, testing, precious metals,
# bond market and accounting units, funds; and currencies no longer in use.
@pytest.mark.parametrize(
    "code",
    [
        *("XXX", "XTS", "XAU", "XAG", "XPT", "XPD", "XDR", "XBA", "XBB", "XBC", "XBD"),
        *("XSU", "XUA", "CHE", "CHW", "CLF", "USN", "UYI", "MXV", "BOV", "COU"),
        *("DEM", "HRK", "VEF"),
    ],
)
def test_an_iso_code_of_no_tender_is_not_money(code: str) -> None:
    assert not is_known_currency(code)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("1.5", "JPY"), ("1.005", "EUR"), ("1.0005", "KWD"), ("0.001", "USD"), ("NaN", "EUR")],
)
def test_an_amount_finer_than_its_currency_minor_unit_is_refused(
    amount: str, currency: str
) -> None:
    assert minor_unit_problem(Decimal(amount), currency) is not None


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("1500", "JPY"), ("1500.00", "JPY"), ("1.5", "EUR"), ("1.50", "EUR"), ("1.005", "KWD")],
)
def test_an_amount_within_its_currency_minor_unit_is_taken(amount: str, currency: str) -> None:
    assert minor_unit_problem(Decimal(amount), currency) is None


@given(
    amount=st.decimals(
        allow_nan=False, allow_infinity=False, places=5, min_value=-(10**12), max_value=10**12
    ),
    currency=st.sampled_from(["EUR", "JPY", "KWD", "USD"]),
)
def test_an_amount_is_refused_exactly_when_rounding_would_change_it(
    amount: Decimal, currency: str
) -> None:
    refused = minor_unit_problem(amount, currency) is not None
    assert refused == (round_money(amount, currency) != amount)


@pytest.mark.parametrize("amount", ["-0", "-0.00", "-0.0001", "-0.004"])
def test_money_rounds_to_zero_never_to_negative_zero(amount: str) -> None:
    assert str(round_money(Decimal(amount), "EUR")) == "0.00"


@pytest.mark.parametrize("amount", ["-0", "-0.00", "-0E+3"])
def test_negative_zero_is_zero(amount: str) -> None:
    normalised = without_negative_zero(Decimal(amount))

    assert normalised == Decimal(amount)
    assert not normalised.is_signed()
    assert normalised.as_tuple().exponent == Decimal(amount).as_tuple().exponent


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
