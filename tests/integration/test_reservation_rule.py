"""The reservation rule, one suite for every place it is written, on both databases.

A reservation of ``q`` units takes a stock row only when ``on_hand - reserved -
safety_stock >= q``. The rule exists as twins: the planner's view of a row
(``StockLevel.available``), the portable conditional UPDATE (one row per statement), the
PostgreSQL batch statement (several rows in one; SQLite runs the portable one per row), and
the intake group's snapshot (decided in Python on the group's read, then written with the
group's total per row). Each is run against the same cases, each case starting from a row
that already has a reservation of its own, as a stale plan would find it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple
from uuid import UUID

import pytest

from oms.adapters.db.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from oms.services.intake import LineRequest, PlaceOrder
from oms.services.intake_snapshot import GroupSnapshot
from oms.services.inventory import Adjustment, adjust_inventory
from tests.builders import TESTER, add_location, add_product

AT = datetime(2031, 3, 3, 9, 30, tzinfo=UTC)
"""A fixed clock for what these tests write (no test reads the wall clock)."""


class Case(NamedTuple):
    on_hand: int
    safety_stock: int
    reserved: int  # before this reservation
    quantity: int
    taken: bool


CASES = {
    "all of it": Case(10, 0, 0, 10, True),
    "one more than there is": Case(10, 0, 0, 11, False),
    "up to the safety stock": Case(10, 3, 0, 7, True),
    "one unit of the safety stock": Case(10, 3, 0, 8, False),
    "what others left above the safety stock": Case(10, 3, 2, 5, True),
    "one more than others left": Case(10, 3, 2, 6, False),
    "a row that is all safety stock": Case(5, 5, 0, 1, False),
    "a row others reserved whole": Case(3, 0, 3, 1, False),
    "one unit when one is left": Case(9, 4, 4, 1, True),
}

Row = tuple[str, UUID, int]
# Reserves each (sku, location, quantity) in one transaction; which were taken, in order.
Reserve = Callable[[SqlUnitOfWork, UUID, Sequence[Row]], list[bool]]


def _planned(uow: SqlUnitOfWork, tenant_id: UUID, rows: Sequence[Row]) -> list[bool]:
    """What a plan counts as available (it never plans more than that)."""
    levels = {
        (lv.sku, lv.location_id): lv
        for lv in uow.inventory.levels(tenant_id, [sku for sku, _, _ in rows])
    }
    taken = [levels[(sku, at)].available >= quantity for sku, at, quantity in rows]
    for (sku, at, quantity), ok in zip(rows, taken, strict=True):
        if ok:  # as the plan would then take it
            assert uow.inventory.try_reserve(tenant_id, sku, at, quantity, AT)
    return taken


def _one_row_per_statement(uow: SqlUnitOfWork, tenant_id: UUID, rows: Sequence[Row]) -> list[bool]:
    return [uow.inventory.try_reserve(tenant_id, *row, AT) for row in rows]


def _rows_in_one_statement(uow: SqlUnitOfWork, tenant_id: UUID, rows: Sequence[Row]) -> list[bool]:
    taken = uow.inventory.try_reserve_each(tenant_id, rows, AT)
    return [(sku, at) in taken for sku, at, _ in rows]


def _intake_group(uow: SqlUnitOfWork, tenant_id: UUID, rows: Sequence[Row]) -> list[bool]:
    lines = tuple(LineRequest(sku=sku, quantity=1) for sku, _, _ in rows)
    snapshot = GroupSnapshot(uow, [(tenant_id, PlaceOrder(currency="EUR", lines=lines))])
    snapshot.begin(tenant_id)
    at = AT
    taken = snapshot.inventory.try_reserve_each(tenant_id, rows, at)
    snapshot.keep()
    assert snapshot.write(at=at), "the database agreed with the group's read"
    return [(sku, location) in taken for sku, location, _ in rows]


IMPLEMENTATIONS: dict[str, Reserve] = {
    "planned on a read": _planned,
    "one row per statement": _one_row_per_statement,
    "rows in one statement": _rows_in_one_statement,
    "intake group": _intake_group,
}


@pytest.mark.parametrize("reserve", IMPLEMENTATIONS.values(), ids=IMPLEMENTATIONS.keys())
def test_a_reservation_takes_a_row_only_when_enough_is_left_above_its_safety_stock(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, reserve: Reserve
) -> None:
    location = add_location(uow_factory, tenant_id, "A")
    skus = [f"RULE-{n}" for n in range(len(CASES))]
    for sku, case in zip(skus, CASES.values(), strict=True):
        add_product(uow_factory, tenant_id, sku)
        adjust_inventory(
            uow_factory=uow_factory,
            tenant_id=tenant_id,
            command=Adjustment(
                sku=sku,
                location_code="A",
                set_on_hand=case.on_hand,
                safety_stock=case.safety_stock,
                reason="count",
            ),
            actor=TESTER,
        )
    at = AT
    with uow_factory() as uow:
        for sku, case in zip(skus, CASES.values(), strict=True):
            if case.reserved:
                assert uow.inventory.try_reserve(tenant_id, sku, location.id, case.reserved, at)

        taken = reserve(
            uow,
            tenant_id,
            [
                (sku, location.id, case.quantity)
                for sku, case in zip(skus, CASES.values(), strict=True)
            ],
        )

        reserved = {lv.sku: lv.reserved for lv in uow.inventory.levels(tenant_id, skus)}
        # Not committed: reservations without allocations would fail `oms check`, which
        # other tests run on the shared database.
    assert dict(zip(CASES, taken, strict=True)) == {name: c.taken for name, c in CASES.items()}
    assert [reserved[sku] for sku in skus] == [
        c.reserved + c.quantity * c.taken for c in CASES.values()
    ]


@pytest.mark.parametrize(
    "reserve",
    [IMPLEMENTATIONS["rows in one statement"], IMPLEMENTATIONS["intake group"]],
    ids=["rows in one statement", "intake group"],
)
def test_one_call_may_not_name_a_row_twice(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, reserve: Reserve
) -> None:
    """A batch statement updates a row it names twice only once (PostgreSQL's UPDATE ...
    FROM): a caller sums its needs per row first (``stock_rows``), and a list that names a
    row twice is refused, not half taken."""
    location = add_location(uow_factory, tenant_id, "A")
    add_product(uow_factory, tenant_id, "TWICE")
    add_product(uow_factory, tenant_id, "ONCE")
    for sku in ("TWICE", "ONCE"):
        adjust_inventory(
            uow_factory=uow_factory,
            tenant_id=tenant_id,
            command=Adjustment(sku=sku, location_code="A", set_on_hand=9, reason="count"),
            actor=TESTER,
        )
    rows = [("TWICE", location.id, 2), ("ONCE", location.id, 1), ("TWICE", location.id, 2)]
    with uow_factory() as uow, pytest.raises(ValueError, match="once per call"):
        reserve(uow, tenant_id, rows)
