"""Units added to on hand with their ledger movements, in one statement on PostgreSQL.

A return's receipt raises each level's on hand and writes a movement per SKU whose
``on_hand_after`` is the level's new on hand: as two statements (``add_on_hand``, then
``add_movements`` with what the first answered) the levels' rows, which every concurrent
receipt of the same SKUs waits for, stayed locked across one round trip more. Here the
movements are written from the raised rows in the same statement (a data-modifying CTE
over the other's ``RETURNING``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection

from oms.adapters.db.driver import DriverStatement
from oms.domain.ids import new_id
from oms.domain.inventory import MAX_QUANTITY
from oms.services.ports import MovementNote

__all__ = ["RAISE_LEVELS", "add_on_hand_with_movements"]

# Each level's on hand raised (the level made if missing) in SKU order, and its stock-push
# marker left. A level that would pass the maximum answers no row and is left as it was.
RAISE_LEVELS = """
WITH raised AS (
    INSERT INTO inventory_levels AS lv
        (tenant_id, sku, location_id, on_hand, reserved, safety_stock, updated_at)
    SELECT %(tenant_id)s, w.sku, %(location_id)s, w.quantity, 0, 0, %(at)s
    FROM unnest(CAST(%(skus)s AS VARCHAR[]), CAST(%(quantities)s AS INTEGER[]))
        AS w(sku, quantity)
    ORDER BY w.sku
    ON CONFLICT (tenant_id, sku, location_id) DO UPDATE
    SET on_hand = lv.on_hand + excluded.on_hand, updated_at = excluded.updated_at
    WHERE lv.on_hand + excluded.on_hand <= %(most)s
    RETURNING lv.sku, lv.on_hand
), marked AS (
    INSERT INTO stock_changes (tenant_id, sku, location_id, changed_at)
    SELECT %(tenant_id)s, r.sku, %(location_id)s, %(at)s FROM raised r
    ORDER BY r.sku
    ON CONFLICT DO NOTHING
)
"""
"""The CTEs ``raised`` (each level's SKU and on hand after) and ``marked`` (its stock-push
marker), for ``SqlInventoryRepository.add_on_hand`` and the statement here."""
_RAISE_WITH_MOVEMENTS = DriverStatement(
    RAISE_LEVELS  # noqa: S608  # constant text, no input
    + """, moved AS (
    INSERT INTO inventory_movements (tenant_id, id, sku, location_id, kind, quantity,
        on_hand_after, reason, reference, actor, created_at)
    SELECT %(tenant_id)s, w.id, r.sku, %(location_id)s, %(kind)s, w.quantity, r.on_hand,
        %(reason)s, %(reference)s, %(actor)s, %(at)s
    FROM raised r
    JOIN unnest(
        CAST(%(skus)s AS VARCHAR[]), CAST(%(quantities)s AS INTEGER[]), CAST(%(ids)s AS UUID[])
    ) AS w(sku, quantity, id) ON w.sku = r.sku
    ORDER BY r.sku
)
SELECT sku, on_hand FROM raised"""
)


def add_on_hand_with_movements(
    conn: Connection,
    tenant_id: UUID,
    location_id: UUID,
    units: Mapping[str, int],
    at: datetime,
    note: MovementNote,
) -> dict[str, int] | None:
    """``InventoryRepository.add_on_hand_with_movements`` on PostgreSQL."""
    skus = sorted(units)
    if not skus:
        return {}
    raised = {
        sku: int(on_hand)
        for sku, on_hand in _RAISE_WITH_MOVEMENTS.tuples(
            conn,
            {
                "tenant_id": tenant_id,
                "location_id": location_id,
                "skus": skus,
                "quantities": [units[sku] for sku in skus],
                "ids": [new_id() for _ in skus],
                "at": at,
                "most": MAX_QUANTITY,
                "kind": note.kind.value,
                "reason": note.reason,
                "reference": note.reference,
                "actor": note.actor,
            },
        )
    }
    if len(raised) != len(skus):
        return None  # the caller rolls back (the others' rows and movements were written)
    return {sku: raised[sku] for sku in skus}
