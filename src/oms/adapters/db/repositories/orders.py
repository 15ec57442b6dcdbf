"""Orders with their lines, allocations and timeline."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, bindparam, func, insert, select, update

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.repositories.messages import outbox_rows
from oms.adapters.db.repositories.order_insert import insert_new_orders
from oms.adapters.db.repositories.order_load import load_order
from oms.adapters.db.repositories.order_rows import (
    StoredRows,
    allocation_from_row,
    allocation_values,
    event_from_row,
    event_values,
    hold_from_row,
    hold_values,
    line_from_row,
    line_values,
    order_from_row,
    order_values,
    payment_from_row,
    payment_values,
    read_stored_rows,
)
from oms.adapters.db.repositories.order_save import update_order_with_events
from oms.adapters.db.repositories.order_search import search_statement, tracked_statement
from oms.adapters.db.repositories.support import insert_if_absent
from oms.adapters.db.tables import (
    allocations,
    locations,
    order_events,
    order_holds,
    order_lines,
    orders,
    payments,
    products,
)
from oms.adapters.db.tables import outbox as outbox_table  # the argument of add() is outbox
from oms.domain.holds import HoldReason
from oms.domain.orders import Order, OrderEvent
from oms.services.ports import (
    OrderContact,
    OrderFilter,
    OrderSearch,
    OutboxMessage,
    QueuedHold,
)

__all__ = ["SqlOrderRepository"]

_LINE_KEY = frozenset({"tenant_id", "order_id", "line_no"})

_o = orders.c
# Asked by every order intake: built once, parameters bound at execution.
_ID_BY_EXTERNAL_ID = DriverStatement(
    select(_o.id).where(
        _o.tenant_id == bindparam("p_tenant_id", type_=_o.tenant_id.type),
        _o.channel == bindparam("p_channel", type_=_o.channel.type),
        _o.external_id == bindparam("p_external_id", type_=_o.external_id.type),
    )
)

# The (channel, external id) pairs of an intake group, on PostgreSQL through psycopg: one
# probe of the unique index per pair, whatever the planner believes of the table's size.
# A plain ``= ANY`` on both columns, or the same join without the LIMIT (which keeps the
# planner from merging it into a hash join), was planned on a table never analysed as a
# scan of all the tenant's orders (docs/performance.md, item 6).
_IDS_BY_EXTERNAL_IDS = DriverStatement(
    """
SELECT o.channel, o.external_id, o.id
FROM unnest(CAST(%(p_channels)s AS VARCHAR[]), CAST(%(p_external_ids)s AS VARCHAR[]))
    AS k(channel, external_id)
CROSS JOIN LATERAL (
    SELECT channel, external_id, id FROM orders
    WHERE tenant_id = %(p_tenant_id)s AND channel = k.channel AND external_id = k.external_id
    LIMIT 1
) o
""",
    portable=select(_o.channel, _o.external_id, _o.id).where(
        _o.tenant_id == bindparam("p_tenant_id", type_=_o.tenant_id.type),
        _o.channel.in_(bindparam("p_channels", expanding=True, type_=_o.channel.type)),
        _o.external_id.in_(bindparam("p_external_ids", expanding=True, type_=_o.external_id.type)),
    ),
)


# waiting_for_stock on PostgreSQL: the bundles drawing on the SKUs found in the same
# statement (their components are a JSON array of {"sku", "quantity"}).
_WAITING_FOR_STOCK = DriverStatement("""
SELECT o.id FROM orders o
WHERE o.tenant_id = %(tenant_id)s AND o.status IN ('open', 'on_hold')
    AND EXISTS (
        SELECT 1 FROM order_lines ln
        WHERE ln.tenant_id = o.tenant_id AND ln.order_id = o.id AND ln.backordered > 0
            AND (ln.sku = ANY(CAST(%(skus)s AS VARCHAR[])) OR ln.sku IN (
                SELECT p.sku FROM products p
                WHERE p.tenant_id = %(tenant_id)s AND p.kind = 'bundle'
                    AND EXISTS (
                        SELECT 1 FROM json_array_elements(p.components) c
                        WHERE c ->> 'sku' = ANY(CAST(%(skus)s AS VARCHAR[]))
                    )
            ))
    )
ORDER BY o.promised_deliver_by IS NULL, o.promised_deliver_by, o.created_at
LIMIT %(limit)s
""")


class SqlOrderRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._stored: dict[UUID, StoredRows] = {}

    def add(self, order: Order, *, outbox: Sequence[OutboxMessage] = ()) -> bool:
        """Insert the whole order and ``outbox`` messages; False (and nothing written) when
        its external id exists.

        On PostgreSQL one statement writes the order and its children (``order_insert``).
        """
        values = _order_row(order)
        if self._conn.dialect.name == "postgresql":
            inserted = insert_new_orders(self._conn, [(values, _new_children(order, outbox))])
            if inserted:
                order.new_payments.clear()
                order.new_events.clear()
            return inserted
        if not insert_if_absent(self._conn, orders, values):
            return False
        self._conn.execute(insert(order_lines), [line_values(order, line) for line in order.lines])
        if order.allocations:
            self._conn.execute(
                insert(allocations), [allocation_values(order, a) for a in order.allocations]
            )
        if order.holds:
            # A new order has no stored holds to compare with: insert them all at once.
            self._conn.execute(insert(order_holds), [hold_values(order, h) for h in order.holds])
        self._insert_new_payments(order)
        self._insert_new_events(order)
        if outbox:
            self._conn.execute(insert(outbox_table), outbox_rows(order.tenant_id, outbox))
        return True

    def add_all(self, entries: Sequence[tuple[Order, Sequence[OutboxMessage]]]) -> bool:
        """``add`` for several new orders: True when all were written; False when one's
        external id exists, and then the caller must roll back (some rows were written).

        On PostgreSQL one statement writes them all, in (channel, external id) order, so two
        transactions adding the same external ids wait for each other in one order.
        """
        ordered = sorted(entries, key=lambda e: (e[0].channel, e[0].external_id or ""))
        if self._conn.dialect.name != "postgresql":
            return all(self.add(order, outbox=outbox) for order, outbox in ordered)
        rows = [(_order_row(order), _new_children(order, outbox)) for order, outbox in ordered]
        if not insert_new_orders(self._conn, rows):
            return False
        for order, _ in ordered:
            order.new_payments.clear()
            order.new_events.clear()
        return True

    def _insert_new_payments(self, order: Order) -> None:
        if order.new_payments:
            self._conn.execute(
                insert(payments), [payment_values(order, p) for p in order.new_payments]
            )
            order.new_payments.clear()

    def _save_holds(self, order: Order, stored: dict[UUID, datetime | None]) -> None:
        """Upsert holds: new ones are inserted, released ones updated."""
        hc = order_holds.c
        for hold in order.holds:
            if hold.id not in stored:
                self._conn.execute(insert(order_holds).values(**hold_values(order, hold)))
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
                insert(order_events), [event_values(order, e) for e in order.new_events]
            )
            order.new_events.clear()

    def save(self, order: Order, *, outbox: Sequence[OutboxMessage] = ()) -> None:
        """Write back the order: statuses and totals, lines and allocations (new ones
        inserted, changed ones updated), holds, payments, new events and ``outbox``.

        An order read ``for_update`` in this unit of work is compared with what was read, so
        only changed rows are written; otherwise the stored rows are looked up first. On
        PostgreSQL it is all one statement (``order_save``).

        The row is written by every save, changed or not: a locked read raced by this save
        tells by the row's new version that its children changed (``order_load``)."""
        stored = self._stored.get(order.id) or read_stored_rows(self._conn, order)
        if self._conn.dialect.name == "postgresql":
            self._save_in_one_statement(order, stored, outbox)
        else:
            self._save_each(order, stored, outbox)
        self._remember(order)

    def _save_in_one_statement(
        self, order: Order, stored: StoredRows, outbox: Sequence[OutboxMessage]
    ) -> None:
        new_lines, changed_lines = [], []
        for line in order.lines:
            values = line_values(order, line)
            before = stored.lines.get(line.line_no)
            if before is None:
                new_lines.append(values)
            elif values != before:
                changed_lines.append(values)
        new_allocations, changed_allocations = [], []
        for allocation in order.allocations:
            counts = stored.allocations.get(allocation.id)
            if counts is None:
                new_allocations.append(allocation_values(order, allocation))
            elif counts != (allocation.released, allocation.fulfilled):
                changed_allocations.append(
                    {
                        "tenant_id": order.tenant_id,
                        "id": allocation.id,
                        "released": allocation.released,
                        "fulfilled": allocation.fulfilled,
                    }
                )
        new_holds, released_holds = [], []
        for hold in order.holds:
            if hold.id not in stored.holds:
                new_holds.append(hold_values(order, hold))
            elif stored.holds[hold.id] is None and hold.released_at is not None:
                released_holds.append(hold_values(order, hold))
        update_order_with_events(
            self._conn,
            order.tenant_id,
            order.id,
            order_values(order),
            [event_values(order, e) for e in order.new_events],
            outbox=outbox,
            children={
                "new_lines": new_lines,
                "changed_lines": changed_lines,
                "new_allocations": new_allocations,
                "changed_allocations": changed_allocations,
                "new_holds": new_holds,
                "released_holds": released_holds,
                "new_payments": [payment_values(order, p) for p in order.new_payments],
            },
        )
        order.new_events.clear()
        order.new_payments.clear()

    def _save_each(self, order: Order, stored: StoredRows, outbox: Sequence[OutboxMessage]) -> None:
        """``save`` a statement per changed row (SQLite)."""
        self._conn.execute(
            update(orders)
            .where(_o.tenant_id == order.tenant_id, _o.id == order.id)
            .values(**order_values(order))
        )
        ln, al = order_lines.c, allocations.c
        for line in order.lines:
            values = line_values(order, line)
            before = stored.lines.get(line.line_no)
            if before is None:
                self._conn.execute(insert(order_lines).values(**values))
            elif values != before:
                self._conn.execute(
                    update(order_lines)
                    .where(
                        ln.tenant_id == order.tenant_id,
                        ln.order_id == order.id,
                        ln.line_no == line.line_no,
                    )
                    .values({k: v for k, v in values.items() if k not in _LINE_KEY})
                )
        for allocation in order.allocations:
            counts = stored.allocations.get(allocation.id)
            if counts is None:
                self._conn.execute(
                    insert(allocations).values(**allocation_values(order, allocation))
                )
            elif counts != (allocation.released, allocation.fulfilled):
                self._conn.execute(
                    update(allocations)
                    .where(al.tenant_id == order.tenant_id, al.id == allocation.id)
                    .values(released=allocation.released, fulfilled=allocation.fulfilled)
                )
        self._save_holds(order, stored.holds)
        self._insert_new_payments(order)
        self._insert_new_events(order)
        if outbox:
            self._conn.execute(insert(outbox_table), outbox_rows(order.tenant_id, outbox))

    def _remember(self, order: Order) -> None:
        """Keep what the database now holds for the order, to write only changes later."""
        self._stored[order.id] = StoredRows(
            lines={line.line_no: line_values(order, line) for line in order.lines},
            allocations={a.id: (a.released, a.fulfilled) for a in order.allocations},
            holds={hold.id: hold.released_at for hold in order.holds},
        )

    def get(
        self,
        tenant_id: UUID,
        order_id: UUID,
        *,
        with_events: bool = True,
        for_update: bool = False,
    ) -> Order | None:
        order = load_order(
            self._conn, tenant_id, order_id, with_events=with_events, for_update=for_update
        )
        if order is None:
            return None
        if for_update:
            self._remember(order)
        return order

    def get_many(self, tenant_id: UUID, order_ids: Sequence[UUID]) -> list[Order]:
        if not order_ids:
            return []
        rows = self._conn.execute(
            select(orders).where(_o.tenant_id == tenant_id, _o.id.in_(list(order_ids)))
        )
        found = [order_from_row(row) for row in rows]
        self._load_children(found, with_events=False)
        return found

    def exists(self, tenant_id: UUID, order_id: UUID) -> bool:
        return (
            self._conn.scalar(select(_o.id).where(_o.tenant_id == tenant_id, _o.id == order_id))
            is not None
        )

    def contact_by_number(self, tenant_id: UUID, number: int) -> OrderContact | None:
        """What a customer proves an order is theirs with, by the order's number."""
        row = self._conn.execute(
            select(_o.id, _o.customer_email, _o.shipping_address, _o.billing_address).where(
                _o.tenant_id == tenant_id, _o.number == number
            )
        ).first()
        if row is None:
            return None
        postal_codes = tuple(
            str(address["postal_code"])
            for address in (row.shipping_address, row.billing_address)
            if address and address.get("postal_code")
        )
        return OrderContact(order_id=row.id, email=row.customer_email, postal_codes=postal_codes)

    def ids_by_external_ids(
        self, tenant_id: UUID, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], UUID]:
        """The orders of these (channel, external id) pairs that exist, by pair."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        channels = [channel for channel, _ in wanted]
        external_ids = [external_id for _, external_id in wanted]
        if self._conn.dialect.name != "postgresql":  # the portable form takes each set once
            channels, external_ids = sorted(set(channels)), sorted(set(external_ids))
        rows = _IDS_BY_EXTERNAL_IDS.rows(
            self._conn,
            {"p_tenant_id": tenant_id, "p_channels": channels, "p_external_ids": external_ids},
        )
        found = {(row.channel, row.external_id): row.id for row in rows}
        return {key: found[key] for key in wanted if key in found}

    def id_by_external_id(self, tenant_id: UUID, channel: str, external_id: str) -> UUID | None:
        params = {"p_tenant_id": tenant_id, "p_channel": channel, "p_external_id": external_id}
        found: UUID | None = _ID_BY_EXTERNAL_ID.scalar(self._conn, params)
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
        found = [order_from_row(row) for row in rows]
        self._load_children(found, with_events=False)
        return found

    def search(
        self, tenant_id: UUID | None, *, search: OrderSearch, before_id: UUID | None, limit: int
    ) -> list[Order]:
        by_tracking = tracked_statement(tenant_id, search.text or "")
        tracked = set() if by_tracking is None else set(self._conn.execute(by_tracking).scalars())
        rows = self._conn.execute(search_statement(tenant_id, search, before_id, limit, tracked))
        found = [order_from_row(row) for row in rows]
        by_tenant: dict[UUID, list[Order]] = defaultdict(list)
        for order in found:
            by_tenant[order.tenant_id].append(order)
        for group in by_tenant.values():
            self._load_children(group, with_events=False)
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

    def waiting_for_stock(self, tenant_id: UUID, skus: Iterable[str], *, limit: int) -> list[UUID]:
        """Open orders with backordered lines drawing on ``skus`` (bundles included),
        earliest promise first, then oldest."""
        wanted = set(skus)
        if self._conn.dialect.name == "postgresql":
            return [
                row[0]
                for row in _WAITING_FOR_STOCK.tuples(
                    self._conn, {"tenant_id": tenant_id, "skus": sorted(wanted), "limit": limit}
                )
            ]
        bundles = {
            row.sku
            for row in self._conn.execute(
                select(products.c.sku, products.c.components).where(
                    products.c.tenant_id == tenant_id, products.c.kind == "bundle"
                )
            )
            if any(c["sku"] in wanted for c in row.components)
        }
        ln = order_lines.c
        short = (
            select(ln.order_id)
            .where(
                ln.tenant_id == _o.tenant_id,
                ln.order_id == _o.id,
                ln.backordered > 0,
                ln.sku.in_(sorted(wanted | bundles)),
            )
            .exists()
        )
        query = (
            select(_o.id)
            .where(_o.tenant_id == tenant_id, _o.status.in_(["open", "on_hold"]), short)
            .order_by(_o.promised_deliver_by.is_(None), _o.promised_deliver_by, _o.created_at)
            .limit(limit)
        )
        return [row.id for row in self._conn.execute(query)]

    def backordered_skus(self, tenant_id: UUID, *, limit: int) -> list[str]:
        """The SKUs of open orders' backordered lines, in SKU order."""
        ln = order_lines.c
        query = (
            select(ln.sku)
            .join(orders, (_o.tenant_id == ln.tenant_id) & (_o.id == ln.order_id))
            .where(
                ln.tenant_id == tenant_id,
                ln.backordered > 0,
                _o.status.in_(["open", "on_hold"]),
            )
            .distinct()
            .order_by(ln.sku)
            .limit(limit)
        )
        return [row.sku for row in self._conn.execute(query)]

    def with_lapsed_authorizations(
        self, tenant_id: UUID, now: datetime, *, limit: int
    ) -> list[UUID]:
        """Orders still counted as authorized whose authorization has run out."""
        pc = payments.c
        lapsed = (
            select(pc.order_id)
            .where(
                pc.tenant_id == tenant_id,
                pc.kind == "authorization",
                pc.outcome == "succeeded",
                pc.expires_at <= now,
            )
            .distinct()
        )
        query = (
            select(_o.id)
            .where(
                _o.tenant_id == tenant_id,
                _o.payment_status == "authorized",
                _o.status.in_(["open", "on_hold"]),
                _o.id.in_(lapsed),
            )
            .order_by(_o.id)
            .limit(limit)
        )
        return list(self._conn.scalars(query))

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
            by_id[row.order_id].lines.append(line_from_row(row))
        al = allocations.c
        for row in self._conn.execute(
            select(allocations, locations.c.code.label("location_code"))
            .join(locations, locations.c.id == al.location_id)
            .where(al.tenant_id == tenant_id, al.order_id.in_(ids))
            .order_by(al.order_id, al.line_no, al.sku, al.location_id)
        ):
            by_id[row.order_id].allocations.append(allocation_from_row(row))
        pc = payments.c
        for row in self._conn.execute(
            select(payments)
            .where(pc.tenant_id == tenant_id, pc.order_id.in_(ids))
            .order_by(pc.order_id, pc.created_at, pc.id)
        ):
            by_id[row.order_id].payments.append(payment_from_row(row))
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
            grouped[row.order_id].append(event_from_row(row))
        for order_id, events in grouped.items():
            by_id[order_id].events = events


def _order_row(order: Order) -> dict[str, Any]:
    return {
        "tenant_id": order.tenant_id,
        "id": order.id,
        "number": order.number,
        "channel": order.channel,
        "external_id": order.external_id,
        "currency": order.currency,
        "customer_email": order.customer.email,
        "customer_name": order.customer.name,
        "customer_phone": order.customer.phone,
        "billing_address": None
        if order.billing_address is None
        else order.billing_address.to_dict(),
        "allow_backorder": order.allow_backorder,
        "tags": order.tags,
        "note": order.note,
        "created_at": order.created_at,
        "duties_terms": order.duties_terms,
        **order_values(order),
    }


def _new_children(
    order: Order, outbox: Sequence[OutboxMessage]
) -> tuple[list[dict[str, Any]], ...]:
    """A new order's rows of order_lines, allocations, holds, payments, events and outbox."""
    return (
        [line_values(order, line) for line in order.lines],
        [allocation_values(order, a) for a in order.allocations],
        [hold_values(order, h) for h in order.holds],
        [payment_values(order, p) for p in order.new_payments],
        [event_values(order, e) for e in order.new_events],
        outbox_rows(order.tenant_id, outbox),
    )
