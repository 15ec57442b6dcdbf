"""Counted levels set at once (``InventoryRepository.count_levels``): each level from the
figures it was read at to the counted ones, its ``count`` movement and its stock-push
marker, for a whole batch of an inventory import.

On PostgreSQL this is one statement over arrays (a data-modifying CTE):

    wanted (unnest, in (SKU, location) order)
      ├─ levels read as missing: INSERT with the counted figures (ON CONFLICT: not set)
      └─ levels read as present: locked in that order, kept where still as read (on hand,
                                 safety stock) and reserved <= the new on hand, then written
                                 (an upsert that always conflicts: by primary key)
    counted = the levels inserted or updated
      ├─ INSERT INTO inventory_movements  (where on hand changed: quantity = new - read)
      └─ INSERT INTO stock_changes        (ON CONFLICT DO NOTHING, in (SKU, location) order)
    answers the number of levels counted

Rows are locked in (SKU, location) order, as every use case locks them (the lock is taken
by primary key, not physical address: see ``_TRY_RESERVE_EACH``). A level that changed
after it was read, or was made meanwhile, is not counted: the caller sees fewer levels
than it asked for and starts over. On SQLite (one writer at a time) the same, a level at a
time through the repository's own statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, insert, select
from sqlalchemy.dialects import sqlite

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.repositories.stock_changes import mark_changed
from oms.adapters.db.tables import inventory_levels, inventory_movements, products
from oms.domain.catalogue import ProductKind, holds_stock
from oms.domain.ids import new_id
from oms.domain.inventory import MovementKind
from oms.services.ports import LevelCount, LevelToCount

__all__ = ["count_levels", "levels_to_count"]

# Whether a product of each kind (as stored) holds stock: the rule, read once per kind.
_HOLDS_STOCK = {kind.value: holds_stock(kind) for kind in ProductKind}

# levels_to_count on PostgreSQL: each key looked up through its primary key, whatever the
# statistics say (``OFFSET 0`` keeps each lookup a subquery of its own, so the plan is a
# loop of index probes, never a scan of the tenant's levels).
_TO_COUNT = DriverStatement("""
SELECT w.n, p.id, p.kind, lv.on_hand, lv.reserved, lv.safety_stock
FROM unnest(CAST(%(skus)b AS VARCHAR[]), CAST(%(locations)b AS UUID[]))
    WITH ORDINALITY AS w(sku, location_id, n)
CROSS JOIN LATERAL (
    SELECT id, kind FROM products WHERE tenant_id = %(tenant_id)s AND sku = w.sku OFFSET 0
) p
LEFT JOIN LATERAL (
    SELECT on_hand, reserved, safety_stock FROM inventory_levels
    WHERE tenant_id = %(tenant_id)s AND sku = w.sku AND location_id = w.location_id
    OFFSET 0
) lv ON true
""")

_COUNT_EACH = DriverStatement("""
WITH wanted AS (
    SELECT * FROM unnest(
        CAST(%(ids)b AS UUID[]),
        CAST(%(skus)b AS VARCHAR[]),
        CAST(%(locations)b AS UUID[]),
        CAST(%(was_on_hand)b AS INTEGER[]),
        CAST(%(was_safety)b AS INTEGER[]),
        CAST(%(on_hand)b AS INTEGER[]),
        CAST(%(safety)b AS INTEGER[]),
        CAST(%(references)b AS VARCHAR[])
    ) AS w(id, sku, location_id, was_on_hand, was_safety, on_hand, safety, reference)
    ORDER BY sku, location_id
), made AS (
    INSERT INTO inventory_levels
        (tenant_id, sku, location_id, on_hand, reserved, safety_stock, updated_at)
    SELECT %(tenant_id)s, w.sku, w.location_id, w.on_hand, 0, w.safety, %(at)s
    FROM wanted w WHERE w.was_on_hand IS NULL
    ORDER BY w.sku, w.location_id
    ON CONFLICT DO NOTHING
    RETURNING sku, location_id
), locked AS (
    -- Locked one at a time in (SKU, location) order, each as it now is (a row another
    -- transaction changed meanwhile is read as that one left it); kept where it is still
    -- as the caller read it and on hand stays at or above reserved.
    SELECT w.* FROM wanted w CROSS JOIN LATERAL (
        SELECT on_hand, reserved, safety_stock FROM inventory_levels
        WHERE tenant_id = %(tenant_id)s AND sku = w.sku AND location_id = w.location_id
        FOR UPDATE
    ) lv
    WHERE w.was_on_hand IS NOT NULL AND lv.on_hand = w.was_on_hand
        AND lv.safety_stock = w.was_safety AND lv.reserved <= w.on_hand
), updated AS (
    -- Every row here exists and is locked by this statement, so each is a conflict: an
    -- update found through the primary key (not a join the planner might turn into a scan
    -- of the tenant's levels), which nothing can change between the lock and the write.
    INSERT INTO inventory_levels
        (tenant_id, sku, location_id, on_hand, reserved, safety_stock, updated_at)
    SELECT %(tenant_id)s, k.sku, k.location_id, k.on_hand, 0, k.safety, %(at)s
    FROM locked k
    ORDER BY k.sku, k.location_id
    ON CONFLICT (tenant_id, sku, location_id) DO UPDATE
    SET on_hand = EXCLUDED.on_hand, safety_stock = EXCLUDED.safety_stock,
        updated_at = EXCLUDED.updated_at
), counted AS (
    SELECT k.id, k.sku, k.location_id, k.on_hand - k.was_on_hand AS quantity, k.on_hand,
        k.reference
    FROM locked k
    UNION ALL
    SELECT w.id, w.sku, w.location_id, w.on_hand, w.on_hand, w.reference
    FROM made m JOIN wanted w ON w.sku = m.sku AND w.location_id = m.location_id
), moved AS (
    INSERT INTO inventory_movements (tenant_id, id, sku, location_id, kind, quantity,
        on_hand_after, reason, reference, actor, created_at)
    SELECT %(tenant_id)s, c.id, c.sku, c.location_id, %(kind)s, c.quantity, c.on_hand,
        %(reason)s, c.reference, %(actor)s, %(at)s
    FROM counted c WHERE c.quantity <> 0
), marked AS (
    INSERT INTO stock_changes (tenant_id, sku, location_id, changed_at)
    SELECT %(tenant_id)s, c.sku, c.location_id, %(at)s FROM counted c
    ORDER BY c.sku, c.location_id
    ON CONFLICT DO NOTHING
)
SELECT count(*) FROM counted
""")


def levels_to_count(
    conn: Connection, tenant_id: UUID, keys: Sequence[tuple[str, UUID]]
) -> list[LevelToCount]:
    """Each key whose SKU is a product of the tenant, with its level as it is."""
    # Each key once (by the location id's integer: hashed without a Python-level call).
    wanted = list(
        {(sku, location_id.int): (sku, location_id) for sku, location_id in keys}.values()
    )
    if not wanted:
        return []
    if conn.dialect.name == "postgresql":
        # Each row names its key by its place in ``wanted`` (the caller's own objects back).
        rows: Iterable[Any] = [
            (*wanted[n - 1], *found)
            for n, *found in _TO_COUNT.tuples(
                conn,
                {
                    "tenant_id": tenant_id,
                    "skus": [sku for sku, _ in wanted],
                    "locations": [location_id for _, location_id in wanted],
                },
            )
        ]
    else:
        pr, lv = products.c, inventory_levels.c
        found = {
            row.sku: row
            for row in conn.execute(
                select(pr.sku, pr.id, pr.kind).where(
                    pr.tenant_id == tenant_id, pr.sku.in_({sku for sku, _ in wanted})
                )
            )
        }
        stored = {
            (row.sku, row.location_id): row
            for row in conn.execute(
                select(lv.sku, lv.location_id, lv.on_hand, lv.reserved, lv.safety_stock).where(
                    lv.tenant_id == tenant_id, lv.sku.in_(found)
                )
            )
        }
        rows = []
        for sku, location_id in wanted:
            product = found.get(sku)
            if product is None:
                continue
            level = stored.get((sku, location_id))
            figures = (None, None, None) if level is None else level[2:]
            rows.append((sku, location_id, product.id, product.kind, *figures))
    return [
        LevelToCount(
            sku,
            location_id,
            product_id,
            _HOLDS_STOCK[kind],
            on_hand,
            reserved or 0,
            safety or 0,
        )
        for sku, location_id, product_id, kind, on_hand, reserved, safety in rows
    ]


def count_levels(
    conn: Connection,
    tenant_id: UUID,
    counts: Sequence[LevelCount],
    *,
    reason: str,
    actor: str,
    at: datetime,
) -> int:
    """Set each level of ``counts`` (one per level) and write its ``count`` movement and
    marker; the number of levels set."""
    if not counts:
        return 0
    if len({(c.sku, c.location_id.int) for c in counts}) != len(counts):
        raise ValueError("each level may be counted once per call")
    if conn.dialect.name == "postgresql":
        found = _COUNT_EACH.tuples(
            conn,
            {
                "tenant_id": tenant_id,
                "ids": [new_id() for _ in counts],
                "skus": [c.sku for c in counts],
                "locations": [c.location_id for c in counts],
                "was_on_hand": [c.was_on_hand for c in counts],
                "was_safety": [c.was_safety_stock for c in counts],
                "on_hand": [c.on_hand for c in counts],
                "safety": [c.safety_stock for c in counts],
                "references": [c.reference for c in counts],
                "kind": MovementKind.COUNT.value,
                "reason": reason,
                "actor": actor,
                "at": at,
            },
        )
        return int(found[0][0])
    return _count_one_by_one(conn, tenant_id, counts, reason=reason, actor=actor, at=at)


def _count_one_by_one(
    conn: Connection,
    tenant_id: UUID,
    counts: Sequence[LevelCount],
    *,
    reason: str,
    actor: str,
    at: datetime,
) -> int:
    lv = inventory_levels.c
    done: list[LevelCount] = []
    for c in sorted(counts, key=lambda c: (c.sku, c.location_id)):
        if c.was_on_hand is None:
            made = conn.execute(
                sqlite.insert(inventory_levels)
                .values(
                    tenant_id=tenant_id,
                    sku=c.sku,
                    location_id=c.location_id,
                    on_hand=c.on_hand,
                    reserved=0,
                    safety_stock=c.safety_stock,
                    updated_at=at,
                )
                .on_conflict_do_nothing()
            )
            if made.rowcount == 1:
                done.append(c)
            continue
        updated = conn.execute(
            inventory_levels.update()
            .where(
                lv.tenant_id == tenant_id,
                lv.sku == c.sku,
                lv.location_id == c.location_id,
                lv.on_hand == c.was_on_hand,
                lv.safety_stock == c.was_safety_stock,
                lv.reserved <= c.on_hand,
            )
            .values(on_hand=c.on_hand, safety_stock=c.safety_stock, updated_at=at)
        )
        if updated.rowcount == 1:
            done.append(c)
    moved = [
        {
            "tenant_id": tenant_id,
            "id": new_id(),
            "sku": c.sku,
            "location_id": c.location_id,
            "kind": MovementKind.COUNT.value,
            "quantity": c.on_hand - (c.was_on_hand or 0),
            "on_hand_after": c.on_hand,
            "reason": reason,
            "reference": c.reference,
            "actor": actor,
            "created_at": at,
        }
        for c in done
        if c.on_hand != (c.was_on_hand or 0)
    ]
    if moved:
        conn.execute(insert(inventory_movements), moved)
    mark_changed(conn, tenant_id, [(c.sku, c.location_id) for c in done], at)
    return len(done)
