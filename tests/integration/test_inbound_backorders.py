"""Receiving scans release the orders waiting for what they bring, earliest promise first,
bundles included; a scan that brings nothing anyone waits for releases nothing (both
databases)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.catalogue import ProductKind
from oms.domain.inbound import Condition
from oms.services import inbound
from oms.services.checks import find_invariant_violations
from tests.builders import TESTER, add_location, add_product, backordered, placed_order

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _announce(uow: SqlUnitOfWorkFactory, tenant_id: UUID, *lines: tuple[str, int]) -> UUID:
    return inbound.announce_shipment(
        uow_factory=uow,
        tenant_id=tenant_id,
        command=inbound.ShipmentAnnouncement(location="WH", reference="ASN-9", lines=lines),
        actor=TESTER,
        at=NOW,
    ).id


def _scan(
    uow: SqlUnitOfWorkFactory, tenant_id: UUID, shipment_id: UUID, *lines: inbound.ScanLine
) -> None:
    inbound.receive_scan(
        uow_factory=uow,
        tenant_id=None,
        shipment_id=shipment_id,
        lines=lines,
        actor=TESTER,
        operator=True,
        at=NOW,
    )


def test_scans_release_waiting_orders_in_promise_order(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "WH")
    add_product(uow_factory, tenant_id, "TEE")
    add_product(uow_factory, tenant_id, "CAP")
    older = placed_order(uow_factory, tenant_id, ("TEE", 3), at=NOW)  # 5 business days
    newer = placed_order(
        uow_factory, tenant_id, ("TEE", 3), at=NOW, level="express"
    )  # 2 days: sooner
    assert (
        backordered(uow_factory, tenant_id, older.id),
        backordered(uow_factory, tenant_id, newer.id),
    ) == (
        [3],
        [3],
    )
    shipment_id = _announce(uow_factory, tenant_id, ("TEE", 6), ("CAP", 2))

    _scan(uow_factory, tenant_id, shipment_id, inbound.ScanLine("CAP", 2))  # no one waits
    _scan(uow_factory, tenant_id, shipment_id, inbound.ScanLine("TEE", 3, Condition.DAMAGED))
    assert backordered(uow_factory, tenant_id, newer.id) == [3]  # damaged units serve no one

    _scan(uow_factory, tenant_id, shipment_id, inbound.ScanLine("TEE", 3))
    assert backordered(uow_factory, tenant_id, newer.id) == [0]
    assert backordered(uow_factory, tenant_id, older.id) == [3]

    _scan(uow_factory, tenant_id, shipment_id, inbound.ScanLine("TEE", 3))
    assert backordered(uow_factory, tenant_id, older.id) == [0]
    assert find_invariant_violations(uow_factory=uow_factory) == []


def test_a_scan_of_a_component_releases_an_order_waiting_for_its_bundle(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "WH")
    add_product(uow_factory, tenant_id, "MUG")
    add_product(uow_factory, tenant_id, "KIT", kind=ProductKind.BUNDLE, components={"MUG": 2})
    waiting = placed_order(uow_factory, tenant_id, ("KIT", 1), at=NOW)
    assert backordered(uow_factory, tenant_id, waiting.id) == [1]
    shipment_id = _announce(uow_factory, tenant_id, ("MUG", 2))

    _scan(uow_factory, tenant_id, shipment_id, inbound.ScanLine("MUG", 2))

    assert backordered(uow_factory, tenant_id, waiting.id) == [0]
    assert find_invariant_violations(uow_factory=uow_factory) == []
