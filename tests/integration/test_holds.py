"""Holds and the exceptions queue through the use cases, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.errors import IllegalTransition, InvalidRequest, NotFound
from oms.domain.holds import HoldReason
from oms.domain.status import OrderStatus
from oms.services.holds import list_open_holds, place_hold, release_hold
from oms.services.orders import cancel_order, get_order
from oms.services.policies import update_policies
from tests.builders import TESTER, add_location, add_product, order_of, place, set_stock

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def order_id(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> UUID:
    add_location(uow_factory, tenant_id, "A")
    add_product(uow_factory, tenant_id, "X")
    set_stock(uow_factory, tenant_id, "X", "A", 5)
    return place(uow_factory, tenant_id, order_of(("X", 1))).order.id


def _hold(
    uow: SqlUnitOfWorkFactory,
    tenant_id: UUID,
    order_id: UUID,
    reason: HoldReason,
    at: datetime = T0,
) -> UUID:
    _, hold = place_hold(
        uow_factory=uow,
        tenant_id=tenant_id,
        order_id=order_id,
        reason=reason,
        note="check it",
        actor=TESTER,
        at=at,
    )
    return hold.resource.id


def test_a_hold_puts_the_order_on_hold_with_a_due_time_from_the_tenant_sla(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, order_id: UUID
) -> None:
    update_policies(
        uow_factory=uow_factory, tenant_id=tenant_id, raw={"hold_sla_hours": {"fraud_review": 3}}
    )
    _hold(uow_factory, tenant_id, order_id, HoldReason.FRAUD_REVIEW)

    order = get_order(uow_factory=uow_factory, tenant_id=tenant_id, order_id=order_id)
    assert order.status is OrderStatus.ON_HOLD
    (hold,) = order.holds
    assert hold.due_at == T0 + timedelta(hours=3)
    event = next(e for e in reversed(order.events) if e.type == "hold.placed")
    assert event.data["before"]["status"] == "open"
    assert event.data["after"]["status"] == "on_hold"


def test_placing_the_same_reason_twice_keeps_one_open_hold(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, order_id: UUID
) -> None:
    first = _hold(uow_factory, tenant_id, order_id, HoldReason.MANUAL)
    second = _hold(uow_factory, tenant_id, order_id, HoldReason.MANUAL)
    order = get_order(uow_factory=uow_factory, tenant_id=tenant_id, order_id=order_id)
    assert first == second
    assert [e.type for e in order.events].count("hold.placed") == 1


def test_releasing_needs_a_note_and_reopens_the_order_when_it_was_the_last_hold(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, order_id: UUID
) -> None:
    manual = _hold(uow_factory, tenant_id, order_id, HoldReason.MANUAL)
    fraud = _hold(uow_factory, tenant_id, order_id, HoldReason.FRAUD_REVIEW)

    def release(hold_id: UUID, note: str | None) -> OrderStatus:
        return release_hold(
            uow_factory=uow_factory,
            tenant_id=tenant_id,
            order_id=order_id,
            hold_id=hold_id,
            note=note,
            actor=TESTER,
        ).status

    with pytest.raises(InvalidRequest):
        release(manual, "  ")
    assert release(manual, "customer confirmed") is OrderStatus.ON_HOLD
    with pytest.raises(IllegalTransition):
        release(manual, "again")
    assert release(fraud, "looks fine") is OrderStatus.OPEN
    with pytest.raises(NotFound):
        release(UUID(int=7), "no such hold")


def test_the_queue_lists_open_holds_oldest_first_with_an_overdue_flag(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, order_id: UUID
) -> None:
    other = place(uow_factory, tenant_id, order_of(("X", 1))).order.id
    _hold(uow_factory, tenant_id, order_id, HoldReason.ADDRESS_INVALID, at=T0)
    _hold(uow_factory, tenant_id, other, HoldReason.MANUAL, at=T0 + timedelta(minutes=5))

    now = T0 + timedelta(hours=5)  # address_invalid is due after 4 hours, manual after 24
    queue = list_open_holds(
        uow_factory=uow_factory, tenant_id=tenant_id, reason=None, after_id=None, limit=10, now=now
    )
    assert [(v.order_id, v.hold.reason, v.overdue) for v in queue] == [
        (order_id, HoldReason.ADDRESS_INVALID, True),
        (other, HoldReason.MANUAL, False),
    ]
    only_manual = list_open_holds(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        reason=HoldReason.MANUAL,
        after_id=None,
        limit=10,
        now=now,
    )
    assert [v.order_id for v in only_manual] == [other]


def test_cancelling_clears_what_stopped_the_order_from_the_queue_and_refuses_new_holds(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, order_id: UUID
) -> None:
    _hold(uow_factory, tenant_id, order_id, HoldReason.MANUAL)
    cancel_order(uow_factory=uow_factory, tenant_id=tenant_id, order_id=order_id, actor=TESTER)

    queue = list_open_holds(
        uow_factory=uow_factory, tenant_id=tenant_id, reason=None, after_id=None, limit=10
    )
    # The order was paid: what is left in the queue is the money it is owed back.
    assert [(v.order_id, v.hold.reason) for v in queue] == [(order_id, HoldReason.REFUND_DUE)]
    with pytest.raises(IllegalTransition):
        _hold(uow_factory, tenant_id, order_id, HoldReason.MANUAL)
