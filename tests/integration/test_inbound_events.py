"""The warehouse's steps reach a subscribed webhook endpoint: a purchase order sent and
received, an inbound shipment's scan and its closing with the variance, a transfer shipped
and received, a cycle count approved. Each makes a delivery row for the endpoint, and the
event's data is the step's own record (docs/events.md#the-warehouses-events), on both
databases. The worker claims every tenant's outbox, so this module has a database of its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from pydantic import BaseModel
from sqlalchemy import Engine, select

from oms.adapters.db.tables import event_deliveries, outbox
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.webhooks.addresses import AddressGuard
from oms.adapters.webhooks.sink import WebhookSink, new_client
from oms.api.event_data import render_event_data
from oms.api.schemas.inbound_events import (
    CycleCountApprovedData,
    InboundClosedData,
    InboundReceivedData,
    PurchaseOrderEventData,
    TransferEventData,
)
from oms.services import cycle_counts, inbound, purchasing, transfers
from oms.services import webhook_endpoints as endpoints
from oms.services.event_delivery import fan_out
from oms.services.tenants import create_tenant
from tests.builders import TESTER, add_location, add_product, set_stock
from tests.databases import ENGINES, own_database

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
MODEL: dict[str, type[BaseModel]] = {
    "purchase_order.sent": PurchaseOrderEventData,
    "purchase_order.received": PurchaseOrderEventData,
    "inbound_shipment.received": InboundReceivedData,
    "inbound_shipment.closed": InboundClosedData,
    "transfer.shipped": TransferEventData,
    "transfer.received": TransferEventData,
    "cycle_count.approved": CycleCountApprovedData,
}


@pytest.fixture(scope="module", params=ENGINES)
def events_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from own_database(request, "inbound_events")


@pytest.fixture
def uow(events_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(events_engine)


def _fan_out(uow: SqlUnitOfWorkFactory) -> None:
    sink = WebhookSink(
        client=new_client(), guard=AddressGuard(allow_private=True), clock=lambda: NOW
    )
    try:
        while fan_out(
            uow_factory=uow, sinks=[sink], render=render_event_data, clock=lambda: NOW, limit=500
        ):
            pass
    finally:
        sink.close()


def _delivered_events(uow: SqlUnitOfWorkFactory, tenant_id: UUID) -> list[tuple[str, Any]]:
    """(type, data) of every event the tenant's endpoint got a delivery row for, in order."""
    ev, o = event_deliveries.c, outbox.c
    with uow.engine.connect() as conn:
        rows = conn.execute(
            select(o.event_type, o.data)
            .join(outbox, (o.tenant_id == ev.tenant_id) & (o.id == ev.event_id))
            .where(ev.tenant_id == tenant_id, ev.sink_kind == "webhook")
            .order_by(o.created_at, o.id)
        ).all()
    return [(row[0], row[1]) for row in rows]


def _steps(uow: SqlUnitOfWorkFactory, tenant_id: UUID) -> dict[str, UUID]:
    add_location(uow, tenant_id, "WH")
    add_location(uow, tenant_id, "STORE")
    for sku in ("ALPHA", "BRAVO"):
        add_product(uow, tenant_id, sku)
    set_stock(uow, tenant_id, "BRAVO", "WH", 10)
    supplier = purchasing.create_supplier(
        uow_factory=uow,
        tenant_id=tenant_id,
        command=purchasing.SupplierCreate("Acme", 7, 1, 1, "EUR"),
        at=NOW,
    )
    po = purchasing.create_purchase_order(
        uow_factory=uow,
        tenant_id=tenant_id,
        command=purchasing.PurchaseOrderCreate(
            supplier.id,
            "WH",
            date(2026, 12, 14),
            [purchasing.PoLineInput("ALPHA", 6, Decimal("2.50"))],
        ),
        actor=TESTER,
        at=NOW,
    )
    purchasing.send_purchase_order(uow_factory=uow, tenant_id=tenant_id, po_id=po.id, at=NOW)
    purchasing.receive_purchase_order(
        uow_factory=uow,
        tenant_id=tenant_id,
        po_id=po.id,
        lines=[purchasing.ReceiptLine("ALPHA", 4)],
        actor=TESTER,
        operator=False,
        at=NOW + timedelta(minutes=1),
    )
    asn = inbound.announce_shipment(
        uow_factory=uow,
        tenant_id=tenant_id,
        command=inbound.ShipmentAnnouncement(
            location="WH", reference="ASN-9", lines=[("ALPHA", 3), ("BRAVO", 2)]
        ),
        actor=TESTER,
        at=NOW + timedelta(minutes=2),
    )
    inbound.receive_scan(
        uow_factory=uow,
        tenant_id=tenant_id,
        shipment_id=asn.id,
        lines=[
            inbound.ScanLine("ALPHA", 4),
            inbound.ScanLine("BRAVO", 1, inbound.Condition.DAMAGED, "crushed"),
        ],
        actor=TESTER,
        operator=False,
        scan_id="carton-1",
        at=NOW + timedelta(minutes=3),
    )
    inbound.close_shipment(
        uow_factory=uow,
        tenant_id=tenant_id,
        shipment_id=asn.id,
        actor=TESTER,
        operator=False,
        at=NOW + timedelta(minutes=4),
    )
    transfer = transfers.create_transfer(
        uow_factory=uow,
        tenant_id=tenant_id,
        source="WH",
        target="STORE",
        lines=[("BRAVO", 3)],
        actor=TESTER,
        at=NOW + timedelta(minutes=5),
    )
    transfers.ship_transfer(
        uow_factory=uow,
        tenant_id=tenant_id,
        transfer_id=transfer.id,
        actor=TESTER,
        operator=False,
        at=NOW + timedelta(minutes=6),
    )
    transfers.receive_transfer(
        uow_factory=uow,
        tenant_id=tenant_id,
        transfer_id=transfer.id,
        lines=[("BRAVO", 3)],
        actor=TESTER,
        operator=False,
        at=NOW + timedelta(minutes=7),
    )
    sheet = cycle_counts.create_count(
        uow_factory=uow,
        tenant_id=tenant_id,
        location="WH",
        skus=["ALPHA", "BRAVO"],
        actor=TESTER,
        operator=False,
        at=NOW + timedelta(minutes=8),
    )
    cycle_counts.record_counts(
        uow_factory=uow,
        tenant_id=tenant_id,
        sheet_id=sheet.id,
        counts=[("ALPHA", 7), ("BRAVO", 7)],
        operator=False,
    )
    cycle_counts.approve_count(
        uow_factory=uow,
        tenant_id=tenant_id,
        sheet_id=sheet.id,
        reason="weekly",
        actor=TESTER,
        operator=False,
        at=NOW + timedelta(minutes=9),
    )
    return {"po": po.id, "asn": asn.id, "transfer": transfer.id, "sheet": sheet.id}


def test_each_warehouse_step_makes_a_delivery_with_its_record(uow: SqlUnitOfWorkFactory) -> None:
    tenant, _ = create_tenant(uow_factory=uow, name="merchant")
    endpoints.create_endpoint(
        uow_factory=uow,
        tenant_id=tenant.id,
        url="http://127.0.0.1:9/hooks",
        event_types=list(MODEL),
        description="warehouse listener",
        check=AddressGuard(allow_private=True),
        at=NOW,
    )
    ids = _steps(uow, tenant.id)

    _fan_out(uow)

    events = _delivered_events(uow, tenant.id)
    assert [t for t, _ in events] == [
        "purchase_order.sent",
        "purchase_order.received",
        "inbound_shipment.received",
        "inbound_shipment.closed",
        "transfer.shipped",
        "transfer.received",
        "cycle_count.approved",
    ]
    for event_type, data in events:
        MODEL[event_type].model_validate(data)  # the documented shape, nothing more
    by_type = dict(events)
    sent, received = by_type["purchase_order.sent"], by_type["purchase_order.received"]
    assert sent["purchase_order_id"] == str(ids["po"])
    assert (sent["status"], sent["received"]) == ("sent", {})
    assert received["status"] == "partially_received"
    assert received["received"] == {"ALPHA": 4}
    assert received["lines"] == [{"sku": "ALPHA", "quantity": 6, "received": 4, "open_quantity": 2}]
    scan = by_type["inbound_shipment.received"]
    assert (scan["inbound_shipment_id"], scan["scan_id"]) == (str(ids["asn"]), "carton-1")
    assert [(ln["sku"], ln["condition"], ln["exceptions"]) for ln in scan["lines"]] == [
        ("ALPHA", "good", [{"kind": "over", "reason": "1 more than announced"}]),
        ("BRAVO", "damaged", [{"kind": "damaged", "reason": "crushed"}]),
    ]
    closed = by_type["inbound_shipment.closed"]
    assert closed["status"] == "closed"
    assert closed["cartons"] == []  # announced and scanned without cartons
    assert closed["lines"] == [
        {
            "sku": "ALPHA",
            "expected": 3,
            "received": 4,
            "damaged": 0,
            "variance": 1,
            "verdict": "over",
        },
        {
            "sku": "BRAVO",
            "expected": 2,
            "received": 1,
            "damaged": 1,
            "variance": -1,
            "verdict": "short",
        },
    ]
    shipped, arrived = by_type["transfer.shipped"], by_type["transfer.received"]
    assert (shipped["transfer_id"], shipped["from"], shipped["to"]) == (
        str(ids["transfer"]),
        "WH",
        "STORE",
    )
    assert shipped["lines"] == [{"sku": "BRAVO", "quantity": 3, "received": 0}]
    assert (arrived["status"], arrived["lines"][0]["received"]) == ("received", 3)
    count = by_type["cycle_count.approved"]
    # On hand when approved: ALPHA 4 (PO) + 4 (ASN) = 8, BRAVO 10 - 3 transferred = 7.
    assert count["cycle_count_id"] == str(ids["sheet"])
    assert count["reason"] == "weekly"
    assert [(ln["sku"], ln["counted"], ln["change"]) for ln in count["lines"]] == [
        ("ALPHA", 7, -1),
        ("BRAVO", 7, 0),
    ]


def test_an_endpoint_not_subscribed_to_warehouse_steps_gets_none(
    uow: SqlUnitOfWorkFactory,
) -> None:
    tenant, _ = create_tenant(uow_factory=uow, name="shop only")
    endpoints.create_endpoint(
        uow_factory=uow,
        tenant_id=tenant.id,
        url="http://127.0.0.1:9/orders",
        event_types=["order.created"],
        description="orders only",
        check=AddressGuard(allow_private=True),
        at=NOW,
    )
    _steps(uow, tenant.id)

    _fan_out(uow)

    assert _delivered_events(uow, tenant.id) == []


def test_the_closed_event_carries_each_cartons_variance(uow: SqlUnitOfWorkFactory) -> None:
    tenant, _ = create_tenant(uow_factory=uow, name="merchant by carton")
    endpoints.create_endpoint(
        uow_factory=uow,
        tenant_id=tenant.id,
        url="http://127.0.0.1:9/hooks",
        event_types=["inbound_shipment.closed"],
        description="closes only",
        check=AddressGuard(allow_private=True),
        at=NOW,
    )
    add_location(uow, tenant.id, "WH")
    for sku in ("ALPHA", "BRAVO"):
        add_product(uow, tenant.id, sku)
    asn = inbound.announce_shipment(
        uow_factory=uow,
        tenant_id=tenant.id,
        command=inbound.ShipmentAnnouncement(
            location="WH",
            reference="ASN-C",
            lines=[],
            cartons=[("C1", [("ALPHA", 3)]), ("C2", [("ALPHA", 1), ("BRAVO", 2)])],
        ),
        actor=TESTER,
        at=NOW,
    )
    for n, (carton, lines) in enumerate(
        [("C1", [inbound.ScanLine("ALPHA", 3)]), ("C2", [inbound.ScanLine("BRAVO", 3)])]
    ):
        inbound.receive_scan(
            uow_factory=uow,
            tenant_id=tenant.id,
            shipment_id=asn.id,
            lines=lines,
            actor=TESTER,
            operator=False,
            scan_id=f"scan-{n}",
            carton=carton,
            at=NOW + timedelta(minutes=n + 1),
        )
    inbound.close_shipment(
        uow_factory=uow,
        tenant_id=tenant.id,
        shipment_id=asn.id,
        actor=TESTER,
        operator=False,
        at=NOW + timedelta(minutes=5),
    )

    _fan_out(uow)

    [(event_type, closed)] = _delivered_events(uow, tenant.id)
    assert event_type == "inbound_shipment.closed"
    InboundClosedData.model_validate(closed)
    assert closed["cartons"] == [
        {
            "code": "C1",
            "expected": 3,
            "received": 3,
            "variance": 0,
            "verdict": "exact",
            "lines": [{"sku": "ALPHA", "expected": 3, "received": 3, "variance": 0}],
        },
        {
            "code": "C2",
            "expected": 3,
            "received": 3,
            "variance": 0,
            "verdict": "mixed",
            "lines": [
                {"sku": "ALPHA", "expected": 1, "received": 0, "variance": -1},
                {"sku": "BRAVO", "expected": 2, "received": 3, "variance": 1},
            ],
        },
    ]
