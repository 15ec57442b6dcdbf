"""An existing order's changes written by one statement on PostgreSQL, through psycopg
(``DriverStatement``).

Every save of a changed order (``SqlOrderRepository.save``) updates the order's row and
appends at least one event and its outbox message, and often changes a line, inserts a
payment or a hold: through SQLAlchemy each was a statement of its own, the UPDATE rebuilt
with its two dozen values each time. Here they are one statement (data-modifying CTEs),
built once per shape: the order's row, its new events and outbox messages, and its
children's new and changed rows (lines, allocations, holds, payments), each table's rows
as one JSON document (``order_insert.json_rows``); a table with nothing to write is left
out of the statement (the events' never is). The order row's values go as SQLAlchemy would
send them: a JSON column's value as JSON text (Python's None as JSON ``null``, as
SQLAlchemy's JSON type stores it), each cast to the column's type.
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
from oms.adapters.db.repositories.messages import OUTBOX_FROM_JSON, outbox_json
from oms.adapters.db.repositories.order_insert import json_rows, select_from_json
from oms.adapters.db.tables import allocations, order_holds, order_lines, orders, payments
from oms.services.ports import OutboxMessage

__all__ = ["ORDER_CHILDREN", "update_order_with_events"]

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's own


_JSON_COLUMNS = frozenset(c.name for c in orders.c if isinstance(c.type, JSON))


# The new events as a JSON document, unpacked by the server (as the outbox messages are,
# ``OUTBOX_FROM_JSON``): as arrays, psycopg dumped each one in Python (a text array's every
# quote escaped by a regular expression), a visible share of a returns call's CPU.
_EVENTS = """
INSERT INTO order_events (tenant_id, order_id, seq, type, actor, reason, data, created_at)
SELECT %(p_tenant_id)s, %(p_order_id)s, w.seq, w.type, w.actor, w.reason,
    COALESCE(w.data, 'null'::json), w.created_at
FROM json_to_recordset(CAST(%(events)s AS JSON)) AS w(
    seq INTEGER, type VARCHAR, actor VARCHAR, reason TEXT, data JSON, created_at TIMESTAMPTZ
)
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
    messages = f", messages AS ({OUTBOX_FROM_JSON})" if with_outbox else ""
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
        name: json.dumps(value) if name in _JSON_COLUMNS else value
        for name, value in values.items()
    }
    params["p_tenant_id"] = tenant_id
    params["p_order_id"] = order_id
    # json.dumps, as the events' data was always written
    # (integers of any size; the stored text as before).
    params["events"] = json.dumps(
        [
            {
                "seq": e["seq"],
                "type": e["type"],
                "actor": e["actor"],
                "reason": e["reason"],
                "data": e["data"],
                "created_at": e["created_at"].isoformat(),
            }
            for e in events
        ]
    )
    if outbox:
        params.update(outbox_json(tenant_id, outbox))
    given = children or {}
    written = tuple(name for name in ORDER_CHILDREN if given.get(name))
    for name in written:
        params[name] = json_rows(given[name])
    _statement(names, bool(outbox), written).rows(conn, params)
