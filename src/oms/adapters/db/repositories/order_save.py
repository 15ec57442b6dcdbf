"""An existing order's row and its new timeline events written by one statement on
PostgreSQL, through psycopg (``DriverStatement``).

Every save of a changed order (``SqlOrderRepository.save``) updates the order's row and
appends at least one event: through SQLAlchemy that was two statements, the UPDATE rebuilt
with its two dozen values each time. Here the UPDATE and the events' INSERT are one
statement (a data-modifying CTE), built once. Values go as SQLAlchemy would send them: a
JSON column's value as JSON text (Python's None as JSON ``null``, as SQLAlchemy's JSON type
stores it), each cast to the column's type.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Connection
from sqlalchemy.dialects import postgresql

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.tables import orders

__all__ = ["update_order_with_events"]

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


@cache
def _statement(names: tuple[str, ...]) -> DriverStatement:
    sets = ", ".join(
        f"{name} = CAST(%({name})s AS {orders.c[name].type.compile(dialect=_DIALECT)})"
        for name in names
    )
    # The names are the table's own columns (``order_values``' keys), never input.
    update = f"UPDATE orders SET {sets} WHERE tenant_id = %(p_tenant_id)s AND id = %(p_order_id)s"  # noqa: S608
    return DriverStatement(f"WITH saved AS ({update}), events AS ({_EVENTS}) SELECT 1")


def update_order_with_events(
    conn: Connection,
    tenant_id: UUID,
    order_id: UUID,
    values: dict[str, Any],
    events: list[dict[str, Any]],
) -> None:
    """Set the order row's ``values`` (``order_values``) and insert ``events``
    (``event_values`` rows) in one statement; PostgreSQL only."""
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
    _statement(names).rows(conn, params)
