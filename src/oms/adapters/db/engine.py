"""Engines for PostgreSQL (psycopg 3) and SQLite (WAL, one writer at a time)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from oms.config import Settings

__all__ = ["build_engine"]

SQLITE_BUSY_TIMEOUT_MS = 30_000
# A pooled PostgreSQL connection idle for longer than this is pinged before it is used.
IDLE_PING_SECONDS = 10.0
# Read times in UTC (``oms.adapters.db.driver`` reads them without SQLAlchemy's conversion).
POSTGRES_OPTIONS = "-c TimeZone=UTC"


def build_engine(settings: Settings) -> Engine:
    """An engine for ``settings.database_url``; SQLite write transactions begin IMMEDIATE.

    SQLite allows one writer: starting every write transaction with ``BEGIN IMMEDIATE``
    takes the write lock up front, so two writers queue on ``busy_timeout`` instead of
    failing when a reader tries to upgrade its lock.

    PostgreSQL connections leave the choice between a generic and a custom plan to the
    server (its ``plan_cache_mode``, ``auto`` unless configured otherwise). psycopg
    prepares a statement after its fifth run, and the server may then keep a generic plan
    made from the statistics of the moment; a plan made before a table had statistics (a
    tenant's first orders) read every row of the tenant once there were thousands.
    Statistics are kept current (autovacuum, or ``oms.adapters.db.statistics`` where it
    is off), and each ``ANALYZE`` makes the server plan the statements of that table again.
    """
    url = settings.database_url
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        _configure_sqlite(engine)
        return engine
    engine = create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        connect_args={"options": POSTGRES_OPTIONS},
    )
    _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: Engine) -> None:
    """Ping a pooled connection before use only when it sat idle for a while.

    ``pool_pre_ping`` would ping on every checkout: one round trip more per request, a
    visible share of an order intake (docs/performance.md, item 2). A connection in steady
    use was used moments ago; the ones that may have been dropped meanwhile (server
    restart, idle timeout) are those that sat idle.
    One found dead is replaced before use, as with ``pool_pre_ping``; a connection that
    dies while in use fails that request, and SQLAlchemy then refreshes the whole pool.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["oms_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(
        dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        idle_since = record.info.get("oms_idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out another (a new one).
            raise exc.DisconnectionError(str(error)) from error


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
        if connection.get_execution_options().get("oms_readonly"):
            connection.exec_driver_sql("BEGIN DEFERRED")
            # A read-only unit of work refuses writes, as on PostgreSQL; undone at checkin.
            connection.exec_driver_sql("PRAGMA query_only=1")
            connection.connection.info["oms_query_only"] = True
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        if record.info.pop("oms_query_only", False):
            dbapi_connection.execute("PRAGMA query_only=0")
