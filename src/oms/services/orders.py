"""Order intake (exactly once), reading, listing and cancelling."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from uuid import UUID

import uuid6

from oms.domain.addresses import Address
from oms.domain.allocation import Demand
from oms.domain.catalogue import Product, ProductKind, unit_demand
from oms.domain.errors import (
    FieldError,
    IdempotencyMismatch,
    InsufficientStock,
    InvalidRequest,
    NotFound,
    Shortage,
)
from oms.domain.money import is_known_currency, round_money
from oms.domain.orders import Actor, Customer, Order, OrderEvent, OrderLine
from oms.services.common import retry_transient, utcnow
from oms.services.ports import (
    IdempotencyRecord,
    OrderFilter,
    OutboxMessage,
    TransientStorageError,
    UnitOfWork,
    UnitOfWorkFactory,
)
from oms.services.reservations import reserve_demands

__all__ = [
    "LineRequest",
    "PlaceOrder",
    "PlacedOrder",
    "cancel_order",
    "get_order",
    "list_orders",
    "place_order",
]

PLACE_ORDER = "place_order"


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class PlaceOrder:
    currency: str
    lines: tuple[LineRequest, ...]
    channel: str = "api"
    external_id: str | None = None
    customer: Customer = field(default_factory=Customer)
    shipping_address: Address | None = None
    billing_address: Address | None = None
    allow_backorder: bool = True
    tags: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class PlacedOrder:
    """The order, and whether this call created it (False: an earlier copy is returned)."""

    order: Order
    created: bool


def _outbox(order: Order, events: Sequence[OrderEvent]) -> list[OutboxMessage]:
    return [
        OutboxMessage(
            topic=event.type,
            aggregate_id=order.id,
            payload={
                "order_id": str(order.id),
                "order_number": order.number,
                "event_seq": event.seq,
                "status": order.status.value,
                "fulfillment_status": order.fulfillment_status.value,
                "data": event.data,
            },
            created_at=event.created_at,
        )
        for event in events
    ]


def _build_lines(command: PlaceOrder, products: dict[str, Product]) -> list[OrderLine]:
    errors: list[FieldError] = []
    lines: list[OrderLine] = []
    for i, request in enumerate(command.lines):
        pointer = f"#/lines/{i}"
        product = products.get(request.sku)
        if product is None:
            errors.append(FieldError(f"{pointer}/sku", f"no product with SKU {request.sku!r}"))
            continue
        price = request.unit_price
        if price is None:
            if product.currency != command.currency:
                errors.append(
                    FieldError(
                        f"{pointer}/unit_price",
                        f"the product is priced in {product.currency}; give a unit_price "
                        f"in {command.currency}",
                    )
                )
                continue
            price = product.price
        lines.append(
            OrderLine(
                line_no=i + 1,
                sku=product.sku,
                name=product.name,
                kind=product.kind,
                quantity=request.quantity,
                unit_price=round_money(price, command.currency),
            )
        )
    if errors:
        raise InvalidRequest("The order cannot be placed as given", errors)
    return lines


def _replay(
    uow: UnitOfWork, tenant_id: UUID, record: IdempotencyRecord, fingerprint: str
) -> PlacedOrder:
    if record.operation != PLACE_ORDER or record.fingerprint != fingerprint:
        raise IdempotencyMismatch(
            "This Idempotency-Key was used with a different request", key=record.key
        )
    if record.resource_id is None:
        raise TransientStorageError("idempotency key claimed but not yet attached")
    order = uow.orders.get(tenant_id, record.resource_id)
    if order is None:
        raise TransientStorageError("idempotent order not visible yet")
    return PlacedOrder(order=order, created=False)


def _place_once(
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    command: PlaceOrder,
    actor: Actor,
    idempotency_key: str | None,
    fingerprint: str,
    at: datetime,
) -> PlacedOrder:
    with uow_factory() as uow:
        if idempotency_key is not None:
            record = uow.idempotency.get(tenant_id, idempotency_key)
            if record is not None:
                return _replay(uow, tenant_id, record, fingerprint)
        if command.external_id is not None:
            existing_id = uow.orders.id_by_external_id(
                tenant_id, command.channel, command.external_id
            )
            if existing_id is not None:
                existing = uow.orders.get(tenant_id, existing_id)
                assert existing is not None
                return PlacedOrder(order=existing, created=False)
        if idempotency_key is not None and not uow.idempotency.claim(
            tenant_id, idempotency_key, operation=PLACE_ORDER, fingerprint=fingerprint, at=at
        ):
            # Another request with this key committed while we waited for its row.
            record = uow.idempotency.get(tenant_id, idempotency_key)
            if record is None:
                raise TransientStorageError("idempotency key vanished")
            return _replay(uow, tenant_id, record, fingerprint)

        products = uow.products.by_skus(tenant_id, [line.sku for line in command.lines])
        lines = _build_lines(command, products)
        demands = [
            Demand(line.line_no, line.quantity, unit_demand(products[line.sku]))
            for line in lines
            if line.kind is not ProductKind.DIGITAL
        ]
        locations = sorted(
            (loc for loc in uow.locations.visible_to(tenant_id) if loc.active and loc.can_ship),
            key=lambda loc: loc.preference,
        )
        reserved = reserve_demands(
            uow,
            tenant_id=tenant_id,
            demands=demands,
            locations=[loc.id for loc in locations],
            at=at,
        )
        if reserved.unfilled and not command.allow_backorder:
            raise InsufficientStock(
                [
                    Shortage(
                        sku=lines[n - 1].sku,
                        requested=lines[n - 1].quantity,
                        available=reserved.allocated_units.get(n, 0),
                    )
                    for n in sorted(reserved.unfilled)
                ]
            )
        for line in lines:
            if line.kind is ProductKind.DIGITAL:
                line.allocated = line.quantity  # delivered by link, no stock to hold
            else:
                line.allocated = reserved.allocated_units.get(line.line_no, 0)
                line.backordered = reserved.unfilled.get(line.line_no, 0)

        order = Order(
            id=uuid6.uuid7(),
            tenant_id=tenant_id,
            number=uow.tenants.next_order_number(tenant_id),
            channel=command.channel,
            external_id=command.external_id,
            currency=command.currency,
            customer=command.customer,
            shipping_address=command.shipping_address,
            billing_address=command.billing_address,
            lines=lines,
            allocations=reserved.allocations,
            created_at=at,
            updated_at=at,
            allow_backorder=command.allow_backorder,
            tags=list(command.tags),
            note=command.note,
        )
        order.refresh_statuses()
        code_of = {loc.id: loc.code for loc in locations}
        for allocation in reserved.allocations:
            allocation.location_code = code_of[allocation.location_id]
        order.record(
            "order.placed",
            actor=actor,
            at=at,
            data={
                "channel": command.channel,
                "external_id": command.external_id,
                "allocations": [
                    {
                        "line_no": a.line_no,
                        "sku": a.sku,
                        "location": code_of[a.location_id],
                        "quantity": a.quantity,
                    }
                    for a in order.allocations
                ],
                "backordered": {str(n): q for n, q in sorted(reserved.unfilled.items())},
            },
        )
        events = list(order.new_events)
        if not uow.orders.add(order):
            # A copy with the same external id committed after our check: start over to
            # return it; this transaction (and its reservations) is rolled back.
            raise TransientStorageError("duplicate external id raced")
        if idempotency_key is not None:
            uow.idempotency.attach(tenant_id, idempotency_key, order.id)
        uow.outbox.add_many(tenant_id, _outbox(order, events))
        uow.commit()
        return PlacedOrder(order=order, created=True)


def place_order(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    command: PlaceOrder,
    actor: Actor,
    idempotency_key: str | None = None,
    fingerprint: str = "",
    at: datetime | None = None,
) -> PlacedOrder:
    """Take an order exactly once: validate, reserve stock, number it, record it.

    The same ``(channel, external_id)`` or ``idempotency_key`` returns the first order,
    also when the copies arrive together; the same key with another ``fingerprint`` is
    refused. With ``allow_backorder`` false and stock short, nothing is written.
    """
    if not is_known_currency(command.currency):
        raise InvalidRequest(
            "Unknown currency", [FieldError("#/currency", f"{command.currency!r} is not ISO 4217")]
        )
    when = at or utcnow()
    return retry_transient(
        lambda: _place_once(
            uow_factory, tenant_id, command, actor, idempotency_key, fingerprint, when
        )
    )


def get_order(*, uow_factory: UnitOfWorkFactory, tenant_id: UUID, order_id: UUID) -> Order:
    """One order with lines, allocations and timeline."""
    with uow_factory(readonly=True) as uow:
        order = uow.orders.get(tenant_id, order_id)
    if order is None:
        raise NotFound(f"No order {order_id}")
    return order


def list_orders(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    filters: OrderFilter,
    before_id: UUID | None,
    limit: int,
) -> list[Order]:
    """A page of orders, newest first."""
    with uow_factory(readonly=True) as uow:
        return uow.orders.page(tenant_id, filters=filters, before_id=before_id, limit=limit)


def _cancel_once(
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    order_id: UUID,
    actor: Actor,
    reason: str | None,
    at: datetime,
) -> Order:
    with uow_factory() as uow:
        order = uow.orders.get(tenant_id, order_id, for_update=True)
        if order is None:
            raise NotFound(f"No order {order_id}")
        released = order.cancel(actor=actor, at=at, reason=reason)
        if not order.new_events:
            return order
        for allocation in sorted(released, key=lambda a: (a.sku, a.location_id)):
            uow.inventory.release(
                tenant_id, allocation.sku, allocation.location_id, allocation.quantity, at
            )
        order.version += 1
        order.updated_at = at
        events = list(order.new_events)
        uow.orders.save(order)
        uow.outbox.add_many(tenant_id, _outbox(order, events))
        uow.commit()
        return order


def cancel_order(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    order_id: UUID,
    actor: Actor,
    reason: str | None = None,
    at: datetime | None = None,
) -> Order:
    """Cancel what has not shipped and release its stock; cancelling twice is harmless."""
    when = at or utcnow()
    return retry_transient(
        lambda: _cancel_once(uow_factory, tenant_id, order_id, actor, reason, when)
    )
