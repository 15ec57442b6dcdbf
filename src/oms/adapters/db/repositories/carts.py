"""Cart reservations and the stock they hold."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Integer, Row, bindparam, insert, select, update

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.tables import cart_reservation_lines, cart_reservations
from oms.domain.carts import CartLine, CartReservation, CartStatus

__all__ = ["SqlCartRepository"]

_c = cart_reservations.c
_l = cart_reservation_lines.c
# Asked by every order intake: built once, parameters bound at execution.
_DUE = (
    select(cart_reservations)
    .where(
        _c.tenant_id == bindparam("p_tenant_id", type_=_c.tenant_id.type),
        _c.status == CartStatus.ACTIVE.value,
        _c.expires_at <= bindparam("p_now", type_=_c.expires_at.type),
    )
    .order_by(_c.expires_at, _c.id)
    .limit(bindparam("p_limit", type_=Integer))
)
# On PostgreSQL through the driver: asked by every batch of an import (and every order
# intake that sweeps), nearly always answering no row, where SQLAlchemy's execution would
# cost the client more than the server's index probe.
_DUE_SKIP_LOCKED = DriverStatement(_DUE.with_for_update(skip_locked=True), portable=_DUE)


# Asked before every batch of an inventory import is read (and by the sweeps elsewhere).
_ANY_DUE = DriverStatement(
    select(_c.id)
    .where(
        _c.tenant_id == bindparam("p_tenant_id", type_=_c.tenant_id.type),
        _c.status == CartStatus.ACTIVE.value,
        _c.expires_at <= bindparam("p_now", type_=_c.expires_at.type),
    )
    .limit(1)
)


def _cart(row: Row[Any]) -> CartReservation:
    return CartReservation(
        id=row.id,
        status=CartStatus(row.status),
        expires_at=row.expires_at,
        created_at=row.created_at,
        closed_at=row.closed_at,
        order_id=row.order_id,
    )


class SqlCartRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, tenant_id: UUID, cart: CartReservation) -> None:
        self._conn.execute(
            insert(cart_reservations).values(
                tenant_id=tenant_id,
                id=cart.id,
                status=cart.status.value,
                expires_at=cart.expires_at,
                created_at=cart.created_at,
                closed_at=None,
                order_id=None,
            )
        )
        if cart.lines:
            self._conn.execute(
                insert(cart_reservation_lines),
                [
                    {
                        "tenant_id": tenant_id,
                        "reservation_id": cart.id,
                        "line_no": line.line_no,
                        "sku": line.sku,
                        "location_id": line.location_id,
                        "quantity": line.quantity,
                    }
                    for line in cart.lines
                ],
            )

    def _with_lines(self, tenant_id: UUID, carts: list[CartReservation]) -> list[CartReservation]:
        if not carts:
            return carts
        by_id = {cart.id: cart for cart in carts}
        rows = self._conn.execute(
            select(cart_reservation_lines)
            .where(_l.tenant_id == tenant_id, _l.reservation_id.in_(list(by_id)))
            .order_by(_l.reservation_id, _l.line_no, _l.sku, _l.location_id)
        )
        for row in rows:
            by_id[row.reservation_id].lines.append(
                CartLine(row.line_no, row.sku, row.location_id, row.quantity)
            )
        return carts

    def get(
        self, tenant_id: UUID, cart_id: UUID, *, for_update: bool = False
    ) -> CartReservation | None:
        query = select(cart_reservations).where(_c.tenant_id == tenant_id, _c.id == cart_id)
        if for_update:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return None if row is None else self._with_lines(tenant_id, [_cart(row)])[0]

    def any_due(self, tenant_id: UUID, now: datetime) -> bool:
        found = _ANY_DUE.first(self._conn, {"p_tenant_id": tenant_id, "p_now": now})
        return found is not None

    def due(self, tenant_id: UUID, now: datetime, *, limit: int) -> list[CartReservation]:
        rows = _DUE_SKIP_LOCKED.rows(
            self._conn, {"p_tenant_id": tenant_id, "p_now": now, "p_limit": limit}
        )
        return self._with_lines(tenant_id, [_cart(row) for row in rows])

    def close(
        self,
        tenant_id: UUID,
        cart_id: UUID,
        status: CartStatus,
        at: datetime,
        order_id: UUID | None = None,
    ) -> None:
        done = self._conn.execute(
            update(cart_reservations)
            .where(
                _c.tenant_id == tenant_id,
                _c.id == cart_id,
                _c.status == CartStatus.ACTIVE.value,
            )
            .values(status=status.value, closed_at=at, order_id=order_id)
            .returning(_c.id)
        ).first()
        if done is None:
            raise RuntimeError(f"cart reservation {cart_id} was not active")
