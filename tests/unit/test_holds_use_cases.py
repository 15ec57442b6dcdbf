"""Holds and the exceptions queue on the in-memory unit of work: placing, releasing and
listing holds of orders that have not gone to the warehouses yet (releasing an order to
fulfilment needs the fulfilment repository, which the in-memory unit of work does not
keep yet: the API tests cover it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from oms.adapters.memory.uow import MemoryUnitOfWorkFactory
from oms.domain.catalogue import ProductKind
from oms.domain.errors import IllegalTransition, InvalidRequest, NotFound
from oms.domain.holds import HoldReason
from oms.domain.ids import new_id
from oms.domain.orders import Customer, Order, OrderLine
from oms.domain.policies import TenantPolicies
from oms.domain.status import OrderStatus
from oms.services.holds import list_open_holds, place_hold, release_hold
from oms.services.tenants import create_tenant
from tests.builders import TESTER

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def _world(**policies: object) -> tuple[MemoryUnitOfWorkFactory, UUID]:
    factory = MemoryUnitOfWorkFactory()
    tenant, _ = create_tenant(uow_factory=factory, name="Shop", at=NOW)
    if policies:
        with factory() as uow:
            uow.tenants.set_policies(tenant.id, TenantPolicies(**policies))  # type: ignore[arg-type]
            uow.commit()
    return factory, tenant.id


def _order(factory: MemoryUnitOfWorkFactory, tenant_id: UUID) -> Order:
    """An open, unpaid order of one backordered line, stored as intake would."""
    with factory() as uow:
        order = Order(
            id=new_id(),
            tenant_id=tenant_id,
            number=uow.tenants.next_order_number(tenant_id),
            channel="api",
            external_id=None,
            currency="EUR",
            customer=Customer(email="erika@example.com"),
            shipping_address=None,
            billing_address=None,
            lines=[
                OrderLine(1, "A", "Product A", ProductKind.PHYSICAL, 2, Decimal(5), backordered=2)
            ],
            created_at=NOW,
        )
        assert uow.orders.add(order)
        uow.commit()
    return order


def _place(
    factory: MemoryUnitOfWorkFactory,
    tenant_id: UUID,
    order_id: UUID,
    reason: HoldReason = HoldReason.FRAUD_REVIEW,
    at: datetime = NOW,
) -> UUID:
    _, placed = place_hold(
        uow_factory=factory,
        tenant_id=tenant_id,
        order_id=order_id,
        reason=reason,
        note="looks odd",
        actor=TESTER,
        at=at,
    )
    return placed.resource.id


def test_a_placed_hold_stops_the_order_and_writes_its_event() -> None:
    factory, tenant_id = _world()
    order = _order(factory, tenant_id)
    _place(factory, tenant_id, order.id)
    with factory(readonly=True) as uow:
        stored = uow.orders.get(tenant_id, order.id)
        assert stored is not None
        assert stored.status is OrderStatus.ON_HOLD
        assert [e.type for e in stored.events] == ["hold.placed"]
        assert [m.topic for m in uow.outbox.messages(tenant_id)] == ["hold.placed"]


def test_placing_a_hold_of_an_open_reason_again_finds_that_hold() -> None:
    factory, tenant_id = _world()
    order = _order(factory, tenant_id)
    first = _place(factory, tenant_id, order.id)
    _, again = place_hold(
        uow_factory=factory,
        tenant_id=tenant_id,
        order_id=order.id,
        reason=HoldReason.FRAUD_REVIEW,
        note=None,
        actor=TESTER,
        at=NOW,
    )
    assert (again.resource.id, again.created) == (first, False)


def test_a_reason_only_the_system_gives_is_refused() -> None:
    factory, tenant_id = _world()
    order = _order(factory, tenant_id)
    with pytest.raises(InvalidRequest):
        _place(factory, tenant_id, order.id, HoldReason.REFUND_DUE)


def test_a_hold_on_an_unknown_order_is_not_found() -> None:
    factory, tenant_id = _world()
    with pytest.raises(NotFound):
        _place(factory, tenant_id, new_id())


def test_releasing_the_hold_of_an_unpaid_order_leaves_it_waiting_for_payment() -> None:
    factory, tenant_id = _world()
    order = _order(factory, tenant_id)
    hold_id = _place(factory, tenant_id, order.id)
    released = release_hold(
        uow_factory=factory,
        tenant_id=tenant_id,
        order_id=order.id,
        hold_id=hold_id,
        note="customer called back",
        actor=TESTER,
        at=NOW + timedelta(minutes=5),
    )
    assert [h.reason for h in released.open_holds] == [HoldReason.PAYMENT_PENDING]
    assert released.released_at is None
    with pytest.raises(IllegalTransition):
        release_hold(
            uow_factory=factory,
            tenant_id=tenant_id,
            order_id=order.id,
            hold_id=hold_id,
            note="again",
            actor=TESTER,
        )
    with factory(readonly=True) as uow:
        assert uow.orders.get(tenant_id, order.id) == released


def test_the_queue_lists_open_holds_oldest_first_and_flags_the_overdue() -> None:
    factory, tenant_id = _world(hold_sla_hours={HoldReason.FRAUD_REVIEW: 1, HoldReason.MANUAL: 8})
    first, second = _order(factory, tenant_id), _order(factory, tenant_id)
    _place(factory, tenant_id, first.id, HoldReason.MANUAL)
    _place(factory, tenant_id, second.id, HoldReason.FRAUD_REVIEW, at=NOW + timedelta(minutes=1))
    later = NOW + timedelta(hours=2)
    queue = list_open_holds(
        uow_factory=factory, tenant_id=tenant_id, reason=None, after_id=None, limit=10, now=later
    )
    assert [(v.order_number, v.hold.reason, v.overdue) for v in queue] == [
        (1001, HoldReason.MANUAL, False),
        (1002, HoldReason.FRAUD_REVIEW, True),
    ]
    fraud = list_open_holds(
        uow_factory=factory,
        tenant_id=tenant_id,
        reason=HoldReason.FRAUD_REVIEW,
        after_id=None,
        limit=10,
        now=later,
    )
    assert [v.order_id for v in fraud] == [second.id]
    rest = list_open_holds(
        uow_factory=factory,
        tenant_id=tenant_id,
        reason=None,
        after_id=queue[0].hold.id,
        limit=10,
        now=later,
    )
    assert rest == queue[1:]
