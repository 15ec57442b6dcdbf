"""Inbound shipments through the use cases: unexpected SKUs, idempotent scans, and two
receivers scanning one shipment at once never counting a carton twice (both databases;
the race matters on PostgreSQL, where the scans really run in parallel)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from threading import Barrier
from uuid import UUID

import pytest
from sqlalchemy import func, select

from oms.adapters.db.tables import inventory_movements, stock_changes
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.errors import IllegalTransition, InvalidRequest
from oms.domain.inbound import Condition
from oms.domain.inventory import MAX_QUANTITY
from oms.services import inbound
from oms.services.checks import find_invariant_violations
from oms.services.inventory import get_stock
from tests.builders import TESTER, add_location, add_product, set_stock

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CARTONS = 24


def _announce(uow: SqlUnitOfWorkFactory, tenant_id: UUID, *lines: tuple[str, int]) -> UUID:
    return inbound.announce_shipment(
        uow_factory=uow,
        tenant_id=tenant_id,
        command=inbound.ShipmentAnnouncement(location="WH", reference="ASN-7", lines=lines),
        actor=TESTER,
        at=NOW,
    ).id


def _scan(
    uow: SqlUnitOfWorkFactory, tenant_id: UUID, shipment_id: UUID, scan_id: str, *lines
) -> inbound.ReceivedScan:
    return inbound.receive_scan(
        uow_factory=uow,
        tenant_id=tenant_id,
        shipment_id=shipment_id,
        lines=[inbound.ScanLine(*line) for line in lines],
        actor=TESTER,
        operator=False,
        scan_id=scan_id,
        at=NOW,
    )


def _ledger_sum(uow: SqlUnitOfWorkFactory, tenant_id: UUID, sku: str) -> int:
    mv = inventory_movements.c
    with uow.engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.coalesce(func.sum(mv.quantity), 0)).where(
                    mv.tenant_id == tenant_id, mv.sku == sku
                )
            )
        )


def test_an_unexpected_sku_is_received_with_its_reason_and_reported(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "WH")
    add_product(uow_factory, tenant_id, "TEE")
    add_product(uow_factory, tenant_id, "CAP")
    shipment_id = _announce(uow_factory, tenant_id, ("TEE", 5))

    scan = _scan(uow_factory, tenant_id, shipment_id, "s1", ("TEE", 5), ("CAP", 2))

    assert [(e["sku"], e["kind"]) for e in scan.shipment.exceptions] == [("CAP", "unexpected")]
    closed = inbound.close_shipment(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        shipment_id=shipment_id,
        actor=TESTER,
        operator=False,
        at=NOW,
    )
    assert [(v.sku, v.expected, v.received, v.verdict) for v in closed.report] == [
        ("CAP", 0, 2, "unexpected"),
        ("TEE", 5, 5, "exact"),
    ]
    assert get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku="CAP").on_hand == 2


def test_two_receivers_scanning_one_shipment_never_double_count(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "WH")
    add_product(uow_factory, tenant_id, "TEE")
    shipment_id = _announce(uow_factory, tenant_id, ("TEE", CARTONS * 2))
    barrier = Barrier(2)

    def receiver(n: int) -> list[bool]:
        # Each receiver scans every carton (the other's order reversed), so every carton
        # is scanned twice at about the same moment; each carton holds 2 units.
        order = list(range(CARTONS)) if n == 0 else list(reversed(range(CARTONS)))
        barrier.wait()
        return [
            _scan(uow_factory, tenant_id, shipment_id, f"carton-{c}", ("TEE", 2)).counted
            for c in order
        ]

    with ThreadPoolExecutor(max_workers=2) as pool:
        counted = [flag for flags in pool.map(receiver, range(2)) for flag in flags]

    assert counted.count(True) == CARTONS
    shipment, _ = inbound.get_shipment(
        uow_factory=uow_factory, tenant_id=tenant_id, shipment_id=shipment_id
    )
    assert shipment.lines[0].received == CARTONS * 2
    assert get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku="TEE").on_hand == CARTONS * 2
    assert _ledger_sum(uow_factory, tenant_id, "TEE") == CARTONS * 2
    assert find_invariant_violations(uow_factory=uow_factory) == []


def test_scans_racing_a_close_are_counted_before_it_or_refused_after_it(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "WH")
    for sku in ("CAP", "TEE"):
        add_product(uow_factory, tenant_id, sku)
    shipment_id = _announce(uow_factory, tenant_id, ("CAP", 10), ("TEE", 10))
    barrier = Barrier(3)

    def receiver(sku: str) -> int:
        # Each receiver scans its own SKU of the shared shipment (their lines are locked
        # apart) until the shipment is closed under it.
        barrier.wait()
        counted = 0
        for c in range(CARTONS):
            try:
                _scan(uow_factory, tenant_id, shipment_id, f"{sku}-{c}", (sku, 1))
            except IllegalTransition:
                break
            counted += 1
        return counted

    def closer() -> inbound.Closed:
        barrier.wait()
        return inbound.close_shipment(
            uow_factory=uow_factory,
            tenant_id=tenant_id,
            shipment_id=shipment_id,
            actor=TESTER,
            operator=False,
            at=NOW,
        )

    with ThreadPoolExecutor(max_workers=3) as pool:
        scanned = [pool.submit(receiver, sku) for sku in ("CAP", "TEE")]
        closed = pool.submit(closer).result()
        counts = dict(zip(("CAP", "TEE"), (f.result() for f in scanned), strict=True))

    reported = {v.sku: v.received for v in closed.report}
    assert reported == counts  # the close saw every scan counted before it, none after
    for sku, units in counts.items():
        assert _ledger_sum(uow_factory, tenant_id, sku) == units
        assert get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku=sku).on_hand == units
    assert find_invariant_violations(uow_factory=uow_factory) == []


def test_a_scan_leaves_a_stock_push_marker_of_each_level_it_raised(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    warehouse = add_location(uow_factory, tenant_id, "WH")
    for sku in ("CAP", "MUG", "TEE"):
        add_product(uow_factory, tenant_id, sku)
    shipment_id = _announce(uow_factory, tenant_id, ("CAP", 5), ("MUG", 5), ("TEE", 5))

    _scan(
        uow_factory,
        tenant_id,
        shipment_id,
        "s1",
        ("TEE", 2),
        ("CAP", 1),
        ("MUG", 1, Condition.DAMAGED),
    )

    sc = stock_changes.c
    with uow_factory.engine.connect() as conn:
        marked = set(
            conn.execute(select(sc.sku, sc.location_id).where(sc.tenant_id == tenant_id)).all()
        )
    assert marked == {("CAP", warehouse.id), ("TEE", warehouse.id)}  # damaged: no change


def test_a_scan_that_would_pass_the_most_on_hand_counts_nothing(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "WH")
    add_product(uow_factory, tenant_id, "CAP")
    add_product(uow_factory, tenant_id, "TEE")
    set_stock(uow_factory, tenant_id, "TEE", "WH", MAX_QUANTITY - 1)
    shipment_id = _announce(uow_factory, tenant_id, ("CAP", 5), ("TEE", 5))

    with pytest.raises(InvalidRequest, match="maximum"):
        _scan(uow_factory, tenant_id, shipment_id, "s1", ("CAP", 3), ("TEE", 2))

    assert get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku="CAP").on_hand == 0
    assert get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku="TEE").on_hand == (
        MAX_QUANTITY - 1
    )
    scan = _scan(uow_factory, tenant_id, shipment_id, "s1", ("CAP", 3))  # the id is free
    assert scan.counted
    assert [(ln.sku, ln.received_good) for ln in scan.shipment.lines] == [("CAP", 3), ("TEE", 0)]
