"""Pricing rules: discount codes, their allocation over lines, shipping, taxes and totals."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.domain.errors import InvalidRequest
from oms.domain.money import minor_units
from oms.domain.pricing import (
    DiscountCode,
    DiscountKind,
    LineInput,
    OrderTotals,
    normalize_code,
    price_order,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
D = Decimal


def percent(value: str, **fields: Any) -> DiscountCode:
    return DiscountCode(UUID(int=1), "TEN", DiscountKind.PERCENTAGE, D(value), **fields)


def fixed(value: str, currency: str = "EUR", **fields: Any) -> DiscountCode:
    return DiscountCode(
        UUID(int=2), "FIVE", DiscountKind.FIXED_AMOUNT, D(value), currency, **fields
    )


FREE_SHIPPING = DiscountCode(UUID(int=3), "SHIPFREE", DiscountKind.FREE_SHIPPING, D(0))


def lines(*prices: str | tuple[str, int]) -> list[LineInput]:
    """Lines numbered from 1; a bare price means a quantity of 1."""
    made = []
    for number, price in enumerate(prices, start=1):
        unit, quantity = (price, 1) if isinstance(price, str) else price
        made.append(LineInput(number, D(unit), quantity))
    return made


def line_discounts(totals: OrderTotals) -> list[str]:
    return [str(line.discount) for line in totals.lines]


# --- price_order: worked examples -------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "order_lines", "codes", "expected_discount", "expected_lines"),
    [
        pytest.param(
            "EUR",
            lines("3.33", "3.33", "3.33"),
            [percent("10")],
            "1.00",
            ["0.34", "0.33", "0.33"],
            id="10% of 9.99 rounds to 1.00; the cent left over goes to line 1 on a tie",
        ),
        pytest.param(
            "EUR",
            lines("1.00", "2.00", "4.00"),
            [fixed("1.00")],
            "1.00",
            ["0.14", "0.29", "0.57"],
            id="the largest remainder (line 2, 28.57 cents) gets the cent left over",
        ),
        pytest.param(
            "EUR",
            lines(("0.333", 3), "0.01"),
            [percent("50")],
            "0.51",
            ["0.50", "0.01"],
            id="line subtotals are rounded first (0.999 -> 1.00); 50% of 1.01 -> 0.51",
        ),
        pytest.param(
            "EUR",
            lines("3.99"),
            [fixed("5.00")],
            "3.99",
            ["3.99"],
            id="a fixed amount is capped at the subtotal",
        ),
        pytest.param(
            "EUR",
            lines("100.00"),
            [percent("10"), fixed("5.00")],
            "15.00",
            ["15.00"],
            id="10% of 100.00, then 5.00",
        ),
        pytest.param(
            "EUR",
            lines("100.00"),
            [fixed("5.00"), percent("10")],
            "14.50",
            ["14.50"],
            id="5.00, then 10% of the 95.00 left",
        ),
        pytest.param(
            "EUR",
            lines("0.99"),
            [percent("15"), replace(percent("15"), id=UUID(int=9))],
            "0.28",
            ["0.28"],
            id="each code is rounded: 0.1485 -> 0.15, then 0.126 -> 0.13",
        ),
        pytest.param(
            "JPY",
            lines("333", ("333", 2)),
            [percent("10")],
            "100",
            ["33", "67"],
            id="JPY: 10% of 999 = 99.9 rounds to 100 yen",
        ),
        pytest.param(
            "JPY",
            lines("999"),
            [percent("12.5")],
            "125",
            ["125"],
            id="JPY: 124.875 rounds half up to 125",
        ),
        pytest.param(
            "KWD",
            lines(("1.250", 3)),
            [percent("7.5")],
            "0.281",
            ["0.281"],
            id="KWD: three decimals, 0.28125 -> 0.281",
        ),
    ],
)
def test_discounts_are_applied_in_order_and_spread_over_lines_to_the_minor_unit(
    currency: str,
    order_lines: list[LineInput],
    codes: list[DiscountCode],
    expected_discount: str,
    expected_lines: list[str],
) -> None:
    totals = price_order(currency=currency, lines=order_lines, discounts=codes)
    assert str(totals.discount_total) == expected_discount
    assert line_discounts(totals) == expected_lines


def test_a_fixed_discount_never_exceeds_the_subtotal() -> None:
    totals = price_order(
        currency="EUR", lines=lines("3.99"), shipping=D("4.95"), discounts=[fixed("5.00")]
    )
    assert (str(totals.discount_total), str(totals.total)) == ("3.99", "4.95")
    assert str(totals.lines[0].total) == "0.00"


def test_a_tie_on_remainders_is_broken_by_line_number_not_by_position() -> None:
    order_lines = [
        LineInput(3, D("1.00"), 1),
        LineInput(1, D("1.00"), 1),
        LineInput(2, D("1.00"), 1),
    ]
    totals = price_order(currency="EUR", lines=order_lines, discounts=[fixed("0.10")])
    assert {line.line_no: str(line.discount) for line in totals.lines} == {
        1: "0.04",
        2: "0.03",
        3: "0.03",
    }


def test_free_shipping_zeroes_the_shipping_but_keeps_the_channels_taxes() -> None:
    order_lines = [LineInput(1, D("20.00"), 2, tax=D("7.60"))]
    totals = price_order(
        currency="EUR",
        lines=order_lines,
        shipping=D("4.95"),
        shipping_tax=D("0.94"),
        discounts=[FREE_SHIPPING],
    )
    assert totals == OrderTotals(
        lines=totals.lines,
        subtotal=D("40.00"),
        discount_total=D("0.00"),
        shipping=D("0.00"),
        shipping_discount=D("4.95"),
        tax_total=D("8.54"),
        total=D("48.54"),
    )
    assert str(totals.lines[0].total) == "47.60"


@pytest.mark.parametrize("codes", [[], [FREE_SHIPPING], [percent("10")]])
def test_an_order_with_nothing_left_to_pay_for_owes_no_shipping_and_totals_zero(
    codes: list[DiscountCode],
) -> None:
    # Every line cancelled: shipping goes with the goods, packed parcel or not.
    totals = price_order(
        currency="EUR", lines=[], shipping=D("4.95"), shipping_tax=D("0.94"), discounts=codes
    )
    assert totals == OrderTotals(
        lines=(),
        subtotal=D("0.00"),
        discount_total=D("0.00"),
        shipping=D("0.00"),
        shipping_discount=D("0.00"),
        tax_total=D("0.00"),
        total=D("0.00"),
    )


def test_taxes_are_not_recomputed_after_a_discount() -> None:
    order_lines = [LineInput(1, D("100.00"), 1, tax=D("19.00"))]
    totals = price_order(currency="EUR", lines=order_lines, discounts=[percent("50")])
    assert (str(totals.tax_total), str(totals.total)) == ("19.00", "69.00")


def test_an_order_without_codes_is_priced_at_its_subtotal_plus_shipping_and_taxes() -> None:
    order_lines = [LineInput(1, D("9.5"), 3, tax=D("1.5"))]
    totals = price_order(currency="EUR", lines=order_lines, shipping=D("5"), shipping_tax=D("1"))
    assert [str(a) for a in (totals.subtotal, totals.discount_total, totals.total)] == [
        "28.50",
        "0.00",
        "36.00",
    ]


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        ([fixed("5.00", currency="USD")], "in USD, not EUR"),
        ([percent("10", currency="USD", min_subtotal=D("50"))], "in USD, not EUR"),
        ([percent("150")], "not valid"),
        ([percent("10"), percent("10")], "applied twice"),
    ],
)
def test_a_code_that_cannot_apply_to_the_order_is_the_callers_error(
    codes: list[DiscountCode], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        price_order(currency="EUR", lines=lines("10.00"), discounts=codes)


@pytest.mark.parametrize(
    ("currency", "order_lines", "shipping", "message"),
    [
        ("EURO", lines("1.00"), D(0), "unknown currency"),
        ("EUR", [LineInput(1, D("1.00"), 1), LineInput(1, D("2.00"), 1)], D(0), "unique"),
        ("EUR", [LineInput(1, D("1.00"), 0)], D(0), "quantity below 1"),
        ("EUR", [LineInput(1, D("-1.00"), 1)], D(0), "negative price"),
        ("EUR", lines("1.00"), D("-1"), "shipping must not be negative"),
    ],
)
def test_malformed_orders_are_refused(
    currency: str, order_lines: list[LineInput], shipping: Decimal, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        price_order(currency=currency, lines=order_lines, shipping=shipping)


# --- DiscountCode.refusal --------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "subtotal", "currency", "reason"),
    [
        (percent("10"), "1.00", "EUR", None),
        (percent("10", active=False), "1.00", "EUR", "not active"),
        (percent("10", starts_at=NOW + timedelta(seconds=1)), "1.00", "EUR", "not started yet"),
        (percent("10", starts_at=NOW), "1.00", "EUR", None),
        (percent("10", ends_at=NOW), "1.00", "EUR", "expired"),
        (percent("10", ends_at=NOW + timedelta(seconds=1)), "1.00", "EUR", None),
        (percent("10", usage_limit=5, times_used=5), "1.00", "EUR", "used up"),
        (percent("10", usage_limit=5, times_used=4), "1.00", "EUR", None),
        (fixed("5.00"), "10.00", "USD", "only for orders in EUR"),
        (
            percent("10", currency="EUR", min_subtotal=D("50")),
            "49.99",
            "EUR",
            "order subtotal below the minimum of 50.00 EUR",
        ),
        (percent("10", currency="EUR", min_subtotal=D("50")), "50.00", "EUR", None),
        (
            fixed("500", currency="JPY", min_subtotal=D("3000")),
            "2999",
            "JPY",
            "order subtotal below the minimum of 3000 JPY",
        ),
        (percent("10", active=False, ends_at=NOW), "1.00", "EUR", "not active"),
    ],
)
def test_a_code_is_refused_with_a_short_reason(
    code: DiscountCode, subtotal: str, currency: str, reason: str | None
) -> None:
    assert code.refusal(subtotal=D(subtotal), currency=currency, at=NOW) == reason


def test_refusal_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="time zone"):
        percent("10").refusal(subtotal=D(1), currency="EUR", at=NOW.replace(tzinfo=None))


# --- DiscountCode.validate -------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "pointers"),
    [
        (percent("10"), []),
        (percent("100"), []),
        (percent("0"), ["#/value"]),
        (percent("100.01"), ["#/value"]),
        (percent("NaN"), ["#/value"]),
        (percent("10", currency="EUR"), ["#/currency"]),
        (percent("10", min_subtotal=D("50")), ["#/currency"]),
        (percent("10", currency="EUR", min_subtotal=D("0")), ["#/min_subtotal"]),
        (percent("10", currency="EUR", min_subtotal=D("9.999")), ["#/min_subtotal"]),
        (fixed("5.00"), []),
        (fixed("0"), ["#/value"]),
        (fixed("-5.00"), ["#/value"]),
        (fixed("5.001"), ["#/value"]),
        (fixed("5.5", currency="JPY"), ["#/value"]),
        (fixed("5.00", currency=None), ["#/currency"]),
        (fixed("5.00", currency="EURO"), ["#/currency"]),
        (FREE_SHIPPING, []),
        (replace(FREE_SHIPPING, value=D(1)), ["#/value"]),
        (replace(FREE_SHIPPING, code="shipfree"), ["#/code"]),
        (replace(FREE_SHIPPING, code=" "), ["#/code"]),
        (percent("10", starts_at=NOW, ends_at=NOW - timedelta(days=1)), ["#/ends_at"]),
        (percent("10", starts_at=NOW, ends_at=NOW), ["#/ends_at"]),
        (percent("10", starts_at=NOW.replace(tzinfo=None)), ["#/starts_at"]),
        (percent("10", usage_limit=0), ["#/usage_limit"]),
        (percent("10", per_customer_limit=0), ["#/per_customer_limit"]),
        (percent("10", times_used=-1), ["#/times_used"]),
        (fixed("0", currency=None, usage_limit=0), ["#/currency", "#/value", "#/usage_limit"]),
    ],
)
def test_an_inconsistent_code_definition_is_refused_field_by_field(
    code: DiscountCode, pointers: list[str]
) -> None:
    if not pointers:
        code.validate()
        return
    with pytest.raises(InvalidRequest) as refused:
        code.validate()
    assert [error.pointer for error in refused.value.errors] == pointers


def test_codes_are_matched_case_insensitively_through_their_stored_form() -> None:
    assert normalize_code(" summer10 ") == "SUMMER10"


# --- invariants over random orders -----------------------------------------------------


@st.composite
def orders(draw: st.DrawFn) -> tuple[str, list[LineInput], Decimal, Decimal, list[DiscountCode]]:
    currency = draw(st.sampled_from(["EUR", "JPY", "KWD"]))
    digits = minor_units(currency)

    def amounts(low: str, high: str) -> st.SearchStrategy[Decimal]:
        return st.decimals(D(low), D(high), places=digits, allow_nan=False, allow_infinity=False)

    count = draw(st.integers(1, 8))
    order_lines = [
        LineInput(
            number, draw(amounts("0", "10000")), draw(st.integers(1, 50)), draw(amounts("0", "500"))
        )
        for number in draw(st.permutations(range(1, count + 1)))
    ]
    smallest = str(D(1).scaleb(-digits))
    code_values = {
        DiscountKind.PERCENTAGE: st.decimals(D("0.01"), D(100), places=2),
        DiscountKind.FIXED_AMOUNT: amounts(smallest, "20000"),
        DiscountKind.FREE_SHIPPING: st.just(D(0)),
    }
    codes = [
        DiscountCode(
            UUID(int=index),
            f"CODE{index}",
            kind,
            draw(code_values[kind]),
            currency if kind is DiscountKind.FIXED_AMOUNT else None,
        )
        for index, kind in enumerate(draw(st.lists(st.sampled_from(DiscountKind), max_size=3)))
    ]
    return currency, order_lines, draw(amounts("0", "100")), draw(amounts("0", "20")), codes


@given(orders())
def test_priced_orders_keep_every_invariant(
    order: tuple[str, list[LineInput], Decimal, Decimal, list[DiscountCode]],
) -> None:
    currency, order_lines, shipping, shipping_tax, codes = order
    totals = price_order(
        currency=currency,
        lines=order_lines,
        shipping=shipping,
        shipping_tax=shipping_tax,
        discounts=codes,
    )
    assert sum((line.discount for line in totals.lines), D(0)) == totals.discount_total
    assert sum((line.subtotal for line in totals.lines), D(0)) == totals.subtotal
    for line in totals.lines:
        assert 0 <= line.discount <= line.subtotal
        assert line.total == line.subtotal - line.discount + line.tax
    assert totals.total == (
        totals.subtotal - totals.discount_total + totals.shipping + totals.tax_total
    )
    assert totals.shipping + totals.shipping_discount == shipping
    assert totals.total >= 0
    amounts = [
        totals.subtotal,
        totals.discount_total,
        totals.shipping,
        totals.shipping_discount,
        totals.tax_total,
        totals.total,
    ]
    amounts += [
        a for line in totals.lines for a in (line.subtotal, line.discount, line.tax, line.total)
    ]
    assert {amount.as_tuple().exponent for amount in amounts} == {-minor_units(currency)}


@given(orders())
def test_the_discount_is_allocated_in_proportion_to_line_subtotals_within_one_minor_unit(
    order: tuple[str, list[LineInput], Decimal, Decimal, list[DiscountCode]],
) -> None:
    currency, order_lines, _, _, codes = order
    totals = price_order(currency=currency, lines=order_lines, discounts=codes)
    unit = D(1).scaleb(-minor_units(currency))
    for line in totals.lines:
        if totals.subtotal:
            exact = totals.discount_total * line.subtotal / totals.subtotal
            assert abs(line.discount - exact) < unit
