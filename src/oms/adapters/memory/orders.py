"""Orders in memory (``OrderRepository``), as far as holds, backorders and the
inventory's checks need them: whole orders kept as written (lines, allocations, holds,
payments, timeline). The portal's queries (``page``, ``search``, ``count_recent``,
``contact_by_number``, ``with_lapsed_authorizations``) raise ``NotImplementedError``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NoReturn
from uuid import UUID

from oms.adapters.memory.tables import MemorySession
from oms.domain.catalogue import ProductKind
from oms.domain.holds import HoldReason
from oms.domain.ids import new_id
from oms.domain.orders import Order
from oms.domain.status import OrderStatus
from oms.services.ports import (
    OrderContact,
    OrderFilter,
    OrderSearch,
    OutboxMessage,
    QueuedHold,
)

__all__ = ["MemoryOrderRepository"]

_WAITING = {OrderStatus.OPEN, OrderStatus.ON_HOLD}


def _not_implemented(query: str) -> NoReturn:
    raise NotImplementedError(f"the in-memory order repository has no {query!r} yet")


def _stored_copy(order: Order) -> Order:
    """The order as its rows would keep it."""
    kept = copy.deepcopy(order)
    kept.new_events.clear()
    kept.new_payments.clear()
    for allocation in kept.allocations:
        allocation.created_at = allocation.created_at or order.created_at
        allocation.location_code = None  # read from the location, as the SQL join does
    return kept


class MemoryOrderRepository:
    def __init__(self, session: MemorySession) -> None:
        self._session = session

    def add(self, order: Order, *, outbox: Sequence[OutboxMessage] = ()) -> bool:
        """Keep the whole order and ``outbox``; False (nothing kept) when its id or its
        (channel, external id) is taken."""
        return self.add_all([(order, outbox)])

    def add_all(self, entries: Sequence[tuple[Order, Sequence[OutboxMessage]]]) -> bool:
        """``add`` for each; False (and nothing kept) when any is taken."""
        tables = self._session.tables
        taken: set[tuple[UUID, str, str | None]] = {
            (o.tenant_id, o.channel, o.external_id)
            for o in tables.orders.values()
            if o.external_id is not None
        }
        for order, _ in entries:
            key = (order.tenant_id, order.channel, order.external_id)
            if (order.tenant_id, order.id) in tables.orders or (
                order.external_id is not None and key in taken
            ):
                return False
            taken.add(key)
        writable = self._session.write()
        for order, outbox in entries:
            writable.orders[(order.tenant_id, order.id)] = _stored_copy(order)
            order.new_events.clear()
            order.new_payments.clear()
            writable.outbox.extend((order.tenant_id, new_id(), copy.deepcopy(m)) for m in outbox)
        return True

    def get(
        self,
        tenant_id: UUID,
        order_id: UUID,
        *,
        with_events: bool = True,
        for_update: bool = False,
    ) -> Order | None:
        found = self._session.tables.orders.get((tenant_id, order_id))
        if found is None:
            return None
        order = copy.deepcopy(found)
        order.last_seq = max(order.last_seq, len(order.events))
        # In the order the rows are read: lines by number, allocations by (line, SKU,
        # location) with their location's code, payments and holds by time.
        locations = self._session.tables.locations
        order.lines.sort(key=lambda ln: ln.line_no)
        order.allocations.sort(key=lambda a: (a.line_no, a.sku, a.location_id))
        for allocation in order.allocations:
            place = locations.get(allocation.location_id)
            allocation.location_code = None if place is None else place.code
        order.payments.sort(key=lambda p: (p.created_at, p.id))
        order.holds.sort(key=lambda h: (h.created_at, h.id))
        if not with_events:
            order.events = []
        return order

    def get_many(self, tenant_id: UUID, order_ids: Sequence[UUID]) -> list[Order]:
        found = (self.get(tenant_id, oid, with_events=False) for oid in dict.fromkeys(order_ids))
        return [order for order in found if order is not None]

    def exists(self, tenant_id: UUID, order_id: UUID) -> bool:
        return (tenant_id, order_id) in self._session.tables.orders

    def save(self, order: Order, *, outbox: Sequence[OutboxMessage] = ()) -> None:
        """Write back the order as it is and keep ``outbox``; its new events and payments
        are then stored."""
        key = (order.tenant_id, order.id)
        stored = self._session.tables.orders.get(key)
        if stored is None:
            return
        kept = _stored_copy(order)
        if not order.events and stored.events:  # read without its timeline
            kept.events = [*stored.events, *copy.deepcopy(order.new_events)]
        writable = self._session.write()
        writable.orders[key] = kept
        writable.outbox.extend((order.tenant_id, new_id(), copy.deepcopy(m)) for m in outbox)
        order.new_events.clear()
        order.new_payments.clear()

    def ids_by_external_ids(
        self, tenant_id: UUID, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], UUID]:
        wanted = set(keys)
        return {
            (o.channel, o.external_id): o.id
            for (t, _), o in self._session.tables.orders.items()
            if t == tenant_id and o.external_id is not None and (o.channel, o.external_id) in wanted
        }

    def id_by_external_id(self, tenant_id: UUID, channel: str, external_id: str) -> UUID | None:
        return self.ids_by_external_ids(tenant_id, [(channel, external_id)]).get(
            (channel, external_id)
        )

    def waiting_for_stock(self, tenant_id: UUID, skus: Iterable[str], *, limit: int) -> list[UUID]:
        """Open orders with backordered lines drawing on ``skus`` (bundles included),
        earliest promise first, then oldest."""
        tables = self._session.tables
        wanted = set(skus)
        wanted |= {
            p.sku
            for (t, _), p in tables.products.items()
            if t == tenant_id
            and p.kind is ProductKind.BUNDLE
            and any(c.sku in wanted for c in p.components)
        }
        found = [
            o
            for (t, _), o in tables.orders.items()
            if t == tenant_id
            and o.status in _WAITING
            and any(ln.backordered > 0 and ln.sku in wanted for ln in o.lines)
        ]
        found.sort(
            key=lambda o: (
                o.promised_deliver_by is None,
                o.promised_deliver_by or o.created_at.date(),
                o.created_at,
            )
        )
        return [o.id for o in found[:limit]]

    def open_holds_page(
        self, tenant_id: UUID, *, reason: HoldReason | None, after_id: UUID | None, limit: int
    ) -> list[QueuedHold]:
        """Open holds of every order of the tenant, by hold id (time-ordered)."""
        found = [
            QueuedHold(hold=copy.deepcopy(h), order_id=o.id, order_number=o.number)
            for (t, _), o in self._session.tables.orders.items()
            if t == tenant_id
            for h in o.holds
            if h.released_at is None
            and (reason is None or h.reason is reason)
            and (after_id is None or h.id > after_id)
        ]
        found.sort(key=lambda q: q.hold.id)
        return found[:limit]

    def contact_by_number(self, tenant_id: UUID, number: int) -> OrderContact | None:
        _not_implemented("contact_by_number")

    def page(
        self, tenant_id: UUID, *, filters: OrderFilter, before_id: UUID | None, limit: int
    ) -> list[Order]:
        _not_implemented("page")

    def count_recent(
        self, tenant_id: UUID, *, email: str | None, address: str | None, since: datetime
    ) -> int:
        _not_implemented("count_recent")

    def backordered_skus(self, tenant_id: UUID, *, limit: int) -> list[str]:
        """The SKUs of open orders' backordered lines, in SKU order."""
        found = {
            ln.sku
            for (t, _), o in self._session.tables.orders.items()
            if t == tenant_id and o.status in _WAITING
            for ln in o.lines
            if ln.backordered > 0
        }
        return sorted(found)[:limit]

    def with_lapsed_authorizations(
        self, tenant_id: UUID, now: datetime, *, limit: int
    ) -> list[UUID]:
        _not_implemented("with_lapsed_authorizations")

    def search(
        self, tenant_id: UUID | None, *, search: OrderSearch, before_id: UUID | None, limit: int
    ) -> list[Order]:
        _not_implemented("search")
