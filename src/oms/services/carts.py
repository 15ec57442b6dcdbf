"""Cart reservations: hold stock for a checkout until it is ordered or its time runs out.

Expiry needs no background process: every use case that reads or takes stock first gives
back the stock of reservations whose time is up (``expire_due``), in its own transaction,
so what any reader sees never counts an expired hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from oms.domain.allocation import Demand
from oms.domain.carts import CartLine, CartReservation, CartStatus
from oms.domain.catalogue import ProductKind, order_line_refusal, unit_demand
from oms.domain.errors import (
    FieldError,
    IllegalTransition,
    InsufficientStock,
    InvalidRequest,
    NotFound,
    Shortage,
)
from oms.domain.ids import new_id
from oms.services.common import retry_transient, utcnow
from oms.services.ports import UnitOfWork, UnitOfWorkFactory
from oms.services.reservations import reserve_demands

__all__ = [
    "create_cart_reservation",
    "expire_due",
    "expire_due_in",
    "get_cart_reservation",
    "release_cart_reservation",
]

SWEEP_BATCH = 200


def expire_due_in(uow: UnitOfWork, tenant_id: UUID, now: datetime) -> int:
    """Give back the stock of every reservation past its time, inside ``uow``."""
    expired = 0
    while True:
        due = uow.carts.due(tenant_id, now, limit=SWEEP_BATCH)
        for cart in due:
            for line in sorted(cart.lines, key=lambda ln: (ln.sku, ln.location_id)):
                uow.inventory.release(tenant_id, line.sku, line.location_id, line.quantity, now)
            uow.carts.close(tenant_id, cart.id, CartStatus.EXPIRED, now)
        expired += len(due)
        if len(due) < SWEEP_BATCH:
            return expired


def expire_due(*, uow_factory: UnitOfWorkFactory, tenant_id: UUID, now: datetime) -> int:
    """Expire what is due, in a transaction of its own; cheap when nothing is."""
    with uow_factory(readonly=True) as uow:
        if not uow.carts.any_due(tenant_id, now):
            return 0

    def attempt() -> int:
        with uow_factory() as uow:
            count = expire_due_in(uow, tenant_id, now)
            uow.commit()
            return count

    return retry_transient(attempt)


def create_cart_reservation(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    lines: Sequence[tuple[str, int]],
    ttl: timedelta,
    at: datetime | None = None,
) -> CartReservation:
    """Hold stock for ``lines`` (SKU, quantity) for ``ttl``; all of it or none (409)."""
    now = at or utcnow()

    def attempt() -> CartReservation:
        with uow_factory() as uow:
            longest = timedelta(minutes=uow.tenants.policies(tenant_id).reservation_max_ttl_minutes)
            if not timedelta(seconds=1) <= ttl <= longest:
                raise InvalidRequest(
                    "The reservation time is out of range",
                    [FieldError("#/ttl_seconds", f"from 1 to {int(longest.total_seconds())}")],
                )
            expire_due_in(uow, tenant_id, now)
            products = uow.products.by_skus(tenant_id, [sku for sku, _ in lines])
            errors = [
                FieldError(f"#/lines/{i}/sku", refusal)
                for i, (sku, _) in enumerate(lines)
                if (refusal := order_line_refusal(products.get(sku), sku)) is not None
            ]
            if errors:
                raise InvalidRequest("The reservation cannot be made as given", errors)
            demands = [
                Demand(i + 1, quantity, unit_demand(products[sku]))
                for i, (sku, quantity) in enumerate(lines)
                if products[sku].kind is not ProductKind.DIGITAL
            ]
            locations = sorted(
                (loc for loc in uow.locations.visible_to(tenant_id) if loc.active and loc.can_ship),
                key=lambda loc: loc.preference,
            )
            held = reserve_demands(
                uow,
                tenant_id=tenant_id,
                demands=demands,
                locations=[loc.id for loc in locations],
                at=now,
            )
            if held.unfilled:
                raise InsufficientStock(
                    [
                        Shortage(
                            sku=lines[n - 1][0],
                            requested=lines[n - 1][1],
                            available=held.allocated_units.get(n, 0),
                        )
                        for n in sorted(held.unfilled)
                    ]
                )
            cart = CartReservation(
                id=new_id(),
                status=CartStatus.ACTIVE,
                expires_at=now + ttl,
                created_at=now,
                lines=[
                    CartLine(a.line_no, a.sku, a.location_id, a.quantity) for a in held.allocations
                ],
            )
            uow.carts.add(tenant_id, cart)
            uow.commit()
            return cart

    return retry_transient(attempt)


def get_cart_reservation(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, cart_id: UUID
) -> CartReservation:
    """One reservation; ``status_at(now)`` tells whether it still holds stock."""
    with uow_factory(readonly=True) as uow:
        cart = uow.carts.get(tenant_id, cart_id)
    if cart is None:
        raise NotFound(f"No reservation {cart_id}")
    return cart


def release_cart_reservation(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    cart_id: UUID,
    at: datetime | None = None,
) -> CartReservation:
    """Give the stock back now (the checkout was abandoned); releasing twice is harmless."""
    now = at or utcnow()

    def attempt() -> CartReservation:
        with uow_factory() as uow:
            cart = uow.carts.get(tenant_id, cart_id, for_update=True)
            if cart is None:
                raise NotFound(f"No reservation {cart_id}")
            if cart.status is CartStatus.ACTIVE:
                status = CartStatus.EXPIRED if now >= cart.expires_at else CartStatus.RELEASED
                for line in sorted(cart.lines, key=lambda ln: (ln.sku, ln.location_id)):
                    uow.inventory.release(tenant_id, line.sku, line.location_id, line.quantity, now)
                uow.carts.close(tenant_id, cart.id, status, now)
                cart.status, cart.closed_at = status, now
                uow.commit()
            elif cart.status is CartStatus.CONSUMED:
                raise IllegalTransition("This reservation became an order; cancel the order")
            return cart

    return retry_transient(attempt)
