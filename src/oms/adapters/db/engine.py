"""Engines for PostgreSQL (psycopg 3) and SQLite (WAL, one writer at a time)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import ConnectionPoolEntry

from oms.config import Settings

__all__ = ["build_engine"]

SQLITE_BUSY_TIMEOUT_MS = 30_000


def build_engine(settings: Settings) -> Engine:
    """An engine for ``settings.database_url``; SQLite write transactions begin IMMEDIATE.

    SQLite allows one writer: starting every write transaction with ``BEGIN IMMEDIATE``
    takes the write lock up front, so two writers queue on ``busy_timeout`` instead of
    failing when a reader tries to upgrade its lock.
    """
    url = settings.database_url
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event starts them
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = "DEFERRED" if connection.get_execution_options().get("oms_readonly") else "IMMEDIATE"
        connection.exec_driver_sql(f"BEGIN {mode}")
