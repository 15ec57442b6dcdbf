"""One order read whole by its id: the row, its lines, allocations, payments, holds (only
when the row says it has any) and (when asked) its timeline, each statement built once and
run through psycopg on PostgreSQL (``DriverStatement``), through SQLAlchemy elsewhere.

Every use case that changes an order reads it so (locked, ``for_update``), often several
times per request (a return's request, receipt and refund each lock their order): through
SQLAlchemy, the execution context and result metadata of these six small statements cost
more client CPU than PostgreSQL needs to answer them (docs/performance.md, "Returns").
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Connection, bindparam, exists, func, select

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.repositories.order_rows import (
    allocation_from_row,
    event_from_row,
    hold_from_row,
    line_from_row,
    order_from_row,
    payment_from_row,
)
from oms.adapters.db.tables import (
    allocations,
    locations,
    order_events,
    order_holds,
    order_lines,
    orders,
    payments,
)
from oms.domain.orders import Order

__all__ = ["load_order"]

_o = orders.c
_ev = order_events.c
_hc = order_holds.c
_TENANT = bindparam("p_tenant_id", type_=_o.tenant_id.type)
_ORDER = bindparam("p_order_id", type_=_o.id.type)


def _order_statement(*, with_last_seq: bool, for_update: bool) -> DriverStatement:
    query = select(orders).where(_o.tenant_id == _TENANT, _o.id == _ORDER)
    if with_last_seq:
        # The timeline's last number, so new events number on, in the same round trip.
        query = query.add_columns(
            select(func.max(_ev.seq))
            .where(_ev.tenant_id == _o.tenant_id, _ev.order_id == _o.id)
            .scalar_subquery()
            .label("last_event_seq")
        )
    # Whether the order has holds at all (most have none): their read is left out if not.
    query = query.add_columns(
        exists().where(_hc.tenant_id == _o.tenant_id, _hc.order_id == _o.id).label("has_holds")
    )
    if for_update:
        query = query.with_for_update(of=orders)
    return DriverStatement(query)


_ORDERS = {
    (last_seq, lock): _order_statement(with_last_seq=last_seq, for_update=lock)
    for last_seq in (False, True)
    for lock in (False, True)
}
_ln, _al, _pc = order_lines.c, allocations.c, payments.c
_LINES = DriverStatement(
    select(order_lines)
    .where(_ln.tenant_id == _TENANT, _ln.order_id == _ORDER)
    .order_by(_ln.line_no)
)
_ALLOCATIONS = DriverStatement(
    select(allocations, locations.c.code.label("location_code"))
    .join(locations, locations.c.id == _al.location_id)
    .where(_al.tenant_id == _TENANT, _al.order_id == _ORDER)
    .order_by(_al.line_no, _al.sku, _al.location_id)
)
_PAYMENTS = DriverStatement(
    select(payments)
    .where(_pc.tenant_id == _TENANT, _pc.order_id == _ORDER)
    .order_by(_pc.created_at, _pc.id)
)
_HOLDS = DriverStatement(
    select(order_holds)
    .where(_hc.tenant_id == _TENANT, _hc.order_id == _ORDER)
    .order_by(_hc.created_at, _hc.id)
)
_EVENTS = DriverStatement(
    select(order_events).where(_ev.tenant_id == _TENANT, _ev.order_id == _ORDER).order_by(_ev.seq)
)


def load_order(
    conn: Connection, tenant_id: UUID, order_id: UUID, *, with_events: bool, for_update: bool
) -> Order | None:
    """The order with its children (and timeline ``with_events``; else only the timeline's
    last number), locked for the transaction ``for_update``; None when there is none."""
    params = {"p_tenant_id": tenant_id, "p_order_id": order_id}
    row = _ORDERS[(not with_events, for_update)].first(conn, params)
    if row is None:
        return None
    order = order_from_row(row)
    order.lines.extend(line_from_row(r) for r in _LINES.rows(conn, params))
    order.allocations.extend(allocation_from_row(r) for r in _ALLOCATIONS.rows(conn, params))
    order.payments.extend(payment_from_row(r) for r in _PAYMENTS.rows(conn, params))
    if row.has_holds:
        order.holds.extend(hold_from_row(r) for r in _HOLDS.rows(conn, params))
    if with_events:
        order.events = [event_from_row(r) for r in _EVENTS.rows(conn, params)]
    else:
        order.last_seq = int(row.last_event_seq or 0)
    return order
