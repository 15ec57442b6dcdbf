"""/v1/reservations: stock held for a checkout, given back by itself when its time is up."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response, status

from oms.api.deps import TenantId, UowDep, parse_uuid
from oms.api.one_hop import OneHopRoute
from oms.api.schemas.carts import ReservationCreate, ReservationRead
from oms.services import carts
from oms.services.common import utcnow

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1/reservations", tags=["reservations"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ReservationRead)
def create_reservation(
    body: ReservationCreate, tenant_id: TenantId, uow: UowDep, response: Response
) -> ReservationRead:
    """Hold every line's stock for ``ttl_seconds`` or refuse with 409; pass the id as an
    order's ``reservation_id`` to turn the hold into the order's allocation."""
    cart = carts.create_cart_reservation(
        uow_factory=uow,
        tenant_id=tenant_id,
        lines=[(line.sku, line.quantity) for line in body.lines],
        ttl=timedelta(seconds=body.ttl_seconds),
    )
    response.headers["Location"] = f"/v1/reservations/{cart.id}"
    return ReservationRead.of(cart, now=utcnow())


@router.get("/{reservation_id}", response_model=ReservationRead)
def get_reservation(reservation_id: str, tenant_id: TenantId, uow: UowDep) -> ReservationRead:
    cart = carts.get_cart_reservation(
        uow_factory=uow, tenant_id=tenant_id, cart_id=parse_uuid(reservation_id, "reservation")
    )
    return ReservationRead.of(cart, now=utcnow())


@router.post("/{reservation_id}/release", response_model=ReservationRead)
def release_reservation(reservation_id: str, tenant_id: TenantId, uow: UowDep) -> ReservationRead:
    """Give the stock back now (checkout abandoned); repeating it changes nothing."""
    cart = carts.release_cart_reservation(
        uow_factory=uow, tenant_id=tenant_id, cart_id=parse_uuid(reservation_id, "reservation")
    )
    return ReservationRead.of(cart, now=utcnow())
