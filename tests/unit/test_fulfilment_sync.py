"""Keeping a released order's fulfilment orders in step (``sync_fulfilment``) without a
database: every change of the order's release, allocations or blocking holds reaches its
fulfilment orders, and a save that changed none of them does not read them at all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import cast
from uuid import uuid4

import pytest

from oms.domain.catalogue import ProductKind
from oms.domain.fulfilment import FulfillmentOrder
from oms.domain.holds import Hold, HoldReason
from oms.domain.orders import SYSTEM, Allocation, Customer, Order, OrderLine
from oms.services.fulfilment import mark_fulfilment_in_step, sync_fulfilment
from oms.services.ports import UnitOfWork

T0 = datetime(2026, 11, 27, 9, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
HERE, THERE = uuid4(), uuid4()


@dataclass
class RecordingFulfilment:
    """The fulfilment repository's part a sync uses, counting its reads."""

    stored: list[FulfillmentOrder] = field(default_factory=list)
    reads: int = 0
    added: list[FulfillmentOrder] = field(default_factory=list)
    saved: list[FulfillmentOrder] = field(default_factory=list)

    def for_order(self, tenant_id: object, order_id: object) -> list[FulfillmentOrder]:
        self.reads += 1
        return self.stored

    def add(self, fo: FulfillmentOrder) -> None:
        self.added.append(fo)

    def save(self, fo: FulfillmentOrder) -> None:
        self.saved.append(fo)


@dataclass
class Uow:
    fulfilment: RecordingFulfilment = field(default_factory=RecordingFulfilment)


def _hold(reason: HoldReason) -> Hold:
    return Hold(id=uuid4(), reason=reason, created_at=T1, due_at=T1 + timedelta(days=1))


def _released_order(*, held: bool = False) -> tuple[Order, Uow]:
    """A released order of two units allocated HERE, its fulfilment order made and
    stored, read again as under its lock (``mark_fulfilment_in_step``)."""
    order = Order(
        id=uuid4(),
        tenant_id=uuid4(),
        number=1001,
        channel="api",
        external_id=None,
        currency="EUR",
        customer=Customer(email="erika@example.com"),
        shipping_address=None,
        billing_address=None,
        lines=[OrderLine(1, "X", "Product X", ProductKind.PHYSICAL, 2, Decimal(5), allocated=2)],
        created_at=T0,
        allocations=[Allocation(uuid4(), 1, "X", HERE, 2, location_code="HERE")],
        released_at=T0,
    )
    if held:
        order.holds.append(_hold(HoldReason.FRAUD_REVIEW))
    uow = Uow()
    uow.fulfilment.stored = sync_fulfilment(cast(UnitOfWork, uow), order, T0)
    order.new_events.clear()
    order.fulfilment_in_step = None
    mark_fulfilment_in_step(order)
    uow.fulfilment = RecordingFulfilment(stored=uow.fulfilment.stored)
    return order, uow


def _place_blocking_hold(order: Order) -> None:
    order.place_hold(_hold(HoldReason.FRAUD_REVIEW), actor=SYSTEM, at=T1)


def _release_a_unit(order: Order) -> None:
    order.allocations[0].released += 1
    order.lines[0].allocated -= 1
    order.lines[0].cancelled += 1


def _allocate_elsewhere(order: Order) -> None:
    order.lines[0].quantity += 1
    order.lines[0].allocated += 1
    order.allocations.append(Allocation(uuid4(), 1, "X", THERE, 1, location_code="THERE"))


def test_a_save_that_changed_neither_allocations_nor_holds_reads_no_fulfilment_orders() -> None:
    order, uow = _released_order()
    order.line(1).returned += 1  # what a return's receipt changes

    assert sync_fulfilment(cast(UnitOfWork, uow), order, T1) == []
    assert (uow.fulfilment.reads, uow.fulfilment.saved, uow.fulfilment.added) == (0, [], [])


def test_a_flag_stops_nothing_so_it_reads_no_fulfilment_orders() -> None:
    order, uow = _released_order()
    order.place_hold(_hold(HoldReason.REFUND_DUE), actor=SYSTEM, at=T1)

    sync_fulfilment(cast(UnitOfWork, uow), order, T1)

    assert uow.fulfilment.reads == 0
    assert not uow.fulfilment.stored[0].on_hold


@pytest.mark.parametrize(
    ("change", "check"),
    [
        (_place_blocking_hold, lambda repo: repo.stored[0].on_hold),
        (_release_a_unit, lambda repo: repo.stored[0].lines[0].cancelled == 1),
        (
            _allocate_elsewhere,
            lambda repo: [fo.location_id for fo in repo.added] == [THERE],
        ),
    ],
    ids=["a blocking hold placed", "units of an allocation released", "a new allocation"],
)
def test_every_change_of_allocations_or_holds_reaches_the_fulfilment_orders(
    change: Callable[[Order], None], check: Callable[[RecordingFulfilment], bool]
) -> None:
    order, uow = _released_order()
    change(order)

    sync_fulfilment(cast(UnitOfWork, uow), order, T1)

    assert uow.fulfilment.reads == 1
    assert check(uow.fulfilment)


def test_releasing_the_last_blocking_hold_resumes_the_fulfilment_orders() -> None:
    order, uow = _released_order(held=True)
    assert uow.fulfilment.stored[0].on_hold
    order.release_hold(order.holds[0].id, actor=SYSTEM, at=T1, note="checked")

    sync_fulfilment(cast(UnitOfWork, uow), order, T1)

    assert uow.fulfilment.reads == 1
    assert not uow.fulfilment.stored[0].on_hold


def test_an_order_released_by_this_save_gets_its_fulfilment_orders() -> None:
    order, uow = _released_order()
    order.released_at = None
    mark_fulfilment_in_step(order)
    uow.fulfilment.stored = []
    order.released_at = T1

    sync_fulfilment(cast(UnitOfWork, uow), order, T1)

    assert [fo.location_id for fo in uow.fulfilment.added] == [HERE]


def test_an_order_not_read_under_its_lock_is_always_synced() -> None:
    order, uow = _released_order()
    order.fulfilment_in_step = None

    sync_fulfilment(cast(UnitOfWork, uow), order, T1)

    assert uow.fulfilment.reads == 1
