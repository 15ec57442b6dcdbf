"""Inventory through the use cases, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from uuid import UUID

import pytest
from sqlalchemy import select

from oms.adapters.db.tables import inventory_movements
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.catalogue import ProductKind
from oms.domain.errors import InvalidRequest, NotFound, StockReserved
from oms.services.checks import find_invariant_violations
from oms.services.inventory import Adjustment, adjust_inventory, get_stock, list_stock
from tests.builders import TESTER, add_location, add_product, order_of, place, set_stock

AT = datetime(2031, 3, 3, 9, 30, tzinfo=UTC)
"""A fixed clock for what these tests write (no test reads the wall clock)."""


def _adjust(uow: SqlUnitOfWorkFactory, tenant_id: UUID, **fields: object) -> None:
    fields.setdefault("reason", "test")
    adjust_inventory(
        uow_factory=uow,
        tenant_id=tenant_id,
        command=Adjustment(**fields),  # type: ignore[arg-type]
        actor=TESTER,
    )


def _ledger(uow: SqlUnitOfWorkFactory, tenant_id: UUID, sku: str) -> list[tuple[str, int, int]]:
    mv = inventory_movements.c
    with uow.engine.connect() as conn:
        rows = conn.execute(
            select(mv.kind, mv.quantity, mv.on_hand_after)
            .where(mv.tenant_id == tenant_id, mv.sku == sku)
            .order_by(mv.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_every_adjustment_writes_a_ledger_movement_that_sums_to_on_hand(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "A")
    add_product(uow_factory, tenant_id, "X")
    _adjust(uow_factory, tenant_id, sku="X", location_code="A", delta=10)
    _adjust(uow_factory, tenant_id, sku="X", location_code="A", delta=-3)
    _adjust(uow_factory, tenant_id, sku="X", location_code="A", set_on_hand=4)

    assert _ledger(uow_factory, tenant_id, "X") == [
        ("adjustment", 10, 10),
        ("adjustment", -3, 7),
        ("count", -3, 4),
    ]
    stock = get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku="X")
    assert (stock.on_hand, stock.reserved, stock.available) == (4, 0, 4)


def test_safety_stock_is_kept_back_from_availability_without_a_movement(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "A")
    add_product(uow_factory, tenant_id, "X")
    set_stock(uow_factory, tenant_id, "X", "A", 10)
    _adjust(uow_factory, tenant_id, sku="X", location_code="A", delta=0, safety_stock=4)

    stock = get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku="X")
    assert (stock.on_hand, stock.safety_stock, stock.available) == (10, 4, 6)
    assert len(_ledger(uow_factory, tenant_id, "X")) == 1
    placed = place(uow_factory, tenant_id, order_of(("X", 8)))
    assert placed.order.lines[0].allocated == 6


def test_on_hand_cannot_go_below_what_is_reserved(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "A")
    add_product(uow_factory, tenant_id, "X")
    set_stock(uow_factory, tenant_id, "X", "A", 5)
    place(uow_factory, tenant_id, order_of(("X", 4)))

    with pytest.raises(StockReserved):
        _adjust(uow_factory, tenant_id, sku="X", location_code="A", set_on_hand=3)
    _adjust(uow_factory, tenant_id, sku="X", location_code="A", delta=-1)

    stock = get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku="X")
    assert (stock.on_hand, stock.reserved, stock.available) == (4, 4, 0)


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"sku": "NOPE", "location_code": "A", "delta": 1}, "#/sku"),
        ({"sku": "X", "location_code": "NOPE", "delta": 1}, "#/location"),
        ({"sku": "KIT", "location_code": "A", "delta": 1}, "#/sku"),
        ({"sku": "X", "location_code": "A", "delta": -1}, "#/delta"),
    ],
)
def test_bad_adjustments_are_refused_and_change_nothing(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, fields: dict[str, object], pointer: str
) -> None:
    add_location(uow_factory, tenant_id, "A")
    add_product(uow_factory, tenant_id, "X")
    add_product(uow_factory, tenant_id, "KIT", kind=ProductKind.BUNDLE, components={"X": 1})

    with pytest.raises(InvalidRequest) as refused:
        _adjust(uow_factory, tenant_id, **fields)

    assert [e.pointer for e in refused.value.errors] == [pointer]
    assert _ledger(uow_factory, tenant_id, "X") == []


def test_bundle_availability_comes_from_components_per_location(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "A")
    add_location(uow_factory, tenant_id, "B")
    add_product(uow_factory, tenant_id, "X")
    add_product(uow_factory, tenant_id, "Y")
    add_product(uow_factory, tenant_id, "KIT", kind=ProductKind.BUNDLE, components={"X": 2, "Y": 1})
    set_stock(uow_factory, tenant_id, "X", "A", 5)
    set_stock(uow_factory, tenant_id, "Y", "A", 9)
    set_stock(uow_factory, tenant_id, "X", "B", 8)
    set_stock(uow_factory, tenant_id, "Y", "B", 1)

    kit = get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku="KIT")
    assert kit.on_hand is None
    assert {row.location.code: row.available for row in kit.locations} == {"A": 2, "B": 1}
    assert kit.available == 3

    placed = place(uow_factory, tenant_id, order_of(("KIT", 3)))
    assert placed.order.lines[0].allocated == 3
    assert get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku="X").reserved == 6
    assert get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku="KIT").available == 0


def test_stock_pages_list_every_product_in_sku_order(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "A")
    for sku in ["C", "A", "B"]:
        add_product(uow_factory, tenant_id, sku)
    set_stock(uow_factory, tenant_id, "B", "A", 2)

    first = list_stock(uow_factory=uow_factory, tenant_id=tenant_id, after_sku=None, limit=2)
    rest = list_stock(uow_factory=uow_factory, tenant_id=tenant_id, after_sku="B", limit=2)
    assert [s.product.sku for s in first] == ["A", "B"]
    assert [s.available for s in first] == [0, 2]
    assert [s.product.sku for s in rest] == ["C"]
    with pytest.raises(NotFound):
        get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku="Z")


def test_check_finds_no_violation_after_normal_work(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "A")
    add_product(uow_factory, tenant_id, "X")
    set_stock(uow_factory, tenant_id, "X", "A", 5)
    place(uow_factory, tenant_id, order_of(("X", 2)))
    violations = find_invariant_violations(uow_factory=uow_factory)
    assert [v for v in violations if v.tenant_id == tenant_id] == []


def test_reserving_several_rows_at_once_takes_each_row_that_has_enough_and_only_those(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    a = add_location(uow_factory, tenant_id, "A")
    b = add_location(uow_factory, tenant_id, "B")
    for sku in ("S1", "S2"):
        add_product(uow_factory, tenant_id, sku)
        set_stock(uow_factory, tenant_id, sku, "A", 5)
        set_stock(uow_factory, tenant_id, sku, "B", 5)
    at = AT
    with uow_factory() as uow:
        taken = uow.inventory.try_reserve_each(
            tenant_id, [("S2", b.id, 6), ("S1", b.id, 5), ("S1", a.id, 2), ("S2", a.id, 1)], at
        )
        with pytest.raises(ValueError, match="once per call"):
            uow.inventory.try_reserve_each(tenant_id, [("S1", a.id, 1), ("S1", a.id, 1)], at)
        reserved = {
            (lv.sku, lv.location_id): lv.reserved
            for lv in uow.inventory.levels(tenant_id, ["S1", "S2"])
        }
        # Not committed: reservations without allocations would fail `oms check`, which
        # another test runs on the shared database.
    assert taken == {("S1", b.id), ("S1", a.id), ("S2", a.id)}
    assert reserved == {("S1", a.id): 2, ("S1", b.id): 5, ("S2", a.id): 1, ("S2", b.id): 0}


def test_reserving_several_rows_waits_for_a_row_another_transaction_holds_and_then_takes_it(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    """A row updated by another transaction while this one waited for its lock has a new
    version; the reservation must find that version, not skip the row as if it were short.
    (Found in the intake's group commit: every group that waited on a row went back.)"""
    a = add_location(uow_factory, tenant_id, "A")
    for sku in ("W1", "W2"):
        add_product(uow_factory, tenant_id, sku)
        set_stock(uow_factory, tenant_id, sku, "A", 5)
    at = AT
    started = threading.Event()
    taken: list[set[tuple[str, UUID]]] = []

    def second() -> None:
        started.set()
        with uow_factory() as uow:  # on SQLite this waits for the first to commit
            taken.append(
                uow.inventory.try_reserve_each(tenant_id, [("W1", a.id, 1), ("W2", a.id, 1)], at)
            )
            uow.inventory.release(tenant_id, "W1", a.id, 1, at)
            uow.inventory.release(tenant_id, "W2", a.id, 1, at)
            uow.commit()

    with uow_factory() as first:
        assert first.inventory.try_reserve(tenant_id, "W2", a.id, 1, at)
        waiter = threading.Thread(target=second)
        waiter.start()
        started.wait()
        time.sleep(0.3)  # the second transaction now waits for W2's lock (PostgreSQL)
        first.inventory.release(tenant_id, "W2", a.id, 1, at)
        first.commit()
    waiter.join(timeout=10)

    assert taken == [{("W1", a.id), ("W2", a.id)}]
