"""Races: many placements for the last units, and duplicate copies of one order.

Each placement runs in its own thread with its own connection from the pool, on both
databases. Overselling must be impossible, not unlikely.
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from uuid import UUID

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.catalogue import ProductKind
from oms.domain.errors import InsufficientStock
from oms.services.checks import find_invariant_violations
from oms.services.intake import PlacedOrder, PlaceOrder
from oms.services.inventory import Adjustment, adjust_inventory, get_stock
from tests.builders import TESTER, add_location, add_product, order_of, place, set_stock

RACERS = 50
LAST_UNITS = 7


def _race(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, sku: str, *, backorder: bool):
    barrier = Barrier(RACERS)

    def one(i: int) -> str:
        barrier.wait()
        try:
            placed = place(uow_factory, tenant_id, order_of((sku, 1), allow_backorder=backorder))
        except InsufficientStock:
            return "409"
        return "allocated" if placed.order.lines[0].allocated == 1 else "backordered"

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        return Counter(pool.map(one, range(RACERS)))


def _rounds(request: pytest.FixtureRequest) -> int:
    # 10 rounds on PostgreSQL, where row locks make the race real (OMS_RACE_ROUNDS for a
    # longer hunt); SQLite serialises writers, so a few rounds show its path.
    postgres = int(os.environ.get("OMS_RACE_ROUNDS", "10"))
    return postgres if "postgres" in request.node.callspec.id else 3


def test_fifty_placements_race_for_the_last_seven_units(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, request: pytest.FixtureRequest
) -> None:
    add_location(uow_factory, tenant_id, "A")
    add_location(uow_factory, tenant_id, "B", priority=200)
    for round_no in range(_rounds(request)):
        sku = f"LAST-{round_no}"
        add_product(uow_factory, tenant_id, sku)
        set_stock(uow_factory, tenant_id, sku, "A", 4)
        set_stock(uow_factory, tenant_id, sku, "B", 3)

        outcome = _race(uow_factory, tenant_id, sku, backorder=False)

        assert outcome == Counter({"allocated": LAST_UNITS, "409": RACERS - LAST_UNITS})
        stock = get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku=sku)
        assert stock.available == 0
        assert stock.reserved == LAST_UNITS
    assert [
        v for v in find_invariant_violations(uow_factory=uow_factory) if v.tenant_id == tenant_id
    ] == []


def test_with_backorders_allowed_exactly_the_stock_is_reserved(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, request: pytest.FixtureRequest
) -> None:
    add_location(uow_factory, tenant_id, "A")
    for round_no in range(_rounds(request) // 2 or 1):
        sku = f"BO-{round_no}"
        add_product(uow_factory, tenant_id, sku)
        set_stock(uow_factory, tenant_id, sku, "A", LAST_UNITS)

        outcome = _race(uow_factory, tenant_id, sku, backorder=True)

        assert outcome == Counter({"allocated": LAST_UNITS, "backordered": RACERS - LAST_UNITS})
        stock = get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku=sku)
        assert (stock.reserved, stock.available) == (LAST_UNITS, 0)
    assert [
        v for v in find_invariant_violations(uow_factory=uow_factory) if v.tenant_id == tenant_id
    ] == []


def _stock_above_safety(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, sku: str, location: str, on_hand: int
) -> None:
    """``on_hand`` units of which ``SAFETY`` are safety stock."""
    adjust_inventory(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        command=Adjustment(
            sku=sku, location_code=location, set_on_hand=on_hand, safety_stock=SAFETY, reason="t"
        ),
        actor=TESTER,
    )


SAFETY = 3


@pytest.mark.parametrize("drawn", ["one sku", "a bundle of two skus"])
def test_fifty_placements_race_for_the_last_units_and_never_take_the_safety_stock(
    uow_factory: SqlUnitOfWorkFactory,
    tenant_id: UUID,
    request: pytest.FixtureRequest,
    drawn: str,
) -> None:
    """However stale the figures a placement planned on, the reservation's own condition keeps
    the safety stock back (a bundle takes two rows at once: PostgreSQL's batch statement)."""
    add_location(uow_factory, tenant_id, "A")
    add_location(uow_factory, tenant_id, "B", priority=200)
    for round_no in range(_rounds(request)):
        sku = f"SAFE-{round_no}"
        parts = [sku] if drawn == "one sku" else [f"{sku}-X", f"{sku}-Y"]
        for part in parts:
            add_product(uow_factory, tenant_id, part)
            _stock_above_safety(uow_factory, tenant_id, part, "A", 4 + SAFETY)
            _stock_above_safety(uow_factory, tenant_id, part, "B", 3 + SAFETY)
        if drawn != "one sku":
            add_product(
                uow_factory,
                tenant_id,
                sku,
                kind=ProductKind.BUNDLE,
                components=dict.fromkeys(parts, 1),
            )

        outcome = _race(uow_factory, tenant_id, sku, backorder=False)

        assert outcome == Counter({"allocated": LAST_UNITS, "409": RACERS - LAST_UNITS})
        for part in parts:
            stock = get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku=part)
            assert (stock.reserved, stock.available) == (LAST_UNITS, 0)
            assert [loc.on_hand - (loc.reserved or 0) for loc in stock.locations] == [SAFETY] * 2
    assert [
        v for v in find_invariant_violations(uow_factory=uow_factory) if v.tenant_id == tenant_id
    ] == []


@pytest.mark.parametrize("by", ["external_id", "idempotency_key"])
def test_twenty_copies_of_one_order_create_exactly_one(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, by: str
) -> None:
    add_location(uow_factory, tenant_id, "A")
    add_product(uow_factory, tenant_id, "DUP")
    set_stock(uow_factory, tenant_id, "DUP", "A", 100)
    copies = 20
    barrier = Barrier(copies)
    command = order_of(("DUP", 2), external_id="EXT-1" if by == "external_id" else None)

    def one(_: int) -> tuple[UUID, bool]:
        barrier.wait()
        placed = place(
            uow_factory, tenant_id, command, key="KEY-1" if by == "idempotency_key" else None
        )
        return placed.order.id, placed.created

    with ThreadPoolExecutor(max_workers=copies) as pool:
        results = list(pool.map(one, range(copies)))

    assert len({order_id for order_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    stock = get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku="DUP")
    assert stock.reserved == 2


def test_two_copies_of_an_order_for_the_last_unit_both_answer_the_first_order(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, request: pytest.FixtureRequest
) -> None:
    """The copy that loses the race for the stock finds the order its twin placed: the
    external id is looked up again before a stock failure decides the answer."""
    add_location(uow_factory, tenant_id, "A")
    for round_no in range(_rounds(request)):
        sku = f"ONE-LEFT-{round_no}"
        add_product(uow_factory, tenant_id, sku)
        set_stock(uow_factory, tenant_id, sku, "A", 1)
        command = order_of((sku, 1), external_id=f"TWIN-{round_no}", allow_backorder=False)
        barrier = Barrier(2)

        def one(_: int, command: PlaceOrder = command, barrier: Barrier = barrier) -> PlacedOrder:
            barrier.wait()
            return place(uow_factory, tenant_id, command)

        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(one, range(2)))

        assert len({a.order.id for a in answers}) == 1
        assert sorted(a.created for a in answers) == [False, True]
        stock = get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku=sku)
        assert (stock.reserved, stock.available) == (1, 0)
