"""Suppliers and purchase orders: states, receipts in the ledger, incoming supply giving
backorders a promise date, and receiving releasing them in promise order."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from sqlalchemy import select

from oms.adapters.db.tables import inventory_movements
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.domain.errors import IllegalTransition, InvalidRequest
from oms.domain.inbound import PoStatus
from oms.domain.shipping import add_business_days
from oms.services import intake, purchasing
from oms.services.checks import find_invariant_violations
from oms.services.incoming import incoming_supply
from oms.services.inventory import get_stock
from tests.builders import TESTER, add_location, add_product, order_of

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SOON = date(2026, 12, 14)
LATER = date(2026, 12, 21)


def _supplier(uow: SqlUnitOfWorkFactory, tenant_id: UUID, **over: object) -> UUID:
    fields: dict[str, object] = {
        "name": "Acme Textiles",
        "lead_time_days": 14,
        "moq": 1,
        "pack_size": 1,
        "currency": "EUR",
    }
    fields.update(over)
    return purchasing.create_supplier(
        uow_factory=uow,
        tenant_id=tenant_id,
        command=purchasing.SupplierCreate(**fields),  # type: ignore[arg-type]
        at=NOW,
    ).id


def _po(
    uow: SqlUnitOfWorkFactory,
    tenant_id: UUID,
    supplier_id: UUID,
    expected: date,
    *lines: tuple[str, int],
    send: bool = True,
) -> UUID:
    po = purchasing.create_purchase_order(
        uow_factory=uow,
        tenant_id=tenant_id,
        command=purchasing.PurchaseOrderCreate(
            supplier_id=supplier_id,
            location="WH",
            expected_at=expected,
            lines=[purchasing.PoLineInput(sku, q, Decimal("2.50")) for sku, q in lines],
        ),
        actor=TESTER,
        at=NOW,
    )
    if send:
        purchasing.send_purchase_order(uow_factory=uow, tenant_id=tenant_id, po_id=po.id, at=NOW)
    return po.id


def _receive(uow: SqlUnitOfWorkFactory, tenant_id: UUID, po_id: UUID, sku: str, units: int):
    return purchasing.receive_purchase_order(
        uow_factory=uow,
        tenant_id=tenant_id,
        po_id=po_id,
        lines=[purchasing.ReceiptLine(sku, units)],
        actor=TESTER,
        operator=False,
        at=NOW,
    )


def _place(uow: SqlUnitOfWorkFactory, tenant_id: UUID, units: int, level: str = "standard"):
    command = dataclasses.replace(order_of(("TEE", units)), service_level=level)
    return intake.place_order(
        uow_factory=uow,
        gateways=gateway_named,
        tenant_id=tenant_id,
        command=command,
        actor=TESTER,
        at=NOW,
    ).order


@pytest.fixture
def world(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> UUID:
    add_location(uow_factory, tenant_id, "WH")
    add_product(uow_factory, tenant_id, "TEE")
    return _supplier(uow_factory, tenant_id)


def test_a_purchase_order_goes_from_draft_to_received_through_receipt_movements(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, world: UUID
) -> None:
    po_id = _po(uow_factory, tenant_id, world, SOON, ("TEE", 10), send=False)
    assert incoming_supply(uow_factory=uow_factory, tenant_id=tenant_id, sku="TEE") == []
    sent = purchasing.send_purchase_order(uow_factory=uow_factory, tenant_id=tenant_id, po_id=po_id)
    assert sent.status is PoStatus.SENT

    part = _receive(uow_factory, tenant_id, po_id, "TEE", 4)
    assert (part.status, part.lines[0].received) == (PoStatus.PARTIALLY_RECEIVED, 4)
    (incoming,) = incoming_supply(uow_factory=uow_factory, tenant_id=tenant_id, sku="TEE")
    assert (incoming.expected_at, incoming.quantity, incoming.location_code) == (SOON, 6, "WH")

    done = _receive(uow_factory, tenant_id, po_id, "TEE", 6)
    assert done.status is PoStatus.RECEIVED
    assert incoming_supply(uow_factory=uow_factory, tenant_id=tenant_id, sku="TEE") == []
    mv = inventory_movements.c
    with uow_factory.engine.connect() as conn:
        rows = conn.execute(
            select(mv.kind, mv.quantity, mv.on_hand_after, mv.reference)
            .where(mv.tenant_id == tenant_id, mv.sku == "TEE")
            .order_by(mv.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("receipt", 4, 4, str(po_id)),
        ("receipt", 6, 10, str(po_id)),
    ]
    assert get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku="TEE").on_hand == 10
    assert find_invariant_violations(uow_factory=uow_factory) == []
    with pytest.raises(IllegalTransition):
        _receive(uow_factory, tenant_id, po_id, "TEE", 1)


@pytest.mark.parametrize(
    ("quantity", "pointer"),
    [(5, "#/lines/0/quantity"), (13, "#/lines/0/quantity")],
)
def test_lines_below_the_minimum_or_off_the_pack_size_are_refused(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, world: UUID, quantity: int, pointer: str
) -> None:
    supplier = _supplier(uow_factory, tenant_id, moq=12, pack_size=6)
    with pytest.raises(InvalidRequest) as refused:
        _po(uow_factory, tenant_id, supplier, SOON, ("TEE", quantity))
    assert [e.pointer for e in refused.value.errors] == [pointer]


def test_a_cancelled_or_draft_order_is_not_incoming_and_cannot_be_received(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, world: UUID
) -> None:
    po_id = _po(uow_factory, tenant_id, world, SOON, ("TEE", 5))
    purchasing.cancel_purchase_order(uow_factory=uow_factory, tenant_id=tenant_id, po_id=po_id)
    assert incoming_supply(uow_factory=uow_factory, tenant_id=tenant_id, sku="TEE") == []
    with pytest.raises(IllegalTransition):
        _receive(uow_factory, tenant_id, po_id, "TEE", 5)


def test_a_backorder_is_promised_from_the_purchase_order_that_covers_it(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, world: UUID
) -> None:
    _po(uow_factory, tenant_id, world, SOON, ("TEE", 2))
    _po(uow_factory, tenant_id, world, LATER, ("TEE", 5))

    first = _place(uow_factory, tenant_id, 2)  # the first PO covers it
    second = _place(uow_factory, tenant_id, 3)  # 2 units wait ahead of it: the second PO
    beyond = _place(uow_factory, tenant_id, 9)  # more than is on order: no ETA

    assert first.routing is not None
    assert second.routing is not None
    assert first.routing["backorder_eta"] == {"TEE": SOON.isoformat()}
    assert second.routing["backorder_eta"] == {"TEE": LATER.isoformat()}
    assert first.promised_deliver_by == add_business_days(SOON, 5)
    assert second.promised_deliver_by == add_business_days(LATER, 5)
    assert beyond.routing is not None
    assert beyond.routing["backorder_eta"] == {"TEE": None}


def test_receiving_releases_waiting_orders_in_promise_order(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, world: UUID
) -> None:
    po_id = _po(uow_factory, tenant_id, world, SOON, ("TEE", 6))
    older = _place(uow_factory, tenant_id, 3, "standard")  # promised 5 business days after
    newer = _place(uow_factory, tenant_id, 3, "express")  # promised 2 days after: sooner
    assert newer.promised_deliver_by is not None
    assert older.promised_deliver_by is not None
    assert newer.promised_deliver_by < older.promised_deliver_by

    _receive(uow_factory, tenant_id, po_id, "TEE", 3)

    with uow_factory(readonly=True) as uow:
        served = uow.orders.get(tenant_id, newer.id)
        waiting = uow.orders.get(tenant_id, older.id)
    assert served is not None
    assert waiting is not None
    assert (served.lines[0].allocated, served.lines[0].backordered) == (3, 0)
    assert (waiting.lines[0].allocated, waiting.lines[0].backordered) == (0, 3)

    _receive(uow_factory, tenant_id, po_id, "TEE", 3)
    with uow_factory(readonly=True) as uow:
        waiting = uow.orders.get(tenant_id, older.id)
    assert waiting is not None
    assert waiting.lines[0].allocated == 3
    assert find_invariant_violations(uow_factory=uow_factory) == []
