"""Engines for PostgreSQL (psycopg 3) and SQLite (WAL, one writer at a time)."""

from __future__ import annotations

import time
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy import Connection, Engine, create_engine, event, exc
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
    _keep_prepared_statements(engine)
    return engine


def _keep_prepared_statements(engine: Engine) -> None:
    """Roll back without psycopg forgetting the statements it prepared on the connection.

    psycopg prepares a statement after its fifth run on a connection, and forgets all it
    prepared at every ROLLBACK (then sends ``DEALLOCATE ALL``), in case the transaction
    undid a change of the schema. Every read-only unit of work ends with a rollback, and so
    does every refused request: under load a pooled connection seldom ran a statement five
    times between two rollbacks, so nearly every statement was parsed and planned anew
    (docs/performance.md, "A return's calls on PostgreSQL").

    A statement prepared on the server outlives the transaction it was prepared in, and
    the schema changes only in migrations (a ``DROP`` or ``ALTER`` still makes psycopg
    forget them all: it reads each statement's result). So a transaction in which nothing
    failed is rolled back through libpq first; psycopg's own rollback then finds no
    transaction and does nothing. A transaction in which a statement failed is rolled back
    by psycopg as before: a statement whose preparing run failed is prepared on the server
    but forgotten by psycopg, and its ``DEALLOCATE ALL`` frees it. When libpq's ROLLBACK
    fails (a lost connection), psycopg's runs as before and raises what it raises.
    """

    @event.listens_for(engine, "rollback")
    def _on_rollback(connection: Connection) -> None:
        if not (connection.closed or connection.invalidated):
            _rollback_keeping_prepared(connection.connection.driver_connection)

    @event.listens_for(engine, "reset")
    def _on_reset(dbapi_connection: Any, _record: ConnectionPoolEntry, _state: Any) -> None:
        _rollback_keeping_prepared(dbapi_connection)


def _rollback_keeping_prepared(driver: Any) -> None:
    if not isinstance(driver, psycopg.Connection) or driver.closed:
        return
    with driver.lock:
        pgconn = driver.pgconn
        if pgconn.transaction_status != pq.TransactionStatus.INTRANS:
            return
        try:
            pgconn.exec_(b"ROLLBACK")  # its failure leaves the rollback to psycopg
        except psycopg.Error:
            return


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
