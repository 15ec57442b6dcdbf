"""An existing order's changes written by one statement on PostgreSQL, through psycopg
(``DriverStatement``).

Every save of a changed order (``SqlOrderRepository.save``) updates the order's row and
appends at least one event and its outbox message, and often changes a line, inserts a
payment or a hold: through SQLAlchemy each was a statement of its own, the UPDATE rebuilt
with its two dozen values each time. Here they are one statement (data-modifying CTEs),
built once per shape: the order's row, its new events and outbox messages, and its
children's new and changed rows (lines, allocations, holds, payments), each child table's
rows as one JSON document (``order_insert.json_rows``); a table with nothing to write is
left out of the statement. Values go as SQLAlchemy would send them: a JSON column's value
as JSON text (Python's None as JSON ``null``, as SQLAlchemy's JSON type stores it), each
cast to the column's type.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Connection
from sqlalchemy.dialects import postgresql

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.repositories.messages import OUTBOX_FROM_ARRAYS, outbox_arrays
from oms.adapters.db.repositories.order_insert import json_rows, select_from_json
from oms.adapters.db.tables import allocations, order_holds, order_lines, orders, payments
from oms.services.ports import OutboxMessage

__all__ = ["ORDER_CHILDREN", "update_order_with_events"]

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's own


def _is_json(name: str) -> bool:
    return isinstance(orders.c[name].type, JSON)


_EVENTS = """
INSERT INTO order_events (tenant_id, order_id, seq, type, actor, reason, data, created_at)
SELECT %(p_tenant_id)s, %(p_order_id)s, w.seq, w.type, w.actor, w.reason,
    CAST(w.data AS JSON), w.created_at
FROM unnest(
    CAST(%(ev_seqs)s AS INTEGER[]), CAST(%(ev_types)s AS VARCHAR[]),
    CAST(%(ev_actors)s AS VARCHAR[]), CAST(%(ev_reasons)s AS TEXT[]),
    CAST(%(ev_data)s AS TEXT[]), CAST(%(ev_created)s AS TIMESTAMPTZ[])
) AS w(seq, type, actor, reason, data, created_at)
"""


def _update_from_json(
    table: Any, parameter: str, key: tuple[str, ...], names: tuple[str, ...]
) -> str:
    """UPDATE ``table``'s ``names`` of the rows ``parameter`` (JSON rows) names by ``key``."""
    sets = ", ".join(f"{c} = w.{c}" for c in names)
    match = " AND ".join(f"t.{c} = w.{c}" for c in key)
    return (
        f"UPDATE {table.name} AS t SET {sets} "  # noqa: S608
        f"FROM json_populate_recordset(NULL::{table.name}, %({parameter})s) AS w WHERE {match}"
    )


_LINE_KEY = ("tenant_id", "order_id", "line_no")
# The children's writes, each a CTE over its JSON rows: (parameter, statement).
_CHILD_WRITES: tuple[tuple[str, str], ...] = (
    ("new_lines", select_from_json(order_lines, "new_lines")),
    (
        "changed_lines",
        _update_from_json(
            order_lines,
            "changed_lines",
            _LINE_KEY,
            tuple(c.name for c in order_lines.c if c.name not in _LINE_KEY),
        ),
    ),
    ("new_allocations", select_from_json(allocations, "new_allocations")),
    (
        "changed_allocations",
        _update_from_json(
            allocations, "changed_allocations", ("tenant_id", "id"), ("released", "fulfilled")
        ),
    ),
    ("new_holds", select_from_json(order_holds, "new_holds")),
    (
        "released_holds",
        _update_from_json(
            order_holds,
            "released_holds",
            ("tenant_id", "id"),
            ("released_at", "released_by", "release_note"),
        ),
    ),
    ("new_payments", select_from_json(payments, "new_payments")),
)
ORDER_CHILDREN = tuple(name for name, _ in _CHILD_WRITES)
"""The children ``update_order_with_events`` writes, by name: each a list of rows."""


_WRITES = dict(_CHILD_WRITES)


@cache
def _statement(
    names: tuple[str, ...], with_outbox: bool, children: tuple[str, ...]
) -> DriverStatement:
    """The statement for these order columns, with the outbox's and these children's
    writes only: the server plans no CTE that writes nothing (a handful of texts in all,
    each prepared once per connection)."""
    sets = ", ".join(
        f"{name} = CAST(%({name})s AS {orders.c[name].type.compile(dialect=_DIALECT)})"
        for name in names
    )
    # The names are the table's own columns (``order_values``' keys), never input.
    update = f"UPDATE orders SET {sets} WHERE tenant_id = %(p_tenant_id)s AND id = %(p_order_id)s"  # noqa: S608
    messages = f", messages AS ({OUTBOX_FROM_ARRAYS})" if with_outbox else ""
    writes = "".join(f", {name} AS ({_WRITES[name]})" for name in children)
    return DriverStatement(
        f"WITH saved AS ({update}), events AS ({_EVENTS}){messages}{writes} SELECT 1"
    )


def update_order_with_events(
    conn: Connection,
    tenant_id: UUID,
    order_id: UUID,
    values: dict[str, Any],
    events: list[dict[str, Any]],
    *,
    outbox: Sequence[OutboxMessage] = (),
    children: Mapping[str, list[dict[str, Any]]] | None = None,
) -> None:
    """Set the order row's ``values`` (``order_values``), insert ``events``
    (``event_values`` rows) and the ``outbox`` messages, and write ``children`` (rows by
    ``ORDER_CHILDREN`` name; one missing writes nothing) in one statement; PostgreSQL only."""
    names = tuple(values)
    params: dict[str, Any] = {
        name: json.dumps(value) if _is_json(name) else value for name, value in values.items()
    }
    params.update(
        p_tenant_id=tenant_id,
        p_order_id=order_id,
        ev_seqs=[e["seq"] for e in events],
        ev_types=[e["type"] for e in events],
        ev_actors=[e["actor"] for e in events],
        ev_reasons=[e["reason"] for e in events],
        ev_data=[json.dumps(e["data"]) for e in events],
        ev_created=[e["created_at"] for e in events],
    )
    if outbox:
        params.update(outbox_arrays(tenant_id, outbox))
    given = children or {}
    written = tuple(name for name in ORDER_CHILDREN if given.get(name))
    for name in written:
        params[name] = json_rows(given[name])
    _statement(names, bool(outbox), written).rows(conn, params)
