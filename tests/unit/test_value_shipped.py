"""What the goods that left are worth (``Order.value_shipped``), which is what a shipment
captures: never less than before, never more than the total, the total once all has left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from oms.domain.catalogue import ProductKind
from oms.domain.money import minor_units
from oms.domain.orders import Customer, Order, OrderLine
from oms.domain.pricing import DiscountCode, DiscountKind

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _order(
    lines: list[OrderLine],
    *,
    currency: str = "EUR",
    shipping: Decimal = Decimal(0),
    shipping_tax: Decimal = Decimal(0),
    codes: list[DiscountCode] | None = None,
) -> Order:
    order = Order(
        id=UUID(int=9),
        tenant_id=UUID(int=8),
        number=1001,
        channel="api",
        external_id=None,
        currency=currency,
        customer=Customer(),
        shipping_address=None,
        billing_address=None,
        lines=lines,
        created_at=NOW,
        shipping_price=shipping,
        shipping_tax=shipping_tax,
        discount_codes=codes or [],
    )
    order.reprice()
    return order


def _line(
    line_no: int,
    price: str,
    quantity: int,
    *,
    kind: ProductKind = ProductKind.PHYSICAL,
    cancelled: int = 0,
    tax: Decimal = Decimal(0),
) -> OrderLine:
    return OrderLine(
        line_no=line_no,
        sku=f"SKU-{line_no}",
        name=f"Product {line_no}",
        kind=kind,
        quantity=quantity,
        unit_price=Decimal(price),
        allocated=quantity - cancelled,
        cancelled=cancelled,
        tax=tax,
    )


def _ship(order: Order, line_no: int, units: int) -> None:
    line = order.line(line_no)
    order.record_progress(line_no, shipped=line.shipped + units, delivered=line.delivered)


def test_a_partial_shipment_is_worth_its_share_of_the_line_plus_all_the_shipping() -> None:
    five_off = DiscountCode(
        id=UUID(int=1),
        code="FIVE",
        kind=DiscountKind.FIXED_AMOUNT,
        value=Decimal("5.00"),
        currency="EUR",
    )
    order = _order(
        [_line(1, "10.00", 3), _line(2, "15.00", 1)], shipping=Decimal("4.95"), codes=[five_off]
    )
    # 5.00 spread by subtotal (30.00 : 15.00) in cents, the odd cent to the larger
    # remainder: line 1 carries 3.33, line 2 1.67.
    assert order.total == Decimal("44.95")

    _ship(order, 1, 2)
    # 26.67 * 2 / 3 = 17.78 (half up), and the shipping goes with the first parcel.
    assert order.value_shipped() == Decimal("17.78") + Decimal("4.95")

    _ship(order, 1, 1)
    _ship(order, 2, 1)
    assert order.value_shipped() == order.total


# --- the property ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    currency: str
    lines: list[tuple[int, int, int, int, bool]]  # price, quantity, cancelled, tax (minor), digital
    shipping: int
    shipping_tax: int
    codes: list[tuple[DiscountKind, int]]  # percent, or an amount in minor units


CURRENCIES = ["EUR", "JPY", "KWD"]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    currency = draw(st.sampled_from(CURRENCIES))
    line = st.tuples(
        st.integers(0, 100_000),  # unit price, minor units
        st.integers(1, 12),  # quantity
        st.integers(0, 11),  # cancelled before anything shipped (capped below)
        st.integers(0, 2_000),  # line tax, minor units
        st.booleans(),  # digital
    )
    lines = [
        (price, quantity, min(cancelled, quantity - 1), tax, digital)
        for price, quantity, cancelled, tax, digital in draw(st.lists(line, min_size=1, max_size=5))
    ]
    code = st.one_of(
        st.tuples(st.just(DiscountKind.PERCENTAGE), st.integers(1, 100)),
        st.tuples(st.just(DiscountKind.FIXED_AMOUNT), st.integers(1, 200_000)),
        st.tuples(st.just(DiscountKind.FREE_SHIPPING), st.just(0)),
    )
    return Scenario(
        currency=currency,
        lines=lines,
        shipping=draw(st.integers(0, 5_000)),
        shipping_tax=draw(st.integers(0, 1_000)),
        codes=draw(st.lists(code, max_size=3)),
    )


def _money(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-minor_units(currency))


def _build(scenario: Scenario) -> Order:
    cur = scenario.currency
    lines = [
        _line(
            n,
            str(_money(price, cur)),
            quantity,
            kind=ProductKind.DIGITAL if digital else ProductKind.PHYSICAL,
            cancelled=cancelled,
            tax=_money(tax, cur),
        )
        for n, (price, quantity, cancelled, tax, digital) in enumerate(scenario.lines, start=1)
    ]
    codes = [
        DiscountCode(
            id=UUID(int=n),
            code=f"CODE{n}",
            kind=kind,
            value=Decimal(value) if kind is DiscountKind.PERCENTAGE else _money(value, cur),
            currency=cur if kind is DiscountKind.FIXED_AMOUNT else None,
        )
        for n, (kind, value) in enumerate(scenario.codes, start=1)
    ]
    return _order(
        lines,
        currency=cur,
        shipping=_money(scenario.shipping, cur),
        shipping_tax=_money(scenario.shipping_tax, cur),
        codes=codes,
    )


@settings(max_examples=150, deadline=None)
@given(scenario=scenarios(), data=st.data())
def test_the_value_shipped_never_falls_and_is_the_total_once_everything_billable_left(
    scenario: Scenario, data: st.DataObject
) -> None:
    order = _build(scenario)
    total = order.total
    assert order.value_shipped() == 0
    seen = [Decimal(0)]
    while any(line.wanted for line in order.lines):
        line = data.draw(st.sampled_from([ln for ln in order.lines if ln.wanted]), label="line")
        units = data.draw(st.integers(1, line.wanted), label="units")
        _ship(order, line.line_no, units)
        value = order.value_shipped()
        assert seen[-1] <= value <= total
        assert order.total == total  # shipping changes no price
        seen.append(value)
    assert seen[-1] == total
