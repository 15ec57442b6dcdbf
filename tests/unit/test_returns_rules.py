"""Return rules and refund amounts: what may come back, and what it pays back to the cent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.domain.catalogue import ProductKind
from oms.domain.errors import IllegalTransition, InvalidRequest
from oms.domain.orders import Customer, Order, OrderEvent, OrderLine
from oms.domain.pricing import DiscountCode, DiscountKind
from oms.domain.refunds import auto_approves, quote_refund
from oms.domain.returns import (
    Disposition,
    OrderReturnStatus,
    Resolution,
    ReturnLine,
    ReturnPolicy,
    ReturnRequest,
    ReturnStatus,
    ShippingRefund,
    WantedLine,
    check_request,
    derive_order_return_status,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _line(
    line_no: int,
    price: str,
    quantity: int,
    *,
    kind: ProductKind = ProductKind.PHYSICAL,
    tax: str = "0",
) -> OrderLine:
    return OrderLine(
        line_no=line_no,
        sku=f"SKU-{line_no}",
        name=f"Product {line_no}",
        kind=kind,
        quantity=quantity,
        unit_price=Decimal(price),
        shipped=quantity,
        delivered=quantity,
        tax=Decimal(tax),
    )


def _order(
    lines: list[OrderLine],
    *,
    shipping: str = "0",
    shipping_tax: str = "0",
    codes: list[DiscountCode] | None = None,
    delivered_at: datetime = NOW,
) -> Order:
    order = Order(
        id=UUID(int=9),
        tenant_id=UUID(int=8),
        number=1001,
        channel="api",
        external_id=None,
        currency="EUR",
        customer=Customer(),
        shipping_address=None,
        billing_address=None,
        lines=lines,
        created_at=NOW - timedelta(days=3),
        shipping_price=Decimal(shipping),
        shipping_tax=Decimal(shipping_tax),
        discount_codes=codes or [],
        events=[OrderEvent(1, "shipment.delivered", "system:oms", delivered_at)],
    )
    order.reprice()
    return order


def _code(kind: DiscountKind, value: str) -> DiscountCode:
    return DiscountCode(
        id=UUID(int=1),
        code="X",
        kind=kind,
        value=Decimal(value),
        currency="EUR" if kind is DiscountKind.FIXED_AMOUNT else None,
    )


def _return(lines: list[ReturnLine], status: ReturnStatus = ReturnStatus.APPROVED) -> ReturnRequest:
    return ReturnRequest(
        id=UUID(int=5),
        tenant_id=UUID(int=8),
        order_id=UUID(int=9),
        order_number=1001,
        status=status,
        resolution=Resolution.REFUND,
        lines=lines,
        currency="EUR",
        created_at=NOW,
        created_by="test",
        updated_at=NOW,
    )


def test_a_return_inside_the_window_gives_its_lines() -> None:
    order = _order([_line(1, "20.00", 2)])
    lines = check_request(
        order,
        [WantedLine(1, 1, "wrong_size")],
        pending={},
        policy=ReturnPolicy(),
        at=NOW + timedelta(days=29),
    )
    assert [(ln.line_no, ln.quantity, ln.reason) for ln in lines] == [(1, 1, "wrong_size")]


def test_a_return_after_the_window_is_refused() -> None:
    order = _order([_line(1, "20.00", 2)])
    with pytest.raises(IllegalTransition, match="return window closed"):
        check_request(
            order,
            [WantedLine(1, 1, "wrong_size")],
            pending={},
            policy=ReturnPolicy(window_days=30),
            at=NOW + timedelta(days=30),
        )


@pytest.mark.parametrize(
    ("line", "policy", "wanted", "pointer"),
    [
        (_line(1, "5.00", 1, kind=ProductKind.DIGITAL), ReturnPolicy(), 1, "#/lines/0"),
        (_line(1, "5.00", 1), ReturnPolicy(final_sale_skus=frozenset({"SKU-1"})), 1, "#/lines/0"),
        (_line(1, "5.00", 2), ReturnPolicy(), 3, "#/lines/0/quantity"),
        (_line(1, "5.00", 2), ReturnPolicy(), 0, "#/lines/0/quantity"),
    ],
    ids=["digital", "final-sale", "more-than-shipped", "zero"],
)
def test_lines_that_may_not_come_back_are_refused_with_a_pointer(
    line: OrderLine, policy: ReturnPolicy, wanted: int, pointer: str
) -> None:
    order = _order([line])
    with pytest.raises(InvalidRequest) as refused:
        check_request(
            order, [WantedLine(1, wanted, "changed_mind")], pending={}, policy=policy, at=NOW
        )
    assert [e.pointer for e in refused.value.errors] == [pointer]


def test_units_an_open_return_waits_for_are_not_returnable_twice() -> None:
    order = _order([_line(1, "5.00", 3)])
    with pytest.raises(InvalidRequest):
        check_request(
            order, [WantedLine(1, 2, "changed_mind")], pending={1: 2}, policy=ReturnPolicy(), at=NOW
        )


def test_an_unknown_reason_code_is_refused_naming_the_tenants_codes() -> None:
    order = _order([_line(1, "5.00", 1)])
    with pytest.raises(InvalidRequest) as refused:
        check_request(
            order,
            [WantedLine(1, 1, "meh")],
            pending={},
            policy=ReturnPolicy(reasons=("too_big", "too_small")),
            at=NOW,
        )
    assert refused.value.errors[0].detail == "one of: too_big, too_small"


def test_nothing_shipped_nothing_returnable() -> None:
    order = _order([_line(1, "5.00", 1)])
    order.events = []
    with pytest.raises(IllegalTransition, match="Nothing of this order has shipped"):
        check_request(
            order, [WantedLine(1, 1, "changed_mind")], pending={}, policy=ReturnPolicy(), at=NOW
        )


def test_a_fee_applies_to_a_change_of_mind_but_not_to_a_defect() -> None:
    order = _order([_line(1, "40.00", 1), _line(2, "10.00", 1)], shipping="5.00")
    policy = ReturnPolicy(restocking_fee_percent=Decimal(10))
    lines = [ReturnLine(1, "SKU-1", 1, "changed_mind"), ReturnLine(2, "SKU-2", 1, "defective")]
    quote = quote_refund(
        order, lines, {1: 1, 2: 1}, refunded_before={}, policy=policy, kept=order.total
    )
    assert (quote.merchandise, quote.fee, quote.shipping) == (
        Decimal("50.00"),
        Decimal("4.00"),
        Decimal("5.00"),
    )
    assert quote.amount == Decimal("51.00")


def test_shipping_is_not_refunded_for_a_partial_return_nor_under_never() -> None:
    order = _order([_line(1, "40.00", 2)], shipping="5.00")
    line = [ReturnLine(1, "SKU-1", 2, "changed_mind")]
    partial = quote_refund(
        order, line, {1: 1}, refunded_before={}, policy=ReturnPolicy(), kept=order.total
    )
    never = quote_refund(
        order,
        line,
        {1: 2},
        refunded_before={},
        policy=ReturnPolicy(shipping_refund=ShippingRefund.NEVER),
        kept=order.total,
    )
    assert (partial.amount, never.amount) == (Decimal("40.00"), Decimal("80.00"))


def test_a_full_return_of_free_goods_still_gives_the_shipping_back() -> None:
    # Found by the property below: a line discounted to nothing, paid shipping. The return
    # that completes the order brings the shipping and its tax back though its goods are 0.
    order = _order(
        [_line(1, "0.01", 1)],
        shipping="0.01",
        shipping_tax="1.00",
        codes=[_code(DiscountKind.PERCENTAGE, "50")],
    )
    quote = quote_refund(
        order,
        [ReturnLine(1, "SKU-1", 1, "changed_mind")],
        {1: 1},
        refunded_before={},
        policy=ReturnPolicy(),
        kept=order.total,
    )
    assert (quote.merchandise, quote.shipping) == (Decimal("0.00"), Decimal("1.01"))
    assert quote.amount == order.total == Decimal("1.01")


def test_a_refund_never_exceeds_what_the_order_keeps() -> None:
    order = _order([_line(1, "40.00", 1)])
    quote = quote_refund(
        order,
        [ReturnLine(1, "SKU-1", 1, "defective")],
        {1: 1},
        refunded_before={},
        policy=ReturnPolicy(),
        kept=Decimal("12.34"),
    )
    assert quote.amount == Decimal("12.34")


def test_thirds_of_a_discounted_line_add_up_to_the_line_to_the_cent() -> None:
    order = _order([_line(1, "10.00", 3)], codes=[_code(DiscountKind.FIXED_AMOUNT, "1.00")])
    line = [ReturnLine(1, "SKU-1", 3, "defective")]
    paid = [
        quote_refund(
            order,
            line,
            {1: 1},
            refunded_before={1: k},
            policy=ReturnPolicy(shipping_refund=ShippingRefund.NEVER),
            kept=order.total,
        ).amount
        for k in range(3)
    ]
    assert paid == [Decimal("9.67"), Decimal("9.66"), Decimal("9.67")]
    assert sum(paid) == order.total == Decimal("29.00")


def test_receiving_every_unit_makes_the_return_received() -> None:
    request = _return([ReturnLine(1, "SKU-1", 2, "defective")])
    request.receive([(1, Disposition.RESTOCK, 1)], at=NOW)
    assert request.status is ReturnStatus.APPROVED
    request.receive([(1, Disposition.QUARANTINE, 1)], at=NOW)
    assert request.status is ReturnStatus.RECEIVED
    assert (request.lines[0].restocked, request.lines[0].quarantined) == (1, 1)
    with pytest.raises(IllegalTransition):
        request.receive([(1, Disposition.DISPOSE, 1)], at=NOW)


def test_more_units_than_expected_back_are_refused() -> None:
    request = _return([ReturnLine(1, "SKU-1", 1, "defective")])
    with pytest.raises(InvalidRequest):
        request.receive([(1, Disposition.RESTOCK, 2)], at=NOW)


def test_a_rejection_needs_a_note_and_a_requested_return() -> None:
    request = _return([ReturnLine(1, "SKU-1", 1, "defective")], ReturnStatus.REQUESTED)
    with pytest.raises(InvalidRequest):
        request.reject(actor="u", at=NOW, note=" ")
    request.reject(actor="u", at=NOW, note="worn")
    with pytest.raises(IllegalTransition):
        request.approve(actor="u", at=NOW)


def test_a_return_is_refunded_once_received_unless_the_policy_pays_first() -> None:
    request = _return([ReturnLine(1, "SKU-1", 2, "defective")])
    with pytest.raises(IllegalTransition, match="once its units are received"):
        request.refund_units(ReturnPolicy())
    assert request.refund_units(ReturnPolicy(refund_before_receipt=True)) == {1: 2}


@pytest.mark.parametrize(
    ("reasons", "value", "below", "expected"),
    [
        (["defective"], "500", None, True),
        (["changed_mind"], "500", None, False),
        (["changed_mind"], "19.99", "20", True),
        (["changed_mind", "defective"], "20", "20", False),
    ],
)
def test_auto_approval(reasons: list[str], value: str, below: str | None, expected: bool) -> None:
    policy = ReturnPolicy(auto_approve_below=None if below is None else Decimal(below))
    lines = [ReturnLine(i, f"S{i}", 1, r) for i, r in enumerate(reasons, 1)]
    assert auto_approves(policy, lines, value=Decimal(value)) is expected


def test_the_order_return_status_follows_the_units() -> None:
    lines = [_line(1, "5.00", 2)]
    assert derive_order_return_status(lines, open_returns=0) is OrderReturnStatus.NONE
    assert derive_order_return_status(lines, open_returns=1) is OrderReturnStatus.REQUESTED
    lines[0].returned = 1
    assert derive_order_return_status(lines, open_returns=0) is OrderReturnStatus.PARTIALLY_RETURNED
    lines[0].returned = 2
    assert derive_order_return_status(lines, open_returns=0) is OrderReturnStatus.RETURNED


def test_a_policy_round_trips_and_bad_values_are_pointed_at() -> None:
    policy = ReturnPolicy(
        window_days=14,
        restocking_fee_percent=Decimal("7.5"),
        auto_approve_below=Decimal("25"),
        final_sale_skus=frozenset({"A"}),
    )
    assert ReturnPolicy.from_dict(policy.to_dict()) == policy
    with pytest.raises(InvalidRequest) as refused:
        ReturnPolicy.from_dict(
            {"window_days": -1, "restocking_fee_percent": "120", "shipping_refund": "sometimes"}
        )
    assert {e.pointer for e in refused.value.errors} == {
        "#/window_days",
        "#/restocking_fee_percent",
        "#/shipping_refund",
    }


# ---- invariants over random orders -------------------------------------------------------

prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2)
line_specs = st.lists(
    st.tuples(prices, st.integers(1, 5), st.decimals(min_value=0, max_value=20, places=2)),
    min_size=1,
    max_size=4,
)
codes = st.one_of(
    st.none(),
    st.decimals(min_value=1, max_value=100, places=0).map(
        lambda v: _code(DiscountKind.PERCENTAGE, str(v))
    ),
    st.decimals(min_value=Decimal("0.01"), max_value=200, places=2).map(
        lambda v: _code(DiscountKind.FIXED_AMOUNT, str(v))
    ),
    st.just(_code(DiscountKind.FREE_SHIPPING, "0")),
)


def _random_order(
    specs: list[tuple[Decimal, int, Decimal]], shipping: Decimal, code: DiscountCode | None
) -> Order:
    lines = [_line(i, str(p), q, tax=str(t)) for i, (p, q, t) in enumerate(specs, 1)]
    return _order(
        lines,
        shipping=str(shipping),
        shipping_tax="1.00" if shipping else "0",
        codes=[code] if code else [],
    )


def _split(draw: st.DrawFn, order: Order) -> list[dict[int, int]]:
    """The order's units cut into random returns (every unit in exactly one)."""
    units = [ln.line_no for ln in order.lines for _ in range(ln.billable)]
    shuffled = draw(st.permutations(units))
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(units) - 1)), max_size=4)))
    parts: list[dict[int, int]] = []
    for start, end in zip([0, *cuts], [*cuts, len(units)], strict=True):
        part: dict[int, int] = {}
        for line_no in shuffled[start:end]:
            part[line_no] = part.get(line_no, 0) + 1
        if part:
            parts.append(part)
    return parts


@st.composite
def returned_orders(draw: st.DrawFn) -> tuple[Order, list[dict[int, int]], ReturnPolicy, bool]:
    order = _random_order(
        draw(line_specs),
        draw(st.decimals(min_value=0, max_value=30, places=2)),
        draw(codes),
    )
    policy = ReturnPolicy(
        restocking_fee_percent=draw(st.decimals(min_value=0, max_value=30, places=1)),
        shipping_refund=draw(st.sampled_from(list(ShippingRefund))),
    )
    return order, _split(draw, order), policy, draw(st.booleans())


def _refund_all(
    order: Order, parts: list[dict[int, int]], policy: ReturnPolicy, reason: str, captured: Decimal
) -> tuple[Decimal, Decimal]:
    refunded_before: dict[int, int] = {}
    refunded = fees = Decimal(0)
    for part in parts:
        lines = [ReturnLine(n, f"SKU-{n}", q, reason) for n, q in part.items()]
        quote = quote_refund(
            order,
            lines,
            part,
            refunded_before=refunded_before,
            policy=policy,
            kept=captured - refunded,
        )
        assert quote.amount >= 0
        refunded += quote.amount
        fees += quote.fee
        for n, q in part.items():
            refunded_before[n] = refunded_before.get(n, 0) + q
    return refunded, fees


@settings(max_examples=300, deadline=None)
@given(returned_orders())
def test_a_full_return_in_any_split_refunds_the_capture_less_the_fees(
    case: tuple[Order, list[dict[int, int]], ReturnPolicy, bool],
) -> None:
    order, parts, policy, merchant_fault = case
    reason = "defective" if merchant_fault else "changed_mind"
    captured = order.total
    refunded, fees = _refund_all(order, parts, policy, reason, captured)
    assert refunded <= captured
    shipping = order.total - sum(ln.total("EUR") for ln in order.lines)
    kept_shipping = shipping if policy.shipping_refund is ShippingRefund.NEVER else Decimal(0)
    if merchant_fault:
        assert fees == 0
    if fees <= captured - kept_shipping:
        assert refunded == captured - fees - kept_shipping


@settings(max_examples=300, deadline=None)
@given(returned_orders(), st.decimals(min_value=0, max_value=1, places=2))
def test_a_partial_return_never_refunds_more_than_was_captured(
    case: tuple[Order, list[dict[int, int]], ReturnPolicy, bool],
    share: Decimal,
) -> None:
    order, parts, policy, _ = case
    captured = (order.total * share).quantize(Decimal("0.01"))
    refunded, _ = _refund_all(order, parts[:-1] or parts, policy, "changed_mind", captured)
    assert 0 <= refunded <= captured
