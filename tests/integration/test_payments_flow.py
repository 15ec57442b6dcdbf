"""Payments on orders: release when secured, refusals before the gateway, lapsed holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.domain.catalogue import ProductKind
from oms.domain.errors import IllegalTransition
from oms.domain.holds import HoldReason
from oms.domain.orders import Order
from oms.domain.payments import PaymentKind
from oms.domain.status import OrderStatus, PaymentStatus
from oms.services import intake, inventory
from oms.services.editing import LineChange, OrderEdit, edit_order
from oms.services.holds import HoldView, list_open_holds, release_hold
from oms.services.orders import cancel_order, get_order
from oms.services.payments import PaymentRequest, pay
from oms.services.policies import update_policies
from oms.services.timers import run_timers
from tests.builders import TESTER, add_location, add_product, order_of, place, set_stock

PLACED = datetime(2031, 2, 3, 9, 0, tzinfo=UTC)
"""When the ``unpaid`` order is placed; a fixed moment, so no result depends on the day."""
T0 = PLACED + timedelta(days=1)


@pytest.fixture
def unpaid(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> Order:
    add_location(uow_factory, tenant_id, "A")
    add_product(uow_factory, tenant_id, "X", price="25.00")
    set_stock(uow_factory, tenant_id, "X", "A", 5)
    return place(uow_factory, tenant_id, order_of(("X", 2), payment=None), at=PLACED).order


def _pay(
    uow: SqlUnitOfWorkFactory, order: Order, kind: PaymentKind, at: datetime = T0, **fields: object
) -> Order:
    return pay(
        uow_factory=uow,
        gateways=gateway_named,
        tenant_id=order.tenant_id,
        order_id=order.id,
        request=PaymentRequest(kind=kind, **fields),  # type: ignore[arg-type]
        actor=TESTER,
        at=at,
    )


def test_an_unpaid_order_waits_on_payment_pending_and_is_released_once_authorized(
    uow_factory: SqlUnitOfWorkFactory, unpaid: Order
) -> None:
    assert [h.reason for h in unpaid.open_holds] == [HoldReason.PAYMENT_PENDING]
    assert unpaid.released_at is None

    paid = _pay(uow_factory, unpaid, PaymentKind.AUTHORIZATION, gateway="test", token="tok_approve")

    assert paid.payment_status is PaymentStatus.AUTHORIZED
    assert paid.status is OrderStatus.OPEN
    assert paid.released_at == T0
    assert [e.type for e in paid.events][-4:] == [
        "payment.authorized",
        "hold.released",
        "order.released",
        "fulfillment_order.created",
    ]


def test_a_declined_card_is_recorded_and_the_order_stays_held(
    uow_factory: SqlUnitOfWorkFactory, unpaid: Order
) -> None:
    declined = _pay(
        uow_factory, unpaid, PaymentKind.AUTHORIZATION, gateway="test", token="tok_decline"
    )
    assert declined.events[-1].type == "payment.declined"
    assert declined.payment_status is PaymentStatus.PENDING
    assert [h.reason for h in declined.open_holds] == [HoldReason.PAYMENT_PENDING]


def test_captures_and_refunds_follow_the_authorization_and_refuse_beyond_it(
    uow_factory: SqlUnitOfWorkFactory, unpaid: Order
) -> None:
    _pay(uow_factory, unpaid, PaymentKind.AUTHORIZATION, gateway="test", token="tok_approve")
    with pytest.raises(IllegalTransition):
        _pay(uow_factory, unpaid, PaymentKind.CAPTURE, amount=Decimal("50.01"))
    partly = _pay(uow_factory, unpaid, PaymentKind.CAPTURE, amount=Decimal("20.00"))
    assert partly.payment_status is PaymentStatus.PARTIALLY_PAID
    full = _pay(uow_factory, unpaid, PaymentKind.CAPTURE)
    assert full.payment_status is PaymentStatus.PAID
    with pytest.raises(IllegalTransition):
        _pay(uow_factory, unpaid, PaymentKind.REFUND, amount=Decimal("60.00"))
    refunded = _pay(uow_factory, unpaid, PaymentKind.REFUND, amount=Decimal("10.00"))
    assert refunded.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    with pytest.raises(IllegalTransition):  # 50.00 captured, 10.00 already refunded
        _pay(uow_factory, unpaid, PaymentKind.REFUND, amount=Decimal("40.01"))
    with pytest.raises(IllegalTransition):
        _pay(uow_factory, unpaid, PaymentKind.VOID)


def test_repeating_a_payment_with_its_key_calls_the_gateway_once(
    uow_factory: SqlUnitOfWorkFactory, unpaid: Order
) -> None:
    for _ in range(3):
        order = _pay(
            uow_factory,
            unpaid,
            PaymentKind.AUTHORIZATION,
            gateway="test",
            token="tok_approve",
            idempotency_key="auth-1",
        )
    assert [p.kind for p in order.payments] == [PaymentKind.AUTHORIZATION]


def test_a_lapsed_authorization_puts_the_order_back_on_hold(
    uow_factory: SqlUnitOfWorkFactory, unpaid: Order
) -> None:
    _pay(uow_factory, unpaid, PaymentKind.AUTHORIZATION, gateway="test", token="tok_approve")
    report = run_timers(
        uow_factory=uow_factory, now=T0 + timedelta(days=8), tenants=[unpaid.tenant_id]
    )
    assert report.orders_put_on_payment_hold >= 1
    order = get_order(uow_factory=uow_factory, tenant_id=unpaid.tenant_id, order_id=unpaid.id)
    assert [h.reason for h in order.open_holds] == [HoldReason.PAYMENT_PENDING]
    assert order.payment_status is PaymentStatus.PENDING
    assert [e.type for e in order.events][-3:] == [
        "payment.authorization_lapsed",
        "hold.placed",
        "fulfillment_order.on_hold",
    ]
    run_timers(uow_factory=uow_factory, now=T0 + timedelta(days=9), tenants=[unpaid.tenant_id])
    order_again = get_order(uow_factory=uow_factory, tenant_id=unpaid.tenant_id, order_id=unpaid.id)
    assert len(order_again.events) == len(order.events)


def test_a_digital_line_released_when_backordered_stock_arrives_has_its_value_captured_then(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "A")
    add_product(uow_factory, tenant_id, "X", price="25.00")
    add_product(uow_factory, tenant_id, "CARD", price="30.00", kind=ProductKind.DIGITAL)
    authorized = intake.ChannelPayment(gateway="manual", captured=False)
    waiting = place(
        uow_factory, tenant_id, order_of(("X", 1), ("CARD", 1), payment=authorized), at=T1
    ).order
    assert waiting.released_at is None
    assert [h.reason for h in waiting.open_holds] == [HoldReason.BACKORDERED]
    assert waiting.payment_summary(T1).captured == 0

    inventory.adjust_inventory(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        command=inventory.Adjustment(sku="X", location_code="A", delta=3, reason="arrived"),
        actor=TESTER,
        gateways=gateway_named,
        at=T1,
    )

    released = get_order(uow_factory=uow_factory, tenant_id=tenant_id, order_id=waiting.id)
    assert released.released_at == T1
    assert released.line(2).delivered == 1  # the card, delivered on release
    # Its value is taken now, not with the parcel's shipment days later.
    assert released.payment_summary(T1).captured == Decimal("30.00")
    assert released.payment_status is PaymentStatus.PARTIALLY_PAID


# --- money the order no longer owes ---------------------------------------------------------

T1 = datetime(2031, 3, 3, 9, 30, tzinfo=UTC)
"""A fixed clock for what follows: every step says when it happens."""


def _placed(
    uow: SqlUnitOfWorkFactory, tenant_id: UUID, *lines: tuple[str, int], **fields: Any
) -> Order:
    command = replace(order_of(*lines, **fields), shipping_price=Decimal("4.94"))
    return intake.place_order(
        uow_factory=uow,
        gateways=gateway_named,
        tenant_id=tenant_id,
        command=command,
        actor=TESTER,
        at=T1,
    ).order


@pytest.fixture
def shop(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> UUID:
    add_location(uow_factory, tenant_id, "A")
    add_product(uow_factory, tenant_id, "X", price="20.00")
    add_product(uow_factory, tenant_id, "Y", price="24.00")
    set_stock(uow_factory, tenant_id, "X", "A", 50)
    set_stock(uow_factory, tenant_id, "Y", "A", 50)
    return tenant_id


def _overpayment(uow: SqlUnitOfWorkFactory, tenant_id: UUID, policy: str) -> None:
    update_policies(uow_factory=uow, tenant_id=tenant_id, raw={"overpayment": policy})


def _refund_due_items(uow: SqlUnitOfWorkFactory, tenant_id: UUID) -> list[HoldView]:
    return list_open_holds(
        uow_factory=uow,
        tenant_id=tenant_id,
        reason=HoldReason.REFUND_DUE,
        after_id=None,
        limit=50,
        now=T1,
    )


def _cancel(uow: SqlUnitOfWorkFactory, order: Order, at: datetime = T1) -> Order:
    return cancel_order(
        uow_factory=uow,
        gateways=gateway_named,
        tenant_id=order.tenant_id,
        order_id=order.id,
        actor=TESTER,
        reason="customer changed their mind",
        at=at,
    )


def _refunds(order: Order) -> list[tuple[str, Decimal]]:
    return [(p.gateway, p.amount) for p in order.payments if p.kind is PaymentKind.REFUND]


def test_cancelling_a_paid_order_puts_a_refund_due_item_in_the_queue_until_it_is_refunded(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    paid = _placed(uow_factory, shop, ("X", 2))
    assert (paid.total, paid.payment_status) == (Decimal("44.94"), PaymentStatus.PAID)

    cancelled = _cancel(uow_factory, paid)

    # A cancelled order owes nothing, shipping included; what it paid is owed back.
    assert (cancelled.status, cancelled.total) == (OrderStatus.CANCELLED, Decimal("0.00"))
    assert cancelled.refund_due() == Decimal("44.94")
    (item,) = _refund_due_items(uow_factory, shop)
    assert (item.order_id, item.hold.note) == (paid.id, "44.94 EUR captured beyond the total")
    assert cancelled.status is OrderStatus.CANCELLED  # the item holds nothing back
    with pytest.raises(IllegalTransition):  # only a refund settles it
        release_hold(
            uow_factory=uow_factory,
            tenant_id=shop,
            order_id=paid.id,
            hold_id=item.hold.id,
            note="keep it",
            actor=TESTER,
            at=T1,
        )

    refunded = _pay(uow_factory, paid, PaymentKind.REFUND, at=T1 + timedelta(hours=1))

    assert _refunds(refunded) == [("manual", Decimal("44.94"))]
    assert refunded.payment_status is PaymentStatus.REFUNDED
    assert _refund_due_items(uow_factory, shop) == []
    (settled,) = [h for h in refunded.holds if h.reason is HoldReason.REFUND_DUE]
    assert (settled.released_by, settled.release_note) == ("system:oms", "nothing is owed back")


def test_cancelling_a_paid_order_refunds_it_through_its_gateway_when_the_tenant_says_so(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    _overpayment(uow_factory, shop, "refund")
    paid = _placed(uow_factory, shop, ("X", 2))

    cancelled = _cancel(uow_factory, paid)

    assert _refunds(cancelled) == [("manual", Decimal("44.94"))]
    assert cancelled.payment_status is PaymentStatus.REFUNDED
    assert _refund_due_items(uow_factory, shop) == []
    assert "payment.refunded" in [e.type for e in cancelled.events]


@pytest.mark.parametrize("policy", ["refund", "review"])
def test_an_edit_that_lowers_a_paid_total_gives_the_difference_back_or_flags_it(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID, policy: str
) -> None:
    _overpayment(uow_factory, shop, policy)
    # Held for its address, so it can still be edited.
    paid = _placed(uow_factory, shop, ("X", 1), ("Y", 1), ship_to=None)
    assert (paid.total, paid.released_at) == (Decimal("48.94"), None)

    edited = edit_order(
        uow_factory=uow_factory,
        gateways=gateway_named,
        tenant_id=shop,
        order_id=paid.id,
        edit=OrderEdit(lines=(LineChange(quantity=0, line_no=2),)),
        expected_version=paid.version,
        actor=TESTER,
        at=T1,
    )

    assert edited.total == Decimal("24.94")
    items = _refund_due_items(uow_factory, shop)
    if policy == "refund":
        assert _refunds(edited) == [("manual", Decimal("24.00"))]
        assert edited.payment_status is PaymentStatus.PARTIALLY_REFUNDED
        assert items == []
    else:
        assert _refunds(edited) == []
        assert [i.hold.note for i in items] == ["24.00 EUR captured beyond the total"]
    # Nothing is owed, so there is nothing to authorize (never a negative amount).
    with pytest.raises(IllegalTransition, match="owes nothing"):
        _pay(uow_factory, paid, PaymentKind.AUTHORIZATION, at=T1, gateway="test")


def test_a_capture_takes_only_what_the_order_still_owes(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = _placed(uow_factory, shop, ("X", 1), ("Y", 1), ship_to=None, payment=None)
    authorized = _pay(uow_factory, order, PaymentKind.AUTHORIZATION, at=T1, gateway="test")
    lowered = edit_order(
        uow_factory=uow_factory,
        gateways=gateway_named,
        tenant_id=shop,
        order_id=order.id,
        edit=OrderEdit(lines=(LineChange(quantity=0, line_no=2),)),
        expected_version=authorized.version,
        actor=TESTER,
        at=T1,
    )
    assert lowered.total == Decimal("24.94")

    with pytest.raises(IllegalTransition, match=r"owes only 24\.94"):
        _pay(uow_factory, order, PaymentKind.CAPTURE, at=T1, amount=Decimal("48.94"))
    captured = _pay(uow_factory, order, PaymentKind.CAPTURE, at=T1)

    assert captured.payment_summary(T1).captured == Decimal("24.94")
    assert captured.payment_status is PaymentStatus.PAID
    assert _refund_due_items(uow_factory, shop) == []
