"""Orders as far as the in-memory unit of work keeps them (holds, backorders, the
inventory's checks): the same answers from every implementation of those
``OrderRepository`` methods."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from oms.domain.catalogue import ProductKind
from oms.domain.holds import Hold, HoldReason
from oms.domain.ids import new_id
from oms.domain.orders import Actor, Allocation, Customer, Order, OrderLine
from oms.domain.status import OrderStatus
from oms.services.ports import UnitOfWorkFactory
from tests.contract.conftest import T0, product, stocked

WHO = Actor("system", "contract")


def _order(
    tenant_id: UUID,
    number: int,
    *,
    sku: str = "A",
    backordered: int = 0,
    external_id: str | None = None,
    promise: date | None = None,
    minutes: int = 0,
) -> Order:
    line = OrderLine(1, sku, f"Product {sku}", ProductKind.PHYSICAL, 2, Decimal("5.00"))
    line.backordered, line.allocated = backordered, 2 - backordered
    return Order(
        id=new_id(),
        tenant_id=tenant_id,
        number=number,
        channel="api",
        external_id=external_id,
        currency="EUR",
        customer=Customer(email="ann@example.com", name="Ann"),
        shipping_address=None,
        billing_address=None,
        lines=[line],
        created_at=T0 + timedelta(minutes=minutes),
        promised_deliver_by=promise,
    )


def _hold(reason: HoldReason, minutes: int = 0) -> Hold:
    at = T0 + timedelta(minutes=minutes)
    return Hold(id=new_id(), reason=reason, created_at=at, due_at=at + timedelta(hours=4))


def test_an_order_reads_back_with_its_lines_allocations_and_holds(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    (place,) = stocked(uow_factory, tenant_id, ["A"], ["WH1"])
    order = _order(tenant_id, 1001, external_id="ext-1")
    order.allocations.append(Allocation(new_id(), 1, "A", place, 2))
    order.place_hold(_hold(HoldReason.MANUAL), actor=WHO, at=T0)
    with uow_factory() as uow:
        assert uow.orders.add(order)
        assert order.new_events == []  # stored with the order
        assert not uow.orders.add(replace(_order(tenant_id, 1002, external_id="ext-1")))
        uow.commit()
    with uow_factory(readonly=True) as uow:
        found = uow.orders.get(tenant_id, order.id)
        assert found is not None
        assert (found.number, found.status, found.lines, found.allocations) == (
            1001,
            OrderStatus.ON_HOLD,
            order.lines,
            # Read with the order's time when it had none, and its location's code.
            [replace(a, created_at=T0, location_code="WH1") for a in order.allocations],
        )
        assert [(h.id, h.reason) for h in found.holds] == [(order.holds[0].id, HoldReason.MANUAL)]
        assert [e.type for e in found.events] == ["hold.placed"]
        bare = uow.orders.get(tenant_id, order.id, with_events=False)
        assert bare is not None
        assert bare.events == []
        assert uow.orders.exists(tenant_id, order.id)
        assert uow.orders.id_by_external_id(tenant_id, "api", "ext-1") == order.id
        assert uow.orders.ids_by_external_ids(tenant_id, [("api", "ext-1"), ("api", "x")]) == {
            ("api", "ext-1"): order.id
        }
        assert [o.id for o in uow.orders.get_many(tenant_id, [order.id, new_id()])] == [order.id]


def test_a_saved_order_keeps_its_new_holds_and_events(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    order = _order(tenant_id, 1001)
    with uow_factory() as uow:
        uow.orders.add(order)
        uow.commit()
    with uow_factory() as uow:
        found = uow.orders.get(tenant_id, order.id, for_update=True, with_events=False)
        assert found is not None
        hold = found.place_hold(_hold(HoldReason.FRAUD_REVIEW), actor=WHO, at=T0)
        found.release_hold(hold.id, actor=WHO, at=T0 + timedelta(minutes=1), note="fine")
        found.version += 1
        uow.orders.save(found)
        uow.commit()
    with uow_factory(readonly=True) as uow:
        stored = uow.orders.get(tenant_id, order.id)
        assert stored is not None
        assert [e.type for e in stored.events] == ["hold.placed", "hold.released"]
        assert [e.seq for e in stored.events] == [1, 2]
        (kept,) = stored.holds
        assert (kept.released_at, kept.release_note) == (T0 + timedelta(minutes=1), "fine")
        assert (stored.status, stored.version) == (OrderStatus.OPEN, 2)


def test_the_holds_queue_pages_open_holds_by_id(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    first, second = _order(tenant_id, 1001), _order(tenant_id, 1002)
    manual, fraud, closed = (
        _hold(HoldReason.MANUAL, 1),
        _hold(HoldReason.FRAUD_REVIEW, 2),
        _hold(HoldReason.ADDRESS_INVALID, 3),
    )
    first.place_hold(manual, actor=WHO, at=T0)
    second.place_hold(fraud, actor=WHO, at=T0)
    second.place_hold(closed, actor=WHO, at=T0)
    second.release_hold(closed.id, actor=WHO, at=T0, note="fixed")
    with uow_factory() as uow:
        uow.orders.add_all([(first, ()), (second, ())])
        uow.commit()
    with uow_factory(readonly=True) as uow:
        queue = uow.orders.open_holds_page(tenant_id, reason=None, after_id=None, limit=9)
        assert [(q.hold.id, q.order_number) for q in queue] == [(manual.id, 1001), (fraud.id, 1002)]
        assert queue[0].order_id == first.id
        only = uow.orders.open_holds_page(
            tenant_id, reason=HoldReason.FRAUD_REVIEW, after_id=None, limit=9
        )
        assert [q.hold.id for q in only] == [fraud.id]
        rest = uow.orders.open_holds_page(tenant_id, reason=None, after_id=manual.id, limit=9)
        assert [q.hold.id for q in rest] == [fraud.id]


def test_backorders_wait_for_their_sku_or_a_bundle_of_it_earliest_promise_first(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    stocked(uow_factory, tenant_id, ["A", "B"], [])
    with uow_factory() as uow:
        uow.products.add(product(tenant_id, "KIT", kind=ProductKind.BUNDLE, components={"A": 1}))
        uow.commit()
    late = _order(tenant_id, 1001, backordered=2, promise=date(2026, 3, 20))
    unpromised = _order(tenant_id, 1002, backordered=1)
    soon = _order(tenant_id, 1003, sku="KIT", backordered=1, promise=date(2026, 3, 5), minutes=5)
    served = _order(tenant_id, 1004)  # nothing backordered
    other = _order(tenant_id, 1005, sku="B", backordered=1)
    cancelled = replace(_order(tenant_id, 1006, backordered=1), status=OrderStatus.CANCELLED)
    with uow_factory() as uow:
        uow.orders.add_all([(o, ()) for o in [late, unpromised, soon, served, other, cancelled]])
        uow.commit()
    with uow_factory(readonly=True) as uow:
        waiting = uow.orders.waiting_for_stock(tenant_id, ["A"], limit=9)
        assert waiting == [soon.id, late.id, unpromised.id]
        assert uow.orders.waiting_for_stock(tenant_id, ["A"], limit=1) == [soon.id]
