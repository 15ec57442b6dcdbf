"""One order read whole by its id: the row, its lines, allocations, payments, holds and
(when asked) its timeline.

On PostgreSQL it is one statement (``load_order``): the order's row with each child table
beside it as one JSON array of its rows (``json_agg`` in a scalar subquery), run through
psycopg (``DriverStatement``). Elsewhere, and as the reference the one statement is tested
against, it is a statement per table (``load_order_by_table``): the row, then its lines,
allocations, payments, holds (only when the row says it has any) and timeline.

Every use case that changes an order reads it so (locked, ``for_update``), often several
times per request (a return's request, receipt and refund each lock their order); each
statement costs a round trip, the driver's work in Python and the server's parse and
execution (docs/performance.md, "The locked order read in one statement").

The JSON keeps every value exact: money goes as the numeric's text and comes back a
``Decimal`` (never a float), times as ISO text with their offset (aware UTC, as the
session's time zone is UTC), ids as text made ``UUID`` again, integers as JSON integers,
JSON columns as they are stored. The columns and their decoding come from the tables, so
both reads give the same rows to the same ``order_rows`` mappings.

Locking: the children of an order read ``for_update`` must be those as of the lock, never
older. In PostgreSQL's READ COMMITTED a statement reads with the snapshot taken when it
began, also after waiting for the row's lock: the children read beside the row in the same
statement are as of the start, and a transaction that committed meanwhile (the one whose
lock was waited for) is not in them. Every change to an order's children is saved with an
UPDATE of its row (``SqlOrderRepository.save`` writes the row last, in the same
transaction; nothing else writes those tables), so such a transaction left a newer row
version than the statement's snapshot sees: the statement compares the locked row's
``xmin`` with the one its snapshot sees, and when they differ reads again, now holding the
lock (a new statement, a new snapshot).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Connection,
    Integer,
    Select,
    String,
    Text,
    Uuid,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

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
from oms.adapters.db.types import Amount, UtcDateTime
from oms.domain.orders import Order

__all__ = ["load_order", "load_order_by_table"]

_o = orders.c
_ln, _al, _pc = order_lines.c, allocations.c, payments.c
_ev, _hc = order_events.c, order_holds.c
_KEYS = frozenset({"tenant_id", "order_id"})
_TENANT = bindparam("p_tenant_id", type_=_o.tenant_id.type)
_ORDER = bindparam("p_order_id", type_=_o.id.type)


class _Child:
    """One child table of the order as both reads take it: its own statement (rows with
    the columns as attributes), or one JSON array of its rows beside the order's row,
    decoded back to the same rows."""

    def __init__(
        self, label: str, query: Select[Any], order_by: Sequence[ColumnElement[Any]]
    ) -> None:
        self.label = label
        self.statement = DriverStatement(query.order_by(*order_by))
        # The keys the statement is asked by are left out: the order's row has them.
        columns = [c for c in query.selected_columns if c.key not in _KEYS]
        names = [str(c.key) for c in columns]
        self._make: Callable[[Iterable[Any]], Any] = namedtuple(f"{label}_row", names)._make  # type: ignore[attr-defined]
        self._decoders = [
            (i, decoder) for i, c in enumerate(columns) if (decoder := _decoder(c)) is not None
        ]
        # The tenant's and order's parameters are those of the order's row: the statement
        # reads the children of the order it reads, whether or not it was found.
        self.aggregate = (
            query.with_only_columns(
                func.json_agg(
                    aggregate_order_by(func.json_build_array(*map(_as_json, columns)), *order_by)
                )
            )
            .scalar_subquery()
            .label(label)
        )

    def rows_by_table(self, conn: Connection, params: dict[str, Any]) -> list[Any]:
        return self.statement.rows(conn, params)

    def rows_from_json(self, values: list[list[Any]] | None) -> list[Any]:
        """The rows of the JSON array (None: there were none), each array's values made
        what psycopg gives for the column."""
        if not values:
            return []
        for row in values:
            for i, decoder in self._decoders:
                if (value := row[i]) is not None:
                    row[i] = decoder(value)
        return list(map(self._make, values))


def _as_json(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The column as it goes into the JSON array: money as the numeric's text (JSON numbers
    are read as floats), everything else as ``json_build_array`` renders it."""
    return cast(column, Text) if isinstance(column.type, Amount) else column


def _decoder(column: ColumnElement[Any]) -> Callable[[Any], Any] | None:
    """How a column's JSON value becomes what psycopg gives for it (None: as it is)."""
    kind = column.type
    if isinstance(kind, Amount):
        return Decimal
    if isinstance(kind, UtcDateTime):
        return datetime.fromisoformat
    if isinstance(kind, Uuid):
        return UUID
    if isinstance(kind, Integer | String | JSON):  # Text is a String
        return None
    # A column of another type needs its decoding here before it can be read so.
    raise TypeError(f"no JSON decoding for {column.key} ({kind!r})")


_LINES = _Child(
    "lines",
    select(order_lines).where(_ln.tenant_id == _TENANT, _ln.order_id == _ORDER),
    [_ln.line_no],
)
_ALLOCATIONS = _Child(
    "allocations",
    select(allocations, locations.c.code.label("location_code"))
    .join(locations, locations.c.id == _al.location_id)
    .where(_al.tenant_id == _TENANT, _al.order_id == _ORDER),
    [_al.line_no, _al.sku, _al.location_id],
)
_PAYMENTS = _Child(
    "payments",
    select(payments).where(_pc.tenant_id == _TENANT, _pc.order_id == _ORDER),
    [_pc.created_at, _pc.id],
)
_HOLDS = _Child(
    "holds",
    select(order_holds).where(_hc.tenant_id == _TENANT, _hc.order_id == _ORDER),
    [_hc.created_at, _hc.id],
)
_EVENTS = _Child(
    "events",
    select(order_events).where(_ev.tenant_id == _TENANT, _ev.order_id == _ORDER),
    [_ev.seq],
)
_CHILDREN = (_LINES, _ALLOCATIONS, _PAYMENTS, _HOLDS)


def _order_query(*, with_last_seq: bool, for_update: bool) -> Select[Any]:
    query = select(orders).where(_o.tenant_id == _TENANT, _o.id == _ORDER)
    if with_last_seq:
        # The timeline's last number, so new events number on, in the same round trip.
        query = query.add_columns(
            select(func.max(_ev.seq))
            .where(_ev.tenant_id == _o.tenant_id, _ev.order_id == _o.id)
            .scalar_subquery()
            .label("last_event_seq")
        )
    if for_update:
        query = query.with_for_update(of=orders)
    return query


def _by_table_statement(*, with_last_seq: bool, for_update: bool) -> DriverStatement:
    # Whether the order has holds at all (most have none): their read is left out if not.
    return DriverStatement(
        _order_query(with_last_seq=with_last_seq, for_update=for_update).add_columns(
            exists().where(_hc.tenant_id == _o.tenant_id, _hc.order_id == _o.id).label("has_holds")
        )
    )


def _whole_statement(*, with_last_seq: bool, for_update: bool) -> DriverStatement:
    query = _order_query(with_last_seq=with_last_seq, for_update=for_update).add_columns(
        *(child.aggregate for child in _CHILDREN)
    )
    if not with_last_seq:
        query = query.add_columns(_EVENTS.aggregate)
    if for_update:
        # The row version this statement's snapshot sees is the one it locked: no
        # transaction changed the order between the snapshot and the lock.
        seen = orders.alias("seen")
        query = query.add_columns(
            (
                literal_column("orders.xmin")
                == select(literal_column("seen.xmin"))
                .where(seen.c.tenant_id == _o.tenant_id, seen.c.id == _o.id)
                .scalar_subquery()
            ).label("read_as_locked")
        )
    return DriverStatement(query)


_BY_TABLE = {
    (last_seq, lock): _by_table_statement(with_last_seq=last_seq, for_update=lock)
    for last_seq in (False, True)
    for lock in (False, True)
}
_WHOLE = {
    (last_seq, lock): _whole_statement(with_last_seq=last_seq, for_update=lock)
    for last_seq in (False, True)
    for lock in (False, True)
}


def load_order(
    conn: Connection, tenant_id: UUID, order_id: UUID, *, with_events: bool, for_update: bool
) -> Order | None:
    """The order with its children (and timeline ``with_events``; else only the timeline's
    last number), locked for the transaction ``for_update``; None when there is none.
    One statement on PostgreSQL (two when another transaction changed the order while this
    one waited for its lock), a statement per table elsewhere."""
    if conn.dialect.name != "postgresql":
        return load_order_by_table(
            conn, tenant_id, order_id, with_events=with_events, for_update=for_update
        )
    params = {"p_tenant_id": tenant_id, "p_order_id": order_id}
    statement = _WHOLE[(not with_events, for_update)]
    row = statement.first(conn, params)
    if row is not None and for_update and not row.read_as_locked:
        row = statement.first(conn, params)  # the lock is held: a new snapshot sees it all
    if row is None:
        return None
    order = order_from_row(row)
    order.lines.extend(map(line_from_row, _LINES.rows_from_json(row.lines)))
    order.allocations.extend(map(allocation_from_row, _ALLOCATIONS.rows_from_json(row.allocations)))
    order.payments.extend(map(payment_from_row, _PAYMENTS.rows_from_json(row.payments)))
    order.holds.extend(map(hold_from_row, _HOLDS.rows_from_json(row.holds)))
    if with_events:
        order.events = [event_from_row(r) for r in _EVENTS.rows_from_json(row.events)]
    else:
        order.last_seq = int(row.last_event_seq or 0)
    return order


def load_order_by_table(
    conn: Connection, tenant_id: UUID, order_id: UUID, *, with_events: bool, for_update: bool
) -> Order | None:
    """``load_order`` with a statement per table, on either database: the row (locked
    ``for_update`` before anything else is read), then each child table."""
    params = {"p_tenant_id": tenant_id, "p_order_id": order_id}
    row = _BY_TABLE[(not with_events, for_update)].first(conn, params)
    if row is None:
        return None
    order = order_from_row(row)
    order.lines.extend(map(line_from_row, _LINES.rows_by_table(conn, params)))
    order.allocations.extend(map(allocation_from_row, _ALLOCATIONS.rows_by_table(conn, params)))
    order.payments.extend(map(payment_from_row, _PAYMENTS.rows_by_table(conn, params)))
    if row.has_holds:
        order.holds.extend(map(hold_from_row, _HOLDS.rows_by_table(conn, params)))
    if with_events:
        order.events = [event_from_row(r) for r in _EVENTS.rows_by_table(conn, params)]
    else:
        order.last_seq = int(row.last_event_seq or 0)
    return order
