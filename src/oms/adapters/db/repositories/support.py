"""Small pieces every repository needs: portable upserts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["insert_if_absent"]


def insert_if_absent(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row was inserted.

    On PostgreSQL a concurrent insert of the same key waits for the other transaction and
    then reports the conflict, so exactly one caller ever gets True.
    """
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    first_key = next(iter(table.primary_key.columns))
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing().returning(first_key)
    # RETURNING rather than rowcount: psycopg reports no rowcount for this statement form.
    return conn.execute(statement).first() is not None
