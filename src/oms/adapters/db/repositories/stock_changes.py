"""Markers of changed stock levels (``oms.services.stock_push``): written by the inventory
repository with every change of a level, claimed by the worker.

A marker is one row per (tenant, SKU, location): ``INSERT ... ON CONFLICT DO NOTHING``
keeps the first change's moment, so a SKU that moves a hundred times in the debounce
window is one row. Claiming deletes the rows it returns; on PostgreSQL the rows are picked
``FOR UPDATE SKIP LOCKED``, so two workers never claim one. Rows are written in (SKU,
location) order, the order the level rows themselves are locked in, so markers add no
deadlock that the levels would not have.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from uuid import UUID

from sqlalchemy import Connection, Executable, delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.tables import stock_changes
from oms.services.stock_push import StockChange

__all__ = ["SqlStockChangeRepository", "mark_changed"]

_sc = stock_changes.c


@cache
def _mark_statement(dialect_name: str) -> Executable:
    insert = sqlite.insert if dialect_name == "sqlite" else postgresql.insert
    return insert(stock_changes).on_conflict_do_nothing()


# mark_changed on PostgreSQL: one statement over arrays, however many levels.
_MARK_EACH = DriverStatement("""
INSERT INTO stock_changes (tenant_id, sku, location_id, changed_at)
SELECT %(tenant_id)s, w.sku, w.location_id, %(at)s
FROM unnest(CAST(%(skus)b AS VARCHAR[]), CAST(%(locations)b AS UUID[])) AS w(sku, location_id)
ORDER BY w.sku, w.location_id
ON CONFLICT DO NOTHING
""")


def mark_changed(
    conn: Connection, tenant_id: UUID, levels: Iterable[tuple[str, UUID]], at: datetime
) -> None:
    """Leave a marker for each level (SKU, location) whose quantities changed."""
    ordered = sorted(set(levels))
    if not ordered:
        return
    if conn.dialect.name == "postgresql":
        _MARK_EACH.rows(
            conn,
            {
                "tenant_id": tenant_id,
                "skus": [sku for sku, _ in ordered],
                "locations": [location_id for _, location_id in ordered],
                "at": at,
            },
        )
        return
    conn.execute(
        _mark_statement(conn.dialect.name),
        [
            {"tenant_id": tenant_id, "sku": sku, "location_id": location_id, "changed_at": at}
            for sku, location_id in ordered
        ],
    )


class SqlStockChangeRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def claim_due(self, *, changed_before: datetime, limit: int) -> list[StockChange]:
        due = (
            select(_sc.tenant_id, _sc.sku, _sc.location_id)
            .where(_sc.changed_at <= changed_before)
            .order_by(_sc.changed_at)
            .limit(limit)
        )
        if self._conn.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        rows = self._conn.execute(
            delete(stock_changes)
            .where(tuple_(_sc.tenant_id, _sc.sku, _sc.location_id).in_(due))
            .returning(_sc.tenant_id, _sc.sku, _sc.location_id, _sc.changed_at)
        )
        found = [StockChange(r.tenant_id, r.sku, r.location_id, r.changed_at) for r in rows]
        return sorted(found, key=lambda c: (c.changed_at, str(c.tenant_id), c.sku))
