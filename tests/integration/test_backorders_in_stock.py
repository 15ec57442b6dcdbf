"""A backorder is routed once its stock is on a shelf, even when no arrival tells it: a
cancellation or an expired hold puts units back without routing anyone, and ``oms
timers`` (``run_timers``) routes the waiting orders then, earliest promise first, and
captures the value of the digital lines an order it releases delivers; where nothing is
free it changes nothing (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.domain.catalogue import ProductKind
from oms.domain.orders import PaymentStatus
from oms.services import intake
from oms.services.orders import cancel_order, get_order
from oms.services.timers import run_timers
from tests.builders import (
    TESTER,
    add_location,
    add_product,
    backordered,
    order_of,
    place,
    placed_order,
    set_stock,
)

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def _violations(uow: SqlUnitOfWorkFactory, tenant_id: UUID) -> list[object]:
    """What ``oms check`` finds in this test's tenant (the database is shared)."""
    with uow(readonly=True) as unit:
        return list(unit.inventory.find_violations(tenant_id))


def test_units_a_cancellation_puts_back_reach_the_waiting_orders_at_the_next_timers(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "WH")
    add_product(uow_factory, tenant_id, "TEE")
    set_stock(uow_factory, tenant_id, "TEE", "WH", 4)
    first = placed_order(uow_factory, tenant_id, ("TEE", 4), at=NOW)
    older = placed_order(uow_factory, tenant_id, ("TEE", 2), at=NOW)  # later promise
    newer = placed_order(
        uow_factory, tenant_id, ("TEE", 3), at=NOW, level="express"
    )  # promised sooner
    assert backordered(uow_factory, tenant_id, older.id) == [2]

    cancel_order(
        uow_factory=uow_factory, tenant_id=tenant_id, order_id=first.id, actor=TESTER, at=NOW
    )
    assert backordered(uow_factory, tenant_id, newer.id) == [3]  # the cancellation routed no one

    report = run_timers(uow_factory=uow_factory, now=LATER, tenants=[tenant_id])

    assert report.backorders_routed == 2
    assert backordered(uow_factory, tenant_id, newer.id) == [0]  # the sooner promise first
    assert backordered(uow_factory, tenant_id, older.id) == [1]  # the unit left, the rest waits
    again = run_timers(uow_factory=uow_factory, now=LATER, tenants=[tenant_id])
    assert again.backorders_routed == 0  # nothing free: nothing routed, nothing written
    assert backordered(uow_factory, tenant_id, older.id) == [1]
    assert _violations(uow_factory, tenant_id) == []


def test_a_bundle_waiting_for_a_component_is_routed_when_the_component_is_free(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "WH")
    add_product(uow_factory, tenant_id, "MUG")
    add_product(uow_factory, tenant_id, "GIFT", kind=ProductKind.BUNDLE, components={"MUG": 2})
    set_stock(uow_factory, tenant_id, "MUG", "WH", 2)
    holder = placed_order(uow_factory, tenant_id, ("MUG", 2), at=NOW)
    gift = placed_order(uow_factory, tenant_id, ("GIFT", 1), at=NOW)
    assert backordered(uow_factory, tenant_id, gift.id) == [1]
    assert (
        run_timers(uow_factory=uow_factory, now=LATER, tenants=[tenant_id]).backorders_routed == 0
    )

    cancel_order(
        uow_factory=uow_factory, tenant_id=tenant_id, order_id=holder.id, actor=TESTER, at=NOW
    )
    report = run_timers(uow_factory=uow_factory, now=LATER, tenants=[tenant_id])

    assert report.backorders_routed == 1
    assert backordered(uow_factory, tenant_id, gift.id) == [0]
    assert _violations(uow_factory, tenant_id) == []


def test_a_digital_line_the_timers_release_has_its_value_captured_then(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "WH")
    add_product(uow_factory, tenant_id, "TEE", price="25.00")
    add_product(uow_factory, tenant_id, "CARD", price="30.00", kind=ProductKind.DIGITAL)
    set_stock(uow_factory, tenant_id, "TEE", "WH", 1)
    holder = placed_order(uow_factory, tenant_id, ("TEE", 1), at=NOW)
    authorized = intake.ChannelPayment(gateway="manual", captured=False)
    waiting = place(
        uow_factory, tenant_id, order_of(("TEE", 1), ("CARD", 1), payment=authorized), at=NOW
    ).order
    assert waiting.released_at is None
    assert waiting.payment_summary(NOW).captured == 0
    cancel_order(
        uow_factory=uow_factory, tenant_id=tenant_id, order_id=holder.id, actor=TESTER, at=NOW
    )

    report = run_timers(
        uow_factory=uow_factory, now=LATER, tenants=[tenant_id], gateways=gateway_named
    )

    assert report.backorders_routed == 1
    released = get_order(uow_factory=uow_factory, tenant_id=tenant_id, order_id=waiting.id)
    assert released.released_at == LATER
    assert released.line(2).delivered == 1  # the card, delivered on release
    # Its value is taken by the timers that released it, not with the parcel days later.
    assert released.payment_summary(LATER).captured == Decimal("30.00")
    assert released.payment_status is PaymentStatus.PARTIALLY_PAID
    assert _violations(uow_factory, tenant_id) == []
