"""Cart reservations in memory (``CartRepository``): the records only; the stock they
hold is reserved and released through the inventory repository, as on SQL."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from oms.adapters.memory.tables import MemorySession
from oms.domain.carts import CartReservation, CartStatus

__all__ = ["MemoryCartRepository"]


class MemoryCartRepository:
    def __init__(self, session: MemorySession) -> None:
        self._session = session

    def add(self, tenant_id: UUID, cart: CartReservation) -> None:
        if (tenant_id, cart.id) in self._session.tables.carts:
            raise ValueError(f"cart reservation {cart.id} exists already")
        stored = replace(copy.deepcopy(cart), closed_at=None, order_id=None)
        stored.lines.sort(key=lambda ln: (ln.line_no, ln.sku, ln.location_id))
        self._session.write().carts[(tenant_id, cart.id)] = stored

    def get(
        self, tenant_id: UUID, cart_id: UUID, *, for_update: bool = False
    ) -> CartReservation | None:
        found = self._session.tables.carts.get((tenant_id, cart_id))
        return None if found is None else copy.deepcopy(found)

    def _due(self, tenant_id: UUID, now: datetime) -> list[CartReservation]:
        due = [
            cart
            for (t, _), cart in self._session.tables.carts.items()
            if t == tenant_id and cart.status is CartStatus.ACTIVE and cart.expires_at <= now
        ]
        return sorted(due, key=lambda c: (c.expires_at, c.id))

    def any_due(self, tenant_id: UUID, now: datetime) -> bool:
        return bool(self._due(tenant_id, now))

    def due(self, tenant_id: UUID, now: datetime, *, limit: int) -> list[CartReservation]:
        return [copy.deepcopy(c) for c in self._due(tenant_id, now)[:limit]]

    def close(
        self,
        tenant_id: UUID,
        cart_id: UUID,
        status: CartStatus,
        at: datetime,
        order_id: UUID | None = None,
    ) -> None:
        found = self._session.tables.carts.get((tenant_id, cart_id))
        if found is None or found.status is not CartStatus.ACTIVE:
            raise RuntimeError(f"cart reservation {cart_id} was not active")
        self._session.write().carts[(tenant_id, cart_id)] = replace(
            found, status=status, closed_at=at, order_id=order_id
        )
