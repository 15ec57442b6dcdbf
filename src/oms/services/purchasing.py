"""Suppliers and purchase orders: draft, send, receive (a ``receipt`` movement per line),
cancel; open quantities are incoming supply (``oms.services.incoming``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from oms.domain.catalogue import Location
from oms.domain.errors import FieldError, Forbidden, IllegalTransition, InvalidRequest, NotFound
from oms.domain.ids import new_id
from oms.domain.inbound import (
    OPEN_PO_STATUSES,
    PoStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
    po_status,
)
from oms.domain.money import is_known_currency, minor_unit_problem
from oms.domain.orders import Actor
from oms.services.common import utcnow
from oms.services.inventory import _location_by_code
from oms.services.payments import GatewayProvider
from oms.services.ports import OutboxMessage, UnitOfWork, UnitOfWorkFactory
from oms.services.receiving import receive_into_stock
from oms.services.rerouting import allocate_backorders
from oms.services.routing import Geocoder

__all__ = [
    "PoLineInput",
    "PurchaseOrderCreate",
    "ReceiptLine",
    "SupplierCreate",
    "cancel_purchase_order",
    "create_purchase_order",
    "create_supplier",
    "ensure_may_receive",
    "get_purchase_order",
    "list_purchase_orders",
    "list_suppliers",
    "receive_purchase_order",
    "send_purchase_order",
]


@dataclass(frozen=True)
class SupplierCreate:
    name: str
    lead_time_days: int
    moq: int
    pack_size: int
    currency: str


@dataclass(frozen=True)
class PoLineInput:
    sku: str
    quantity: int
    unit_cost: Decimal


@dataclass(frozen=True)
class PurchaseOrderCreate:
    supplier_id: UUID
    location: str
    expected_at: date
    lines: Sequence[PoLineInput]


@dataclass(frozen=True)
class ReceiptLine:
    sku: str
    quantity: int


def create_supplier(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    command: SupplierCreate,
    at: datetime | None = None,
) -> Supplier:
    """Add a supplier of the tenant."""
    if not is_known_currency(command.currency):
        raise InvalidRequest(
            "Unknown currency", [FieldError("#/currency", f"{command.currency!r} is not ISO 4217")]
        )
    supplier = Supplier(
        id=new_id(),
        tenant_id=tenant_id,
        name=command.name,
        lead_time_days=command.lead_time_days,
        moq=command.moq,
        pack_size=command.pack_size,
        currency=command.currency,
        created_at=at or utcnow(),
    )
    with uow_factory() as uow:
        uow.inbound.add_supplier(supplier)
        uow.commit()
    return supplier


def list_suppliers(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, after_id: UUID | None, limit: int
) -> list[Supplier]:
    """A page of the tenant's suppliers, by id."""
    with uow_factory(readonly=True) as uow:
        return uow.inbound.suppliers(tenant_id, after_id=after_id, limit=limit)


def _check_lines(
    uow: UnitOfWork, tenant_id: UUID, supplier: Supplier, lines: Sequence[PoLineInput]
) -> None:
    if not lines:
        raise InvalidRequest("A purchase order needs lines", [FieldError("#/lines", "empty")])
    products = uow.products.by_skus(tenant_id, [line.sku for line in lines])
    seen: set[str] = set()
    problems = []
    for n, line in enumerate(lines):
        at = f"#/lines/{n}"
        product = products.get(line.sku)
        if product is None:
            problems.append(FieldError(f"{at}/sku", f"no product with SKU {line.sku!r}"))
        elif not product.holds_stock:
            problems.append(FieldError(f"{at}/sku", f"{product.kind.value} products hold no stock"))
        if line.sku in seen:
            problems.append(FieldError(f"{at}/sku", "each SKU once per purchase order"))
        seen.add(line.sku)
        if line.quantity < supplier.moq:
            problems.append(
                FieldError(f"{at}/quantity", f"below the supplier's minimum of {supplier.moq}")
            )
        elif line.quantity % supplier.pack_size:
            problems.append(
                FieldError(
                    f"{at}/quantity", f"not a multiple of the pack size {supplier.pack_size}"
                )
            )
        if line.unit_cost < 0:
            problems.append(FieldError(f"{at}/unit_cost", "cannot be negative"))
        elif (finer := minor_unit_problem(line.unit_cost, supplier.currency)) is not None:
            problems.append(FieldError(f"{at}/unit_cost", finer))
    if problems:
        raise InvalidRequest("The purchase order's lines are not valid", problems)


def create_purchase_order(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    command: PurchaseOrderCreate,
    actor: Actor,
    at: datetime | None = None,
) -> PurchaseOrder:
    """A draft purchase order to one of the tenant's suppliers, for one location."""
    at = at or utcnow()
    with uow_factory() as uow:
        supplier = uow.inbound.supplier(tenant_id, command.supplier_id)
        if supplier is None:
            raise InvalidRequest(
                "Unknown supplier", [FieldError("#/supplier_id", "no such supplier")]
            )
        location = _location_by_code(uow, tenant_id, command.location)
        _check_lines(uow, tenant_id, supplier, command.lines)
        po = PurchaseOrder(
            id=new_id(),
            tenant_id=tenant_id,
            supplier_id=supplier.id,
            location_id=location.id,
            location_code=location.code,
            expected_at=command.expected_at,
            lines=[
                PurchaseOrderLine(n, line.sku, line.quantity, line.unit_cost)
                for n, line in enumerate(command.lines, start=1)
            ],
            created_at=at,
            currency=supplier.currency,
        )
        uow.inbound.add_purchase_order(po, actor=str(actor))
        uow.commit()
    return po


def get_purchase_order(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, po_id: UUID
) -> PurchaseOrder:
    with uow_factory(readonly=True) as uow:
        po = uow.inbound.purchase_order(tenant_id, po_id)
    if po is None:
        raise NotFound("No such purchase order")
    return po


def list_purchase_orders(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID | None, after_id: UUID | None, limit: int
) -> list[PurchaseOrder]:
    """A page of purchase orders by id: the tenant's, or (None, the operator) everyone's."""
    with uow_factory(readonly=True) as uow:
        return uow.inbound.purchase_orders(tenant_id, after_id=after_id, limit=limit)


def _locked(uow: UnitOfWork, tenant_id: UUID, po_id: UUID) -> PurchaseOrder:
    po = uow.inbound.purchase_order(tenant_id, po_id, for_update=True)
    if po is None:
        raise NotFound("No such purchase order")
    return po


def _event(topic: str, po: PurchaseOrder, at: datetime, **extra: object) -> OutboxMessage:
    return OutboxMessage(
        topic=topic,
        aggregate_id=po.id,
        payload={
            "purchase_order_id": str(po.id),
            "supplier_id": str(po.supplier_id),
            "status": po.status.value,
            "location": po.location_code,
            "expected_at": po.expected_at.isoformat(),
            "lines": [
                {
                    "sku": ln.sku,
                    "quantity": ln.quantity,
                    "received": ln.received,
                    "open_quantity": ln.open_quantity,
                }
                for ln in po.lines
            ],
            **extra,
        },
        created_at=at,
    )


def send_purchase_order(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, po_id: UUID, at: datetime | None = None
) -> PurchaseOrder:
    """Draft to sent: its open quantities count as incoming supply from now on."""
    at = at or utcnow()
    with uow_factory() as uow:
        po = _locked(uow, tenant_id, po_id)
        if po.status is not PoStatus.DRAFT:
            raise IllegalTransition(f"A {po.status.value} purchase order cannot be sent")
        po.sent_at = at
        po.status = po_status(sent=True, cancelled=False, lines=po.lines)
        uow.inbound.save_purchase_order(po)
        uow.outbox.add_many(tenant_id, [_event("purchase_order.sent", po, at, received={})])
        uow.commit()
    return po


def cancel_purchase_order(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, po_id: UUID, at: datetime | None = None
) -> PurchaseOrder:
    """Cancel a purchase order nothing has been received on."""
    at = at or utcnow()
    with uow_factory() as uow:
        po = _locked(uow, tenant_id, po_id)
        if po.status not in (PoStatus.DRAFT, PoStatus.SENT):
            raise IllegalTransition(f"A {po.status.value} purchase order cannot be cancelled")
        po.status = PoStatus.CANCELLED
        uow.inbound.save_purchase_order(po)
        uow.commit()
    return po


def ensure_may_receive(location: Location, *, operator: bool) -> None:
    """Only the operator receives into its own warehouses; a merchant announces (403)."""
    if location.owner_tenant_id is None and not operator:
        raise Forbidden(
            f"{location.code} is the operator's warehouse: a merchant announces stock there, "
            "the operator receives it"
        )


def receive_purchase_order(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    po_id: UUID,
    lines: Sequence[ReceiptLine],
    actor: Actor,
    operator: bool,
    at: datetime | None = None,
    geocoder: Geocoder | None = None,
    gateways: GatewayProvider | None = None,
) -> PurchaseOrder:
    """Receive units of a sent purchase order at its location (``receipt`` movements), then
    route the backorders waiting for those SKUs, earliest promise first."""
    at = at or utcnow()
    if not lines or any(line.quantity <= 0 for line in lines):
        raise InvalidRequest(
            "Receive at least one unit per line", [FieldError("#/lines", "quantities must be > 0")]
        )
    with uow_factory() as uow:
        po = _locked(uow, tenant_id, po_id)
        if po.status not in OPEN_PO_STATUSES:
            raise IllegalTransition(f"A {po.status.value} purchase order cannot be received")
        location = uow.locations.get(po.location_id)
        assert location is not None
        ensure_may_receive(location, operator=operator)
        problems = [
            FieldError(f"#/lines/{n}/sku", f"{line.sku!r} is not on this purchase order")
            for n, line in enumerate(lines)
            if po.line_for(line.sku) is None
        ]
        if problems:
            raise InvalidRequest("Unknown lines", problems)
        for line in sorted(lines, key=lambda ln: ln.sku):
            po_line = po.line_for(line.sku)
            assert po_line is not None
            po_line.received += line.quantity
            receive_into_stock(
                uow,
                tenant_id,
                sku=line.sku,
                location_id=po.location_id,
                quantity=line.quantity,
                reason=f"purchase order {po.id}",
                reference=str(po.id),
                actor=str(actor),
                at=at,
            )
        po.status = po_status(sent=True, cancelled=False, lines=po.lines)
        uow.inbound.save_purchase_order(po)
        uow.outbox.add_many(
            tenant_id,
            [
                _event(
                    "purchase_order.received",
                    po,
                    at,
                    received={line.sku: line.quantity for line in lines},
                )
            ],
        )
        uow.commit()
    allocate_backorders(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        skus=sorted({line.sku for line in lines}),
        geocoder=geocoder,
        gateways=gateways,
        at=at,
    )
    return po
