"""Payments on orders: release when secured, refusals before the gateway, lapsed holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
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
from oms.services.common import utcnow
from oms.services.orders import get_order
from oms.services.payments import PaymentRequest, pay
from oms.services.timers import run_timers
from tests.builders import TESTER, add_location, add_product, order_of, place, set_stock

T0 = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


@pytest.fixture
def unpaid(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> Order:
    add_location(uow_factory, tenant_id, "A")
    add_product(uow_factory, tenant_id, "X", price="25.00")
    set_stock(uow_factory, tenant_id, "X", "A", 5)
    return place(uow_factory, tenant_id, order_of(("X", 2), payment=None)).order


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
    report = run_timers(uow_factory=uow_factory, now=T0 + timedelta(days=8))
    assert report.orders_put_on_payment_hold >= 1
    order = get_order(uow_factory=uow_factory, tenant_id=unpaid.tenant_id, order_id=unpaid.id)
    assert [h.reason for h in order.open_holds] == [HoldReason.PAYMENT_PENDING]
    assert order.payment_status is PaymentStatus.PENDING
    assert [e.type for e in order.events][-3:] == [
        "payment.authorization_lapsed",
        "hold.placed",
        "fulfillment_order.on_hold",
    ]
    run_timers(uow_factory=uow_factory, now=T0 + timedelta(days=9))
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
        uow_factory, tenant_id, order_of(("X", 1), ("CARD", 1), payment=authorized)
    ).order
    assert waiting.released_at is None
    assert [h.reason for h in waiting.open_holds] == [HoldReason.BACKORDERED]
    assert waiting.payment_summary(utcnow()).captured == 0

    inventory.adjust_inventory(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        command=inventory.Adjustment(sku="X", location_code="A", delta=3, reason="arrived"),
        actor=TESTER,
        gateways=gateway_named,
    )

    released = get_order(uow_factory=uow_factory, tenant_id=tenant_id, order_id=waiting.id)
    assert released.released_at is not None
    assert released.line(2).delivered == 1  # the card, delivered on release
    # Its value is taken now, not with the parcel's shipment days later.
    assert released.payment_summary(utcnow()).captured == Decimal("30.00")
    assert released.payment_status is PaymentStatus.PARTIALLY_PAID
