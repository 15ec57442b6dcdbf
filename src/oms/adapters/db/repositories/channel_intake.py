"""A store's orders placed by the intake: their copies, sync log entries and connection
rows, written in the intake's own transaction (the unit of work's).

Copies recorded and log entries are kept until ``flush`` (the unit of work's commit, or
an intake group once its orders are written, calls it), so a group's are written
together. On PostgreSQL that is one statement, each table's rows travelling as one JSON
document (as ``order_insert`` writes orders)::

    WITH c AS (INSERT INTO channel_orders ... FROM json_populate_recordset(...)
               ON CONFLICT (...) DO UPDATE ... WHERE the stored copy is older),
         l AS (INSERT INTO channel_sync_log ... FROM json_populate_recordset(...))
    UPDATE channels ... FROM json_to_recordset(...) WHERE the row is stale

Through SQLAlchemy it was three (an executemany of the copies, one of the entries and an
update per connection), each costing the worker more CPU than PostgreSQL needs to run it.
Elsewhere (SQLite), and for entries whose connection changes health within the flush, the
three statements of ``oms.adapters.db.repositories.channels`` run as before: each
connection's row follows its last entry of a run of one health.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.repositories.channels import (
    LAST_SYNCED_STEP,
    health_runs,
    sync_log_row,
    upsert_copies,
    write_logs,
)
from oms.adapters.db.repositories.order_insert import json_rows, select_from_json
from oms.adapters.db.tables import channel_sync_log
from oms.domain.channels import ChannelHealth, SyncEntry

__all__ = ["SqlChannelIntakeRepository"]

# The connection's row follows as ``channels._follow`` has it: last_synced_at always, the
# health and its detail when the entry gives one; only when stale (never synced, synced
# LAST_SYNCED_STEP before the entry, or a health other than the stored healthy one).
# Built once at import; every value is a bound parameter.
_WRITE = DriverStatement(
    "WITH c AS (INSERT INTO channel_orders "  # noqa: S608
    "(tenant_id, channel_id, external_id, order_id, remote_updated_at) "
    "SELECT tenant_id, channel_id, external_id, order_id, remote_updated_at "
    "FROM json_populate_recordset(NULL::channel_orders, %(c)s) "
    "ON CONFLICT (tenant_id, channel_id, external_id) DO UPDATE "
    "SET remote_updated_at = excluded.remote_updated_at, order_id = excluded.order_id "
    "WHERE channel_orders.remote_updated_at < excluded.remote_updated_at), "
    f"l AS ({select_from_json(channel_sync_log, 'l')}) "
    "UPDATE channels SET last_synced_at = f.at, "
    "health = COALESCE(f.health, channels.health), "
    "health_detail = CASE WHEN f.health IS NULL THEN channels.health_detail "
    "ELSE f.detail END "
    "FROM json_to_recordset(%(f)s) "
    "AS f(tenant_id uuid, id uuid, at timestamptz, stale_before timestamptz, "
    "health text, detail text) "
    "WHERE channels.tenant_id = f.tenant_id AND channels.id = f.id "
    "AND (channels.last_synced_at IS NULL OR channels.last_synced_at < f.stale_before "
    "OR (f.health IS NOT NULL AND (f.health <> 'healthy' OR channels.health <> 'healthy')))"
)


class SqlChannelIntakeRepository:
    """The writes of a store's order placed by the intake (see the module's docstring)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._copies: list[dict[str, Any]] = []
        self._entries: list[tuple[UUID, SyncEntry, ChannelHealth | None]] = []

    def flush(self) -> None:
        """Write the copies and entries kept, in the order they were given."""
        copies, self._copies = self._copies, []
        entries, self._entries = self._entries, []
        if not copies and not entries:
            return
        newest: dict[tuple[UUID, UUID, str], dict[str, Any]] = {}
        for copy in copies:  # one row a copy in a statement: of one given twice, the newer
            key = (copy["tenant_id"], copy["channel_id"], copy["external_id"])
            kept = newest.get(key)
            if kept is None or kept["remote_updated_at"] < copy["remote_updated_at"]:
                newest[key] = copy
        runs = health_runs(entries)
        one_run_each = len({(t, e.channel_id) for t, e, _ in runs}) == len(runs)
        if self._conn.dialect.name != "postgresql" or not one_run_each:
            upsert_copies(self._conn, list(newest.values()))
            write_logs(self._conn, entries)
            return
        _WRITE.rows(
            self._conn,
            {
                "c": json_rows(list(newest.values())),
                "l": json_rows([sync_log_row(tenant_id, entry) for tenant_id, entry, _ in entries]),
                "f": json_rows(
                    [
                        {
                            "tenant_id": tenant_id,
                            "id": entry.channel_id,
                            "at": entry.at,
                            "stale_before": entry.at - LAST_SYNCED_STEP,
                            "health": None if health is None else health.value,
                            "detail": entry.detail,
                        }
                        for tenant_id, entry, health in runs
                    ]
                ),
            },
        )

    def record_copy(
        self,
        tenant_id: UUID,
        channel_id: UUID,
        external_id: str,
        *,
        order_id: UUID,
        updated_at: datetime,
    ) -> None:
        self._copies.append(
            {
                "tenant_id": tenant_id,
                "channel_id": channel_id,
                "external_id": external_id,
                "order_id": order_id,
                "remote_updated_at": updated_at,
            }
        )

    def log(self, tenant_id: UUID, entry: SyncEntry, health: ChannelHealth | None) -> None:
        self._entries.append((tenant_id, entry, health))
