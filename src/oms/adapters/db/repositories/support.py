"""Small pieces every repository needs: portable upserts."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Connection, Executable, Table
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["insert_if_absent"]


@cache
def _insert_ignoring_conflicts(dialect_name: str, table: Table) -> Executable:
    # Built once per table, the values bound at execution: building the statement with
    # .values() on every call costs several times what executing it does.
    first_key = next(iter(table.primary_key.columns))
    if dialect_name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing().returning(first_key)
    return postgresql.insert(table).on_conflict_do_nothing().returning(first_key)


def insert_if_absent(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row was inserted.

    On PostgreSQL a concurrent insert of the same key waits for the other transaction and
    then reports the conflict, so exactly one caller ever gets True.
    """
    statement = _insert_ignoring_conflicts(conn.dialect.name, table)
    # RETURNING rather than rowcount: psycopg reports no rowcount for this statement form.
    return conn.execute(statement, values).first() is not None
