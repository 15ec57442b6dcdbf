"""New orders on PostgreSQL in one statement: the order rows and all their children.

Order intake writes an order, its lines, allocations, holds, payments, first events and
their outbox messages. As separate INSERTs that is seven round trips, and each costs more
client CPU (SQLAlchemy and driver overhead) than the server needs to run it. On PostgreSQL
one statement does it, for one order or for an intake group's::

    WITH o AS (INSERT INTO orders (...) SELECT ... FROM json_populate_recordset(NULL::orders, $1)
               ON CONFLICT DO NOTHING RETURNING 1),
         l AS (INSERT INTO order_lines (...)
               SELECT ... FROM json_populate_recordset(NULL::order_lines, $2)
               WHERE (SELECT count(*) FROM o) = $n),
         ...
    SELECT count(*) FROM o

Each table's rows travel as one JSON document, so the statement's text never changes
whatever the number of rows: psycopg converts it once and prepares it once per connection
(a long statement or one with more than 50 parameters would be parsed again on every call).
The children are written only when every order row was: a lone order whose external id
already exists writes nothing, as with separate statements. The stored values are those
SQLAlchemy would bind: JSON columns hold JSON text (``None`` as JSON ``null``), amounts are exact
(sent as decimal strings), times are aware. The documents are written by orjson, times
included: ``json.dumps``, and handing each time to a Python callback, were visible shares
of an intake's CPU (docs/performance.md, items 4 and 18).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Table

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.tables import (
    allocations,
    order_events,
    order_holds,
    order_lines,
    orders,
    outbox,
    payments,
)

__all__ = ["insert_new_orders", "json_rows", "select_from_json"]

# Children in the order of the ``children`` argument; (table, CTE and parameter name).
_CHILDREN: tuple[tuple[Table, str], ...] = (
    (order_lines, "l"),
    (allocations, "a"),
    (order_holds, "h"),
    (payments, "p"),
    (order_events, "e"),
    (outbox, "m"),
)
# Every column but ``destination``, which intake leaves to its default (NULL).
_ORDER_COLUMNS = tuple(c.name for c in orders.c if c.name != "destination")


def _selected(table: Table, columns: tuple[str, ...]) -> str:
    # json_populate_recordset turns a JSON null into SQL NULL; SQLAlchemy's JSON type stores
    # Python None as JSON 'null', and so must this.
    return ", ".join(
        f"COALESCE({c}, 'null'::json)" if isinstance(table.c[c].type, JSON) else c for c in columns
    )


def select_from_json(table: Table, parameter: str) -> str:
    """``INSERT INTO table (every column) SELECT ... FROM`` the JSON rows of ``parameter``
    (a document ``json_rows`` wrote): one statement text whatever the number of rows."""
    columns = tuple(c.name for c in table.c)
    return (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {_selected(table, columns)} "
        f"FROM json_populate_recordset(NULL::{table.name}, %({parameter})s)"
    )


def _statement() -> str:
    # Built once at import from the table definitions; every value is a bound parameter.
    # The children are written only when every order row was.
    names = ", ".join(_ORDER_COLUMNS)
    ctes = [
        f"o AS (INSERT INTO orders ({names}) SELECT {_selected(orders, _ORDER_COLUMNS)} "  # noqa: S608
        "FROM json_populate_recordset(NULL::orders, %(o)s) ON CONFLICT DO NOTHING RETURNING 1)"
    ]
    for table, name in _CHILDREN:
        ctes.append(
            f"{name} AS ({select_from_json(table, name)} "  # noqa: S608
            "WHERE (SELECT count(*) FROM o) = %(n)s)"
        )
    return f"WITH {', '.join(ctes)} SELECT count(*) FROM o"  # noqa: S608


_INSERT_ORDERS = DriverStatement(_statement())


def _encode(value: object) -> str:
    """The JSON text of the values orjson cannot encode itself (amounts, as exact decimal
    strings)."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# Times and dates are written by orjson itself, as isoformat() writes them; a naive time
# (none is made here) is written as UTC, as the session's time zone would read it. Keys
# need not be text (as with json).
_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS


def json_rows(value: object) -> str:
    """The JSON text of ``value`` (rows as column -> value mappings) as the statements here
    send it: amounts exact, times as ``isoformat`` writes them."""
    return orjson.dumps(value, default=_encode, option=_OPTIONS).decode()


def insert_new_orders(
    conn: Connection,
    rows: list[tuple[dict[str, Any], tuple[list[dict[str, Any]], ...]]],
) -> bool:
    """Insert each ``(order row, children)`` and, if every order was new, all their
    children, in one statement: True when every order was new and all was written.

    ``children`` holds the rows of order_lines, allocations, order_holds, payments,
    order_events and outbox, in that order, each a list of column -> value mappings. When
    one order's external id exists, the other orders' rows are written but none of the
    children: the caller must roll back (it learns of this from False). A lone order
    whose external id exists writes nothing.
    """
    params: dict[str, Any] = {
        "n": len(rows),
        "o": json_rows([{c: order_row[c] for c in _ORDER_COLUMNS} for order_row, _ in rows]),
    }
    for index, (_, name) in enumerate(_CHILDREN):
        params[name] = json_rows([row for _, children in rows for row in children[index]])
    return bool(_INSERT_ORDERS.scalar(conn, params) == len(rows))
