"""Orders with their lines, allocations and timeline."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Row, func, insert, select, update

from oms.adapters.db.repositories.support import insert_if_absent
from oms.adapters.db.tables import (
    allocations,
    locations,
    order_events,
    order_holds,
    order_lines,
    orders,
    payments,
)
from oms.domain.addresses import Address
from oms.domain.catalogue import ProductKind
from oms.domain.holds import Hold, HoldReason
from oms.domain.orders import Allocation, Customer, Order, OrderEvent, OrderLine
from oms.domain.payments import PaymentKind, PaymentOutcome, PaymentRecord
from oms.domain.pricing import DiscountCode, DiscountKind, OrderTotals
from oms.domain.risk import address_key
from oms.domain.status import FulfillmentStatus, OrderStatus, PaymentStatus
from oms.services.ports import OrderFilter, QueuedHold

__all__ = ["SqlOrderRepository"]

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


def _order_values(order: Order) -> dict[str, Any]:
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
    }


def _line_values(order: Order, line: OrderLine) -> dict[str, Any]:
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


def _allocation_values(order: Order, allocation: Allocation) -> dict[str, Any]:
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


def _hold_values(order: Order, hold: Hold) -> dict[str, Any]:
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


def _payment_values(order: Order, record: PaymentRecord) -> dict[str, Any]:
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
    }


def _payment(row: Row[Any]) -> PaymentRecord:
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
    )


def _event_values(order: Order, event: OrderEvent) -> dict[str, Any]:
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


def _order(row: Row[Any]) -> Order:
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


class SqlOrderRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, order: Order) -> bool:
        """Insert the whole order; False (and nothing written) when its external id exists."""
        values = {
            "tenant_id": order.tenant_id,
            "id": order.id,
            "number": order.number,
            "channel": order.channel,
            "external_id": order.external_id,
            "currency": order.currency,
            "customer_email": order.customer.email,
            "customer_name": order.customer.name,
            "customer_phone": order.customer.phone,
            "shipping_address": None
            if order.shipping_address is None
            else order.shipping_address.to_dict(),
            "billing_address": None
            if order.billing_address is None
            else order.billing_address.to_dict(),
            "allow_backorder": order.allow_backorder,
            "tags": order.tags,
            "note": order.note,
            "created_at": order.created_at,
            **_order_values(order),
        }
        if not insert_if_absent(self._conn, orders, values):
            return False
        self._conn.execute(insert(order_lines), [_line_values(order, line) for line in order.lines])
        if order.allocations:
            self._conn.execute(
                insert(allocations), [_allocation_values(order, a) for a in order.allocations]
            )
        self._save_holds(order)
        self._insert_new_payments(order)
        self._insert_new_events(order)
        return True

    def _insert_new_payments(self, order: Order) -> None:
        if order.new_payments:
            self._conn.execute(
                insert(payments), [_payment_values(order, p) for p in order.new_payments]
            )
            order.new_payments.clear()

    def _save_holds(self, order: Order) -> None:
        """Upsert holds: new ones are inserted, released ones updated."""
        hc = order_holds.c
        stored = (
            {
                row.id: row.released_at
                for row in self._conn.execute(
                    select(hc.id, hc.released_at).where(
                        hc.tenant_id == order.tenant_id, hc.order_id == order.id
                    )
                )
            }
            if order.holds
            else {}
        )
        for hold in order.holds:
            if hold.id not in stored:
                self._conn.execute(insert(order_holds).values(**_hold_values(order, hold)))
            elif stored[hold.id] is None and hold.released_at is not None:
                self._conn.execute(
                    update(order_holds)
                    .where(hc.tenant_id == order.tenant_id, hc.id == hold.id)
                    .values(
                        released_at=hold.released_at,
                        released_by=hold.released_by,
                        release_note=hold.release_note,
                    )
                )

    def _insert_new_events(self, order: Order) -> None:
        if order.new_events:
            self._conn.execute(
                insert(order_events), [_event_values(order, e) for e in order.new_events]
            )
            order.new_events.clear()

    def save(self, order: Order) -> None:
        """Write back statuses, line quantities, allocations and new events."""
        self._conn.execute(
            update(orders)
            .where(_o.tenant_id == order.tenant_id, _o.id == order.id)
            .values(**_order_values(order))
        )
        ln = order_lines.c
        for line in order.lines:
            self._conn.execute(
                update(order_lines)
                .where(
                    ln.tenant_id == order.tenant_id,
                    ln.order_id == order.id,
                    ln.line_no == line.line_no,
                )
                .values(
                    allocated=line.allocated,
                    backordered=line.backordered,
                    shipped=line.shipped,
                    delivered=line.delivered,
                    cancelled=line.cancelled,
                    returned=line.returned,
                )
            )
        al = allocations.c
        for allocation in order.allocations:
            self._conn.execute(
                update(allocations)
                .where(al.tenant_id == order.tenant_id, al.id == allocation.id)
                .values(released=allocation.released, fulfilled=allocation.fulfilled)
            )
        self._save_holds(order)
        self._insert_new_payments(order)
        self._insert_new_events(order)

    def get(
        self,
        tenant_id: UUID,
        order_id: UUID,
        *,
        with_events: bool = True,
        for_update: bool = False,
    ) -> Order | None:
        query = select(orders).where(_o.tenant_id == tenant_id, _o.id == order_id)
        if for_update:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        if row is None:
            return None
        order = _order(row)
        self._load_children([order], with_events=with_events)
        return order

    def id_by_external_id(self, tenant_id: UUID, channel: str, external_id: str) -> UUID | None:
        found: UUID | None = self._conn.scalar(
            select(_o.id).where(
                _o.tenant_id == tenant_id, _o.channel == channel, _o.external_id == external_id
            )
        )
        return found

    def page(
        self, tenant_id: UUID, *, filters: OrderFilter, before_id: UUID | None, limit: int
    ) -> list[Order]:
        query = select(orders).where(_o.tenant_id == tenant_id)
        if filters.status:
            query = query.where(_o.status == filters.status)
        if filters.channel:
            query = query.where(_o.channel == filters.channel)
        if filters.customer_email:
            query = query.where(_o.customer_email == filters.customer_email)
        if filters.created_from:
            query = query.where(_o.created_at >= filters.created_from)
        if filters.created_to:
            query = query.where(_o.created_at < filters.created_to)
        if before_id is not None:
            query = query.where(_o.id < before_id)
        rows = self._conn.execute(query.order_by(_o.id.desc()).limit(limit))
        found = [_order(row) for row in rows]
        self._load_children(found, with_events=False)
        return found

    def count_recent(
        self, tenant_id: UUID, *, email: str | None, address: str | None, since: datetime
    ) -> int:
        """Orders since ``since`` from one email or to one address (risk velocity)."""
        query = (
            select(func.count())
            .select_from(orders)
            .where(_o.tenant_id == tenant_id, _o.created_at >= since)
        )
        if email is not None:
            query = query.where(_o.customer_email == email)
        if address is not None:
            query = query.where(_o.shipping_address_key == address)
        return int(self._conn.scalar(query) or 0)

    def open_holds_page(
        self, tenant_id: UUID, *, reason: HoldReason | None, after_id: UUID | None, limit: int
    ) -> list[QueuedHold]:
        hc = order_holds.c
        query = (
            select(order_holds, _o.number.label("order_number"))
            .join(orders, (_o.tenant_id == hc.tenant_id) & (_o.id == hc.order_id))
            .where(hc.tenant_id == tenant_id, hc.released_at.is_(None))
        )
        if reason is not None:
            query = query.where(hc.reason == reason.value)
        if after_id is not None:
            query = query.where(hc.id > after_id)
        rows = self._conn.execute(query.order_by(hc.id).limit(limit))
        return [
            QueuedHold(
                hold=hold_from_row(row), order_id=row.order_id, order_number=row.order_number
            )
            for row in rows
        ]

    def _load_children(self, found: list[Order], *, with_events: bool) -> None:
        if not found:
            return
        tenant_id = found[0].tenant_id
        by_id = {order.id: order for order in found}
        ids = list(by_id)
        ln = order_lines.c
        for row in self._conn.execute(
            select(order_lines)
            .where(ln.tenant_id == tenant_id, ln.order_id.in_(ids))
            .order_by(ln.order_id, ln.line_no)
        ):
            by_id[row.order_id].lines.append(
                OrderLine(
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
            )
        al = allocations.c
        for row in self._conn.execute(
            select(allocations, locations.c.code.label("location_code"))
            .join(locations, locations.c.id == al.location_id)
            .where(al.tenant_id == tenant_id, al.order_id.in_(ids))
            .order_by(al.order_id, al.line_no, al.sku, al.location_id)
        ):
            by_id[row.order_id].allocations.append(
                Allocation(
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
            )
        pc = payments.c
        for row in self._conn.execute(
            select(payments)
            .where(pc.tenant_id == tenant_id, pc.order_id.in_(ids))
            .order_by(pc.order_id, pc.created_at, pc.id)
        ):
            by_id[row.order_id].payments.append(_payment(row))
        hc = order_holds.c
        for row in self._conn.execute(
            select(order_holds)
            .where(hc.tenant_id == tenant_id, hc.order_id.in_(ids))
            .order_by(hc.order_id, hc.created_at, hc.id)
        ):
            by_id[row.order_id].holds.append(hold_from_row(row))
        if not with_events:
            return
        ev = order_events.c
        grouped: dict[UUID, list[OrderEvent]] = defaultdict(list)
        for row in self._conn.execute(
            select(order_events)
            .where(ev.tenant_id == tenant_id, ev.order_id.in_(ids))
            .order_by(ev.order_id, ev.seq)
        ):
            grouped[row.order_id].append(
                OrderEvent(
                    seq=row.seq,
                    type=row.type,
                    actor=row.actor,
                    created_at=row.created_at,
                    reason=row.reason,
                    data=row.data,
                )
            )
        for order_id, events in grouped.items():
            by_id[order_id].events = events
