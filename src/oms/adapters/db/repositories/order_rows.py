"""Mapping between order rows and the order aggregate (values to write, objects to read)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Row, select

from oms.adapters.db.tables import allocations, order_holds, order_lines, orders
from oms.domain.addresses import Address
from oms.domain.catalogue import ProductKind
from oms.domain.holds import Hold, HoldReason
from oms.domain.orders import Allocation, Customer, Order, OrderEvent, OrderLine
from oms.domain.payments import PaymentKind, PaymentOutcome, PaymentRecord
from oms.domain.pricing import DiscountCode, DiscountKind, OrderTotals
from oms.domain.risk import address_key
from oms.domain.status import FulfillmentStatus, OrderStatus, PaymentStatus

__all__ = [
    "StoredRows",
    "allocation_from_row",
    "allocation_values",
    "event_from_row",
    "event_values",
    "hold_from_row",
    "hold_values",
    "line_from_row",
    "line_values",
    "order_from_row",
    "order_values",
    "payment_from_row",
    "payment_values",
    "read_stored_rows",
]

_o = orders.c


def _code_snapshot(code: DiscountCode) -> dict[str, Any]:
    return {
        "id": str(code.id),
        "code": code.code,
        "kind": code.kind.value,
        "value": str(code.value),
        "currency": code.currency,
    }


def _code_from_snapshot(raw: dict[str, Any]) -> DiscountCode:
    return DiscountCode(
        id=UUID(raw["id"]),
        code=raw["code"],
        kind=DiscountKind(raw["kind"]),
        value=Decimal(raw["value"]),
        currency=raw.get("currency"),
    )


def order_values(order: Order) -> dict[str, Any]:
    totals = order.totals or order.reprice()
    return {
        "status": order.status.value,
        "fulfillment_status": order.fulfillment_status.value,
        "payment_status": order.payment_status.value,
        "subtotal": totals.subtotal,
        "discount_total": totals.discount_total,
        "shipping_total": totals.shipping,
        "shipping_discount": totals.shipping_discount,
        "tax_total": totals.tax_total,
        "total": totals.total,
        "shipping_price": order.shipping_price,
        "shipping_tax": order.shipping_tax,
        "discount_codes": [_code_snapshot(c) for c in order.discount_codes],
        "customer_id": order.customer_id,
        "risk": order.risk,
        "service_level": order.service_level,
        "routing": order.routing,
        "routing_profile_version": order.routing_profile_version,
        "promised_ship_by": order.promised_ship_by,
        "promised_deliver_by": order.promised_deliver_by,
        # An edit may change the address: it is written with every save.
        "shipping_address": None
        if order.shipping_address is None
        else order.shipping_address.to_dict(),
        "shipping_address_key": None
        if order.shipping_address is None
        else address_key(
            order.shipping_address.line1,
            order.shipping_address.postal_code,
            order.shipping_address.country,
        ),
        "version": order.version,
        "updated_at": order.updated_at or order.created_at,
        "released_at": order.released_at,
        "pickup_location_id": order.pickup_location_id,
    }


def line_values(order: Order, line: OrderLine) -> dict[str, Any]:
    return {
        "tenant_id": order.tenant_id,
        "order_id": order.id,
        "line_no": line.line_no,
        "sku": line.sku,
        "name": line.name,
        "kind": line.kind.value,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "discount": line.discount,
        "tax": line.tax,
        "allocated": line.allocated,
        "backordered": line.backordered,
        "shipped": line.shipped,
        "delivered": line.delivered,
        "cancelled": line.cancelled,
        "returned": line.returned,
    }


def allocation_values(order: Order, allocation: Allocation) -> dict[str, Any]:
    return {
        "tenant_id": order.tenant_id,
        "id": allocation.id,
        "order_id": order.id,
        "line_no": allocation.line_no,
        "sku": allocation.sku,
        "location_id": allocation.location_id,
        "quantity": allocation.quantity,
        "released": allocation.released,
        "fulfilled": allocation.fulfilled,
        "created_at": allocation.created_at or order.created_at,
    }


def hold_values(order: Order, hold: Hold) -> dict[str, Any]:
    return {
        "tenant_id": order.tenant_id,
        "id": hold.id,
        "order_id": order.id,
        "reason": hold.reason.value,
        "note": hold.note,
        "created_by": hold.created_by,
        "created_at": hold.created_at,
        "due_at": hold.due_at,
        "released_at": hold.released_at,
        "released_by": hold.released_by,
        "release_note": hold.release_note,
    }


def line_from_row(row: Row[Any]) -> OrderLine:
    return OrderLine(
        line_no=row.line_no,
        sku=row.sku,
        name=row.name,
        kind=ProductKind(row.kind),
        quantity=row.quantity,
        unit_price=row.unit_price,
        allocated=row.allocated,
        backordered=row.backordered,
        shipped=row.shipped,
        delivered=row.delivered,
        cancelled=row.cancelled,
        returned=row.returned,
        discount=row.discount,
        tax=row.tax,
    )


def allocation_from_row(row: Row[Any]) -> Allocation:
    """An allocation from its row joined with its location's ``location_code``."""
    return Allocation(
        id=row.id,
        line_no=row.line_no,
        sku=row.sku,
        location_id=row.location_id,
        quantity=row.quantity,
        released=row.released,
        fulfilled=row.fulfilled,
        created_at=row.created_at,
        location_code=row.location_code,
    )


def event_from_row(row: Row[Any]) -> OrderEvent:
    return OrderEvent(
        seq=row.seq,
        type=row.type,
        actor=row.actor,
        created_at=row.created_at,
        reason=row.reason,
        data=row.data,
    )


def hold_from_row(row: Row[Any]) -> Hold:
    return Hold(
        id=row.id,
        reason=HoldReason(row.reason),
        created_at=row.created_at,
        due_at=row.due_at,
        note=row.note,
        created_by=row.created_by,
        released_at=row.released_at,
        released_by=row.released_by,
        release_note=row.release_note,
    )


def payment_values(order: Order, record: PaymentRecord) -> dict[str, Any]:
    return {
        "tenant_id": order.tenant_id,
        "id": record.id,
        "order_id": order.id,
        "kind": record.kind.value,
        "amount": record.amount,
        "currency": record.currency,
        "outcome": record.outcome.value,
        "gateway": record.gateway,
        "gateway_reference": record.gateway_reference,
        "parent_id": record.parent_id,
        "expires_at": record.expires_at,
        "idempotency_key": record.idempotency_key,
        "message": record.message,
        "created_at": record.created_at,
        "return_id": record.return_id,
    }


def payment_from_row(row: Row[Any]) -> PaymentRecord:
    return PaymentRecord(
        id=row.id,
        kind=PaymentKind(row.kind),
        amount=row.amount,
        currency=row.currency,
        outcome=PaymentOutcome(row.outcome),
        gateway=row.gateway,
        gateway_reference=row.gateway_reference,
        created_at=row.created_at,
        parent_id=row.parent_id,
        expires_at=row.expires_at,
        idempotency_key=row.idempotency_key,
        message=row.message,
        return_id=row.return_id,
    )


def event_values(order: Order, event: OrderEvent) -> dict[str, Any]:
    return {
        "tenant_id": order.tenant_id,
        "order_id": order.id,
        "seq": event.seq,
        "type": event.type,
        "actor": event.actor,
        "reason": event.reason,
        "data": event.data,
        "created_at": event.created_at,
    }


def order_from_row(row: Row[Any]) -> Order:
    return Order(
        id=row.id,
        tenant_id=row.tenant_id,
        number=row.number,
        channel=row.channel,
        external_id=row.external_id,
        currency=row.currency,
        customer=Customer(
            email=row.customer_email, name=row.customer_name, phone=row.customer_phone
        ),
        shipping_address=None
        if row.shipping_address is None
        else Address.from_dict(row.shipping_address),
        billing_address=None
        if row.billing_address is None
        else Address.from_dict(row.billing_address),
        lines=[],
        created_at=row.created_at,
        updated_at=row.updated_at,
        allow_backorder=row.allow_backorder,
        tags=list(row.tags),
        note=row.note,
        duties_terms=row.duties_terms,
        version=row.version,
        status=OrderStatus(row.status),
        fulfillment_status=FulfillmentStatus(row.fulfillment_status),
        payment_status=PaymentStatus(row.payment_status),
        released_at=row.released_at,
        shipping_price=row.shipping_price,
        shipping_tax=row.shipping_tax,
        discount_codes=[_code_from_snapshot(c) for c in row.discount_codes or []],
        customer_id=row.customer_id,
        risk=row.risk,
        service_level=row.service_level,
        routing=row.routing,
        routing_profile_version=row.routing_profile_version,
        promised_ship_by=row.promised_ship_by,
        promised_deliver_by=row.promised_deliver_by,
        pickup_location_id=row.pickup_location_id,
        totals=OrderTotals(
            lines=(),
            subtotal=row.subtotal,
            discount_total=row.discount_total,
            shipping=row.shipping_total,
            shipping_discount=row.shipping_discount,
            tax_total=row.tax_total,
            total=row.total,
        ),
    )


@dataclass
class StoredRows:
    """An order's rows as the database holds them in this transaction."""

    lines: dict[int, dict[str, Any]]
    allocations: dict[UUID, tuple[int, int]]
    holds: dict[UUID, datetime | None]


def read_stored_rows(conn: Connection, order: Order) -> StoredRows:
    """What the database holds for an order read without ``for_update``."""
    ln, al, hc = order_lines.c, allocations.c, order_holds.c
    lines = {
        row.line_no: dict(row._mapping)
        for row in conn.execute(
            select(order_lines).where(ln.tenant_id == order.tenant_id, ln.order_id == order.id)
        )
    }
    stored_allocations = {
        row.id: (row.released, row.fulfilled)
        for row in conn.execute(
            select(al.id, al.released, al.fulfilled).where(
                al.tenant_id == order.tenant_id, al.order_id == order.id
            )
        )
    }
    holds = (
        {
            row.id: row.released_at
            for row in conn.execute(
                select(hc.id, hc.released_at).where(
                    hc.tenant_id == order.tenant_id, hc.order_id == order.id
                )
            )
        }
        if order.holds
        else {}
    )
    return StoredRows(lines, stored_allocations, holds)
