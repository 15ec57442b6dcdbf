"""The inventory import's set-based write (``count_levels``) on both databases: the stock
push sees every level it changed, only public ``inventory.adjusted`` messages are written,
a level counted twice in a batch has a movement per row, the books balance, and on
PostgreSQL an import lowering stock while orders reserve it never oversells.
"""

from __future__ import annotations

import io
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from threading import Barrier
from uuid import UUID

import pytest
from sqlalchemy import Engine, select

from oms.adapters.db.tables import outbox, stock_changes
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.domain.errors import InsufficientStock
from oms.services import inventory
from oms.services.checks import find_invariant_violations
from oms.services.csv_source import CsvSource
from oms.services.event_catalogue import public_type
from oms.services.import_rows import ImportKind, RowError
from oms.services.imports import ImportRequest, ImportSummary, import_rows
from tests.builders import TESTER, add_location, add_product, order_of, place, set_stock

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture(params=[1, 500], ids=["row-by-row", "batched"])
def batch_size(request: pytest.FixtureRequest) -> int:
    size: int = request.param
    return size


def _import(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, data: bytes, *, batch_size: int = 500
) -> tuple[ImportSummary, list[RowError]]:
    source = CsvSource(io.BytesIO(data))
    reported: list[RowError] = []
    summary = import_rows(
        uow_factory=uow_factory,
        gateways=gateway_named,
        tenant_id=tenant_id,
        request=ImportRequest(
            kind=ImportKind.INVENTORY,
            header=source.header,
            rows=source.rows(),
            batch_size=batch_size,
        ),
        actor=TESTER,
        at=AT,
        on_error=reported.append,
    )
    return summary, reported


def _stock(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, sku: str) -> tuple[int, int]:
    """(on hand, reserved) of ``sku`` over its locations."""
    stock = inventory.get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku=sku, at=AT)
    return stock.on_hand or 0, stock.reserved or 0


def _ledger(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, sku: str) -> list[int]:
    moves = inventory.list_movements(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        sku=sku,
        location_code=None,
        after_id=None,
        limit=1000,
    )
    return [m.quantity for m in moves]


def _balanced(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> bool:
    found = find_invariant_violations(uow_factory=uow_factory)
    return [v for v in found if v.tenant_id == tenant_id] == []


def _markers(engine: Engine, tenant_id: UUID) -> set[tuple[str, UUID]]:
    sc = stock_changes.c
    with engine.connect() as conn:
        rows = conn.execute(select(sc.sku, sc.location_id).where(sc.tenant_id == tenant_id))
        return {(row.sku, UUID(str(row.location_id))) for row in rows}


def _adjusted(engine: Engine, tenant_id: UUID) -> list[dict[str, object]]:
    ob = outbox.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(ob.payload)
            .where(ob.tenant_id == tenant_id, ob.topic == "inventory.adjusted")
            .order_by(ob.id)
        )
        return [dict(row.payload) for row in rows]


def test_the_stock_push_sees_every_level_the_import_changed_and_no_other(
    engine: Engine, uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, batch_size: int
) -> None:
    one = add_location(uow_factory, tenant_id, "WH-1")
    two = add_location(uow_factory, tenant_id, "WH-2")
    for sku in ("A", "B", "C"):
        add_product(uow_factory, tenant_id, sku)
    set_stock(uow_factory, tenant_id, "B", "WH-1", 4)
    with engine.begin() as conn:
        conn.execute(stock_changes.delete().where(stock_changes.c.tenant_id == tenant_id))
    data = (
        b"sku,location,on_hand,safety_stock\n"
        b"A,WH-1,5,\n"  # a new level
        b"B,WH-1,4,\n"  # as it is: unchanged
        b"B,WH-2,0,2\n"  # a new level, safety stock only
        b"C,WH-2,3,\n"
        b"NOPE,WH-1,3,\n"  # refused
    )
    summary, errors = _import(uow_factory, tenant_id, data, batch_size=batch_size)
    assert (summary.updated, summary.unchanged, summary.failed) == (3, 1, 1)
    assert [(e.row, e.column) for e in errors] == [(6, "sku")]
    assert _markers(engine, tenant_id) == {("A", one.id), ("B", two.id), ("C", two.id)}
    assert _balanced(uow_factory, tenant_id)


def test_only_changes_that_leave_stock_low_write_an_inventory_adjusted_message(
    engine: Engine, uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, batch_size: int
) -> None:
    add_location(uow_factory, tenant_id, "WH-1")
    for sku in ("A", "B", "C"):
        add_product(uow_factory, tenant_id, sku)
    data = b"sku,location,on_hand,safety_stock\nA,WH-1,10,2\nB,WH-1,2,2\nC,WH-1,0,\n"
    summary, _ = _import(uow_factory, tenant_id, data, batch_size=batch_size)
    assert summary.updated == 2  # C at 0 was already 0: unchanged
    written = _adjusted(engine, tenant_id)
    assert [(m["sku"], m["on_hand"], m["safety_stock"]) for m in written] == [("B", 2, 2)]
    assert [public_type("inventory.adjusted", m) for m in written] == ["inventory.low_stock"]
    # The API's adjustments follow the same rule.
    set_stock(uow_factory, tenant_id, "A", "WH-1", 9)  # 9 > safety stock 2: not public
    set_stock(uow_factory, tenant_id, "A", "WH-1", 1)  # 1 <= 2: inventory.low_stock
    assert [(m["sku"], m["on_hand"]) for m in _adjusted(engine, tenant_id)] == [
        ("B", 2),
        ("A", 1),
    ]


def test_a_level_counted_again_in_its_batch_has_a_movement_per_changing_row(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, batch_size: int
) -> None:
    add_location(uow_factory, tenant_id, "WH-1")
    add_product(uow_factory, tenant_id, "A")
    add_product(uow_factory, tenant_id, "B")
    set_stock(uow_factory, tenant_id, "B", "WH-1", 5)
    data = b"sku,location,on_hand\nA,WH-1,10\nB,WH-1,8\nA,WH-1,3\nA,WH-1,3\nB,WH-1,1\nA,WH-1,4\n"
    summary, errors = _import(uow_factory, tenant_id, data, batch_size=batch_size)
    assert (errors, summary.updated, summary.unchanged) == ([], 5, 1)
    assert _ledger(uow_factory, tenant_id, "A") == [10, -7, 1]
    assert _ledger(uow_factory, tenant_id, "B") == [5, 3, -7]
    assert (_stock(uow_factory, tenant_id, "A"), _stock(uow_factory, tenant_id, "B")) == (
        (4, 0),
        (1, 0),
    )
    again, _ = _import(uow_factory, tenant_id, data, batch_size=batch_size)
    # The file again: its last rows are as the levels are; the earlier ones count again.
    assert _stock(uow_factory, tenant_id, "A") == (4, 0)
    assert sum(_ledger(uow_factory, tenant_id, "A")) == 4
    assert again.failed == 0
    assert _balanced(uow_factory, tenant_id)


def test_a_row_with_only_a_safety_stock_sets_it_and_moves_nothing(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, batch_size: int
) -> None:
    add_location(uow_factory, tenant_id, "WH-1")
    add_product(uow_factory, tenant_id, "A")
    set_stock(uow_factory, tenant_id, "A", "WH-1", 6)
    data = b"sku,location,on_hand,safety_stock\nA,WH-1,,2\n"
    summary, errors = _import(uow_factory, tenant_id, data, batch_size=batch_size)
    assert (errors, summary.updated) == ([], 1)
    stock = inventory.get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku="A", at=AT)
    assert (stock.on_hand, stock.safety_stock, stock.available) == (6, 2, 4)
    assert _ledger(uow_factory, tenant_id, "A") == [6]


def test_a_count_past_the_largest_quantity_is_refused_on_its_row(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, batch_size: int
) -> None:
    add_location(uow_factory, tenant_id, "WH-1")
    add_product(uow_factory, tenant_id, "A")
    data = b"sku,location,on_hand\nA,WH-1,99999999999\nA,WH-1,7\n"
    summary, errors = _import(uow_factory, tenant_id, data, batch_size=batch_size)
    assert (summary.updated, summary.failed) == (1, 1)
    assert [(e.row, e.column) for e in errors] == [(2, "on_hand")]
    assert _stock(uow_factory, tenant_id, "A") == (7, 0)


ORDERS = 40
SKUS = 8


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_an_import_lowering_stock_while_orders_reserve_it_never_oversells(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "WH-1")
    outcomes: Counter[str] = Counter()
    for round_no in range(4):
        skus = [f"RACE-{round_no}-{n}" for n in range(SKUS)]
        for sku in skus:
            add_product(uow_factory, tenant_id, sku)
            set_stock(uow_factory, tenant_id, sku, "WH-1", 12)
        lowered = 4 + round_no % 3  # below what the orders want of each SKU (5)
        data = ("sku,location,on_hand\n" + "".join(f"{s},WH-1,{lowered}\n" for s in skus)).encode()
        barrier = Barrier(ORDERS + 1)

        def order(n: int, skus: list[str] = skus, barrier: Barrier = barrier) -> str:
            barrier.wait()
            try:
                place(uow_factory, tenant_id, order_of((skus[n % SKUS], 1), allow_backorder=False))
            except InsufficientStock:
                return "refused"
            return skus[n % SKUS]

        def count(
            data: bytes = data, barrier: Barrier = barrier
        ) -> tuple[ImportSummary, list[RowError]]:
            barrier.wait()
            return _import(uow_factory, tenant_id, data)

        with ThreadPoolExecutor(max_workers=ORDERS + 1) as pool:
            counting = pool.submit(count)
            placed = Counter(pool.map(order, range(ORDERS)))
            summary, errors = counting.result()
        outcomes["refused orders"] += placed.pop("refused", 0)
        assert summary.updated + summary.failed == SKUS
        assert all(e.column == "on_hand" and "reserved" in e.message for e in errors)
        refused = {skus[e.row - 2] for e in errors}
        outcomes["refused rows"] += len(refused)
        for sku in skus:
            on_hand, reserved = _stock(uow_factory, tenant_id, sku)
            assert reserved == placed[sku] <= on_hand  # what the orders hold, never more
            # Counted (on hand is the file's) unless more was reserved than the count.
            assert on_hand == (12 if sku in refused else lowered)
            if sku in refused:
                assert reserved > lowered
        assert _balanced(uow_factory, tenant_id)
    assert sum(outcomes.values()) > 0  # the race had losers on one side or the other
