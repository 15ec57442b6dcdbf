"""How a return and its order are read and written back: a return with all its lines in
order by every read (by id, per order, a page), received units written back whatever
was read before, the locked order read as the plain one with its timeline numbered on,
and a request's Idempotency-Key naming its return from the claim on."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.domain.returns import Disposition, ReturnRequest, WantedLine
from oms.services import returns
from oms.services.return_records import ReturnFilter
from tests.builders import TESTER
from tests.integration.returns_support import SHIPPED_AT, open_shop, returns_engine, shipped_order

__all__ = ["returns_engine"]

LATER = SHIPPED_AT + timedelta(days=5)


@pytest.fixture
def uow_factory(returns_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(returns_engine)


@pytest.fixture
def shop(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> UUID:
    return open_shop(uow_factory, tenant_id)


def _request(
    uow_factory: SqlUnitOfWorkFactory,
    shop: UUID,
    order_id: UUID,
    *lines: tuple[int, int, str],
    key: str | None = None,
) -> tuple[ReturnRequest, bool]:
    return returns.request_return(
        uow_factory=uow_factory,
        tenant_id=shop,
        order_id=order_id,
        command=returns.NewReturn(tuple(WantedLine(n, q, r) for n, q, r in lines)),
        actor=TESTER,
        idempotency_key=key,
        at=LATER,
    )


def _receive(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID, return_id: UUID, line_no: int, how: Disposition
) -> ReturnRequest:
    return returns.receive_return(
        uow_factory=uow_factory,
        tenant_id=shop,
        return_id=return_id,
        location="NEAR",
        units=[returns.ReceivedUnits(line_no, 1, how)],
        actor=TESTER,
        at=LATER + timedelta(days=1),
    )


def _lines(request: ReturnRequest) -> list[tuple[int, str, int, str]]:
    return [(ln.line_no, ln.sku, ln.quantity, ln.reason) for ln in request.lines]


def test_a_return_reads_back_with_every_line_in_order_by_id_per_order_and_in_a_page(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("X", 2), ("Y", 1), ("Z", 3))
    first, _ = _request(uow_factory, shop, order.id, (3, 2, "defective"), (1, 1, "wrong_size"))
    second, _ = _request(uow_factory, shop, order.id, (2, 1, "changed_mind"))
    expected = [(1, "X", 1, "wrong_size"), (3, "Z", 2, "defective")]
    with uow_factory(readonly=True) as uow:
        by_id = uow.returns.get(shop, first.id)
        per_order = uow.returns.for_order(shop, order.id)
        page = uow.returns.page(shop, filters=ReturnFilter(), before_id=None, limit=1)
        by_reason = uow.returns.page(
            shop, filters=ReturnFilter(reason="defective"), before_id=None, limit=10
        )
        assert uow.returns.order_id_of(shop, first.id) == order.id
        assert uow.returns.order_id_of(shop, order.id) is None
    assert by_id is not None
    assert _lines(by_id) == expected
    assert [r.id for r in per_order] == [first.id, second.id]
    assert _lines(per_order[0]) == expected
    assert _lines(per_order[1]) == [(2, "Y", 1, "changed_mind")]
    assert [r.id for r in page] == [second.id]  # newest first, one per page
    assert [(r.id, _lines(r)) for r in by_reason] == [(first.id, expected)]


def test_units_received_in_steps_are_all_written_back_and_the_refund_keeps_them(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("X", 2), ("Y", 2))
    request, _ = _request(uow_factory, shop, order.id, (1, 2, "defective"), (2, 1, "damaged"))
    _receive(uow_factory, shop, request.id, 1, Disposition.RESTOCK)
    _receive(uow_factory, shop, request.id, 2, Disposition.QUARANTINE)
    _receive(uow_factory, shop, request.id, 1, Disposition.DISPOSE)
    refunded = returns.refund_return(
        uow_factory=uow_factory,
        gateways=gateway_named,
        tenant_id=shop,
        return_id=request.id,
        actor=TESTER,
        at=LATER + timedelta(days=2),
    )
    with uow_factory(readonly=True) as uow:
        stored = uow.returns.get(shop, request.id)
    assert stored is not None
    assert stored.refund_amount == refunded.refund_amount
    assert [(ln.restocked, ln.quarantined, ln.disposed) for ln in stored.lines] == [
        (1, 0, 1),
        (0, 1, 0),
    ]


def test_the_locked_order_reads_as_the_plain_one_and_numbers_its_timeline_on(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("X", 1), ("Z", 2))
    with uow_factory() as uow:
        plain = uow.orders.get(shop, order.id)
        locked = uow.orders.get(shop, order.id, for_update=True, with_events=False)
        # get_many reads the children through SQLAlchemy's own rows: the same values.
        (many,) = uow.orders.get_many(shop, [order.id])
        assert uow.orders.get(shop, shop, for_update=True, with_events=False) is None
    assert plain is not None
    assert locked is not None
    assert plain.events
    assert locked.events == []
    assert locked.last_seq == plain.events[-1].seq
    for read in (plain, many):
        assert locked.lines == read.lines
        assert locked.allocations == read.allocations
        assert locked.payments == read.payments
        assert locked.holds == read.holds
        assert locked.created_at == read.created_at
        assert locked.totals == read.totals
    assert [line.shipped for line in locked.lines] == [1, 2]


def test_a_repeated_request_answers_the_return_its_key_was_claimed_for(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("X", 2))
    made, created = _request(uow_factory, shop, order.id, (1, 1, "defective"), key="rma-1")
    again, created_again = _request(uow_factory, shop, order.id, (1, 1, "defective"), key="rma-1")
    with uow_factory(readonly=True) as uow:
        record = uow.idempotency.get(shop, "rma-1")
    assert (created, created_again) == (True, False)
    assert again.id == made.id
    assert record is not None
    assert record.resource_id == made.id
