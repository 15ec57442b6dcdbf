"""Inventory levels, the movement ledger, and the invariant queries of ``oms check``.

``reserved`` is held by open order allocations and active cart reservations. Every
statement that changes ``reserved`` is a single conditional UPDATE: it either finds
enough available stock in the row as it is at that instant and takes it, or changes
nothing. On PostgreSQL a concurrent writer waits for the row lock and then re-checks the
condition against the committed row, so two transactions can never both take the last unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    any_,
    bindparam,
    func,
    insert,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects import sqlite

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.repositories.level_counts import count_levels, levels_to_count
from oms.adapters.db.repositories.restock import RAISE_LEVELS, add_on_hand_with_movements
from oms.adapters.db.repositories.stock_changes import mark_changed
from oms.adapters.db.repositories.support import insert_if_absent
from oms.adapters.db.tables import (
    allocations,
    cart_reservation_lines,
    cart_reservations,
    inventory_levels,
    inventory_movements,
    locations,
)
from oms.domain.ids import new_id
from oms.domain.inventory import MAX_QUANTITY, Movement, MovementKind, StockLevel
from oms.services.ports import (
    InvariantViolation,
    LevelCount,
    LevelToCount,
    MovementNote,
    NewMovement,
)

__all__ = ["SqlInventoryRepository"]

_lv = inventory_levels.c

# The statements of order intake, built once with parameters bound at execution: building
# a statement costs a few times what sending it does.
_one_level = (
    _lv.tenant_id == bindparam("p_tenant_id", type_=_lv.tenant_id.type),
    _lv.sku == bindparam("p_sku", type_=_lv.sku.type),
    _lv.location_id == bindparam("p_location_id", type_=_lv.location_id.type),
)
_quantity = bindparam("p_quantity", type_=_lv.reserved.type)
_at = bindparam("p_at", type_=_lv.updated_at.type)
_TRY_RESERVE = (
    update(inventory_levels)
    .where(*_one_level, _lv.on_hand - _lv.reserved - _lv.safety_stock >= _quantity)
    .values(reserved=_lv.reserved + _quantity, updated_at=_at)
)
_RELEASE = (
    update(inventory_levels)
    .where(*_one_level, _lv.reserved >= _quantity)
    .values(reserved=_lv.reserved - _quantity, updated_at=_at)
)
_TAKE_OUT = (
    update(inventory_levels)
    .where(*_one_level, _lv.reserved >= _quantity)
    .values(on_hand=_lv.on_hand - _quantity, reserved=_lv.reserved - _quantity, updated_at=_at)
    .returning(_lv.on_hand)
)
# try_reserve for several rows in one statement (PostgreSQL), leaving the changed levels'
# markers (``mark_changed``) in the same statement. ``locked`` takes the row locks
# one row at a time in (sku, location) order, as one conditional UPDATE per row in that
# order would, so concurrent orders cannot deadlock; the UPDATE then re-checks each row's
# condition against the row as it now is. Rows are found by primary key, both times: not
# by physical address (ctid), because a row another transaction updated while this one
# waited for its lock has a new address that this statement's snapshot cannot see, and
# the UPDATE would skip it as if its stock had run out.
_TRY_RESERVE_EACH = DriverStatement("""
WITH wanted AS (
    SELECT * FROM unnest(
        CAST(%(skus)s AS VARCHAR[]),
        CAST(%(locations)s AS UUID[]),
        CAST(%(quantities)s AS INTEGER[])
    ) AS w(sku, location_id, quantity)
    ORDER BY sku, location_id
), locked AS (
    SELECT w.sku, w.location_id, w.quantity
    FROM wanted w CROSS JOIN LATERAL (
        SELECT 1 FROM inventory_levels
        WHERE tenant_id = %(tenant_id)s AND sku = w.sku AND location_id = w.location_id
        FOR UPDATE
    ) lv
), reserved AS (
    UPDATE inventory_levels lv
    SET reserved = lv.reserved + k.quantity, updated_at = %(at)s
    FROM locked k
    WHERE lv.tenant_id = %(tenant_id)s AND lv.sku = k.sku AND lv.location_id = k.location_id
        AND lv.on_hand - lv.reserved - lv.safety_stock >= k.quantity
    RETURNING lv.sku, lv.location_id
), marked AS (
    INSERT INTO stock_changes (tenant_id, sku, location_id, changed_at)
    SELECT %(tenant_id)s, r.sku, r.location_id, %(at)s FROM reserved r
    ORDER BY r.sku, r.location_id
    ON CONFLICT DO NOTHING
)
SELECT sku, location_id FROM reserved
""")
# add_movements on PostgreSQL: one statement over arrays, not a row each.
_MOVEMENTS_EACH = DriverStatement("""
INSERT INTO inventory_movements (tenant_id, id, sku, location_id, kind, quantity,
    on_hand_after, reason, reference, actor, created_at)
SELECT %(tenant_id)s, w.* FROM unnest(
    CAST(%(ids)b AS UUID[]), CAST(%(skus)b AS VARCHAR[]), CAST(%(locations)b AS UUID[]),
    CAST(%(kinds)b AS VARCHAR[]), CAST(%(quantities)b AS INTEGER[]),
    CAST(%(after)b AS INTEGER[]), CAST(%(reasons)b AS TEXT[]),
    CAST(%(references)b AS VARCHAR[]), CAST(%(actors)b AS VARCHAR[]),
    CAST(%(created)b AS TIMESTAMPTZ[])
) AS w
RETURNING id
""")
# add_on_hand on PostgreSQL: each level's on hand raised (the level made if missing) in SKU
# order, and its stock-push marker left, in one statement. A level that would pass the
# maximum answers no row and is left as it was.
_ADD_ON_HAND_EACH = DriverStatement(RAISE_LEVELS + "SELECT sku, on_hand FROM raised")  # noqa: S608
# A level's columns in ``StockLevel``'s order: each row makes one as it is.
_LEVEL_COLUMNS = (_lv.sku, _lv.location_id, _lv.on_hand, _lv.reserved, _lv.safety_stock)
_LEVELS = (
    select(*_LEVEL_COLUMNS)
    .where(
        _lv.tenant_id == bindparam("p_tenant_id", type_=_lv.tenant_id.type),
        _lv.sku.in_(bindparam("p_skus", expanding=True, type_=_lv.sku.type)),
    )
    .order_by(_lv.sku, _lv.location_id)
)
_LEVELS_AT = _LEVELS.where(
    _lv.location_id.in_(bindparam("p_location_ids", expanding=True, type_=_lv.location_id.type))
)
# What every intake's routing reads, on PostgreSQL through psycopg (oms.adapters.db.driver).
_LEVELS_AT_RUN = DriverStatement(
    select(*_LEVEL_COLUMNS)
    .where(
        _lv.tenant_id == bindparam("p_tenant_id", type_=_lv.tenant_id.type),
        _lv.sku == any_(bindparam("p_skus", type_=ARRAY(_lv.sku.type))),
        _lv.location_id == any_(bindparam("p_location_ids", type_=ARRAY(_lv.location_id.type))),
    )
    .order_by(_lv.sku, _lv.location_id),
    portable=_LEVELS_AT,
)


class SqlInventoryRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _row(self, tenant_id: UUID, sku: str, location_id: UUID) -> tuple[ColumnElement[bool], ...]:
        return (_lv.tenant_id == tenant_id, _lv.sku == sku, _lv.location_id == location_id)

    def levels(
        self, tenant_id: UUID, skus: Iterable[str], location_ids: Iterable[UUID] | None = None
    ) -> list[StockLevel]:
        wanted = sorted(set(skus))
        if not wanted:
            return []
        if location_ids is None:
            rows: Iterable[Any] = self._conn.execute(
                _LEVELS, {"p_tenant_id": tenant_id, "p_skus": wanted}
            )
        else:
            rows = _LEVELS_AT_RUN.tuples(
                self._conn,
                {"p_tenant_id": tenant_id, "p_skus": wanted, "p_location_ids": list(location_ids)},
            )
        return [StockLevel(*row) for row in rows]

    def ensure_level(self, tenant_id: UUID, sku: str, location_id: UUID, at: datetime) -> None:
        insert_if_absent(
            self._conn,
            inventory_levels,
            {
                "tenant_id": tenant_id,
                "sku": sku,
                "location_id": location_id,
                "on_hand": 0,
                "reserved": 0,
                "safety_stock": 0,
                "updated_at": at,
            },
        )

    def compare_and_set(
        self,
        tenant_id: UUID,
        level: StockLevel,
        *,
        on_hand: int,
        safety_stock: int,
        at: datetime,
    ) -> bool:
        result = self._conn.execute(
            update(inventory_levels)
            .where(
                *self._row(tenant_id, level.sku, level.location_id),
                _lv.on_hand == level.on_hand,
                _lv.safety_stock == level.safety_stock,
                _lv.reserved <= on_hand,
            )
            .values(on_hand=on_hand, safety_stock=safety_stock, updated_at=at)
        )
        if result.rowcount != 1:
            return False
        mark_changed(self._conn, tenant_id, [(level.sku, level.location_id)], at)
        return True

    def try_reserve(
        self, tenant_id: UUID, sku: str, location_id: UUID, quantity: int, at: datetime
    ) -> bool:
        result = self._conn.execute(
            _TRY_RESERVE,
            {
                "p_tenant_id": tenant_id,
                "p_sku": sku,
                "p_location_id": location_id,
                "p_quantity": quantity,
                "p_at": at,
            },
        )
        if result.rowcount != 1:
            return False
        mark_changed(self._conn, tenant_id, [(sku, location_id)], at)
        return True

    def try_reserve_each(
        self, tenant_id: UUID, wanted: Sequence[tuple[str, UUID, int]], at: datetime
    ) -> set[tuple[str, UUID]]:
        """``try_reserve`` for each distinct ``(sku, location, quantity)``, in (SKU,
        location) order; the rows that were reserved.

        On PostgreSQL one statement: it locks the rows in that order first (as separate
        updates would, one after the other), then applies each row's conditional update.
        """
        keys = sorted((sku, location_id) for sku, location_id, _ in wanted)
        if len(set(keys)) != len(keys):
            raise ValueError("each row may be reserved once per call")
        if self._conn.dialect.name != "postgresql" or len(wanted) < 2:
            return {
                (sku, location_id)
                for sku, location_id, quantity in sorted(wanted)
                if self.try_reserve(tenant_id, sku, location_id, quantity, at)
            }
        rows = _TRY_RESERVE_EACH.rows(
            self._conn,
            {
                "tenant_id": tenant_id,
                "skus": [sku for sku, _, _ in wanted],
                "locations": [location_id for _, location_id, _ in wanted],
                "quantities": [quantity for _, _, quantity in wanted],
                "at": at,
            },
        )
        # The statement left the markers of the levels it changed (stock_changes).
        return {(row.sku, row.location_id) for row in rows}

    def release(
        self, tenant_id: UUID, sku: str, location_id: UUID, quantity: int, at: datetime
    ) -> None:
        result = self._conn.execute(
            _RELEASE,
            {
                "p_tenant_id": tenant_id,
                "p_sku": sku,
                "p_location_id": location_id,
                "p_quantity": quantity,
                "p_at": at,
            },
        )
        if result.rowcount != 1:
            raise RuntimeError(f"cannot release {quantity} of {sku} at {location_id}")
        mark_changed(self._conn, tenant_id, [(sku, location_id)], at)

    def take_out(
        self, tenant_id: UUID, sku: str, location_id: UUID, quantity: int, at: datetime
    ) -> int:
        """Remove reserved units from the shelf (shipped, collected, found missing):
        ``on_hand`` and ``reserved`` both drop; returns ``on_hand`` after."""
        on_hand = self._conn.execute(
            _TAKE_OUT,
            {
                "p_tenant_id": tenant_id,
                "p_sku": sku,
                "p_location_id": location_id,
                "p_quantity": quantity,
                "p_at": at,
            },
        ).scalar()
        if on_hand is None:
            raise RuntimeError(f"{quantity} of {sku} at {location_id} are not reserved")
        mark_changed(self._conn, tenant_id, [(sku, location_id)], at)
        return int(on_hand)

    def add_movement(
        self,
        tenant_id: UUID,
        *,
        sku: str,
        location_id: UUID,
        kind: MovementKind,
        quantity: int,
        on_hand_after: int,
        reason: str | None,
        reference: str | None,
        actor: str,
        at: datetime,
    ) -> UUID:
        movement_id: UUID = new_id()
        self._conn.execute(
            insert(inventory_movements).values(
                tenant_id=tenant_id,
                id=movement_id,
                sku=sku,
                location_id=location_id,
                kind=kind.value,
                quantity=quantity,
                on_hand_after=on_hand_after,
                reason=reason,
                reference=reference,
                actor=actor,
                created_at=at,
            )
        )
        return movement_id

    def movements(
        self,
        tenant_id: UUID,
        sku: str,
        *,
        location_id: UUID | None,
        after_id: UUID | None,
        limit: int,
    ) -> list[Movement]:
        """A page of one SKU's ledger, oldest first (ids are time-ordered uuid7)."""
        mv, loc = inventory_movements.c, locations.c
        query = (
            select(inventory_movements, loc.code.label("location_code"))
            .join(locations, loc.id == mv.location_id)
            .where(mv.tenant_id == tenant_id, mv.sku == sku)
            .order_by(mv.id)
            .limit(limit)
        )
        if location_id is not None:
            query = query.where(mv.location_id == location_id)
        if after_id is not None:
            query = query.where(mv.id > after_id)
        return [
            Movement(
                id=row.id,
                sku=row.sku,
                location_id=row.location_id,
                location_code=row.location_code,
                kind=MovementKind(row.kind),
                quantity=row.quantity,
                on_hand_after=row.on_hand_after,
                reason=row.reason,
                reference=row.reference,
                actor=row.actor,
                created_at=row.created_at,
            )
            for row in self._conn.execute(query)
        ]

    def levels_to_count(
        self, tenant_id: UUID, keys: Sequence[tuple[str, UUID]]
    ) -> list[LevelToCount]:
        return levels_to_count(self._conn, tenant_id, keys)

    def count_levels(
        self,
        tenant_id: UUID,
        counts: Sequence[LevelCount],
        *,
        reason: str,
        actor: str,
        at: datetime,
    ) -> int:
        return count_levels(self._conn, tenant_id, counts, reason=reason, actor=actor, at=at)

    def add_movements(self, tenant_id: UUID, movements: Sequence[NewMovement]) -> None:
        if not movements:
            return
        if self._conn.dialect.name == "postgresql":
            _MOVEMENTS_EACH.rows(
                self._conn,
                {
                    "tenant_id": tenant_id,
                    "ids": [new_id() for _ in movements],
                    "skus": [m.sku for m in movements],
                    "locations": [m.location_id for m in movements],
                    "kinds": [m.kind.value for m in movements],
                    "quantities": [m.quantity for m in movements],
                    "after": [m.on_hand_after for m in movements],
                    "reasons": [m.reason for m in movements],
                    "references": [m.reference for m in movements],
                    "actors": [m.actor for m in movements],
                    "created": [m.at for m in movements],
                },
            )
            return
        self._conn.execute(
            insert(inventory_movements),
            [
                {
                    "tenant_id": tenant_id,
                    "id": new_id(),
                    "sku": m.sku,
                    "location_id": m.location_id,
                    "kind": m.kind.value,
                    "quantity": m.quantity,
                    "on_hand_after": m.on_hand_after,
                    "reason": m.reason,
                    "reference": m.reference,
                    "actor": m.actor,
                    "created_at": m.at,
                }
                for m in movements
            ],
        )

    def add_on_hand_with_movements(
        self,
        tenant_id: UUID,
        location_id: UUID,
        units: Mapping[str, int],
        at: datetime,
        *,
        note: MovementNote,
    ) -> dict[str, int] | None:
        if self._conn.dialect.name == "postgresql":
            return add_on_hand_with_movements(self._conn, tenant_id, location_id, units, at, note)
        raised = self.add_on_hand(tenant_id, location_id, units, at)
        if raised is not None:
            self.add_movements(tenant_id, note.movements(location_id, units, raised, at))
        return raised

    def changed_page(
        self, tenant_id: UUID, *, since: datetime, after: tuple[str, UUID] | None, limit: int
    ) -> list[StockLevel]:
        """Levels changed at or after ``since``, in (SKU, location) order (an export's pages)."""
        query = select(*_LEVEL_COLUMNS).where(_lv.tenant_id == tenant_id, _lv.updated_at >= since)
        if after is not None:
            query = query.where(tuple_(_lv.sku, _lv.location_id) > tuple_(*after))
        rows = self._conn.execute(query.order_by(_lv.sku, _lv.location_id).limit(limit))
        return [StockLevel(*row) for row in rows]

    def find_violations(self, tenant_id: UUID) -> list[InvariantViolation]:
        mv = inventory_movements.c
        ledger = (
            select(mv.sku, mv.location_id, func.sum(mv.quantity).label("total"))
            .where(mv.tenant_id == tenant_id)
            .group_by(mv.sku, mv.location_id)
            .subquery()
        )
        al = allocations.c
        cl, cr = cart_reservation_lines.c, cart_reservations.c
        open_allocations = select(
            al.sku, al.location_id, (al.quantity - al.released - al.fulfilled).label("units")
        ).where(al.tenant_id == tenant_id)
        active_carts = (
            select(cl.sku, cl.location_id, cl.quantity.label("units"))
            .join(cart_reservations, (cr.tenant_id == cl.tenant_id) & (cr.id == cl.reservation_id))
            .where(cl.tenant_id == tenant_id, cr.status == "active")
        )
        holdings = union_all(open_allocations, active_carts).subquery()
        held = (
            select(
                holdings.c.sku,
                holdings.c.location_id,
                func.sum(holdings.c.units).label("total"),
            )
            .group_by(holdings.c.sku, holdings.c.location_id)
            .subquery()
        )
        rows = self._conn.execute(
            select(
                _lv.sku,
                _lv.location_id,
                _lv.on_hand,
                _lv.reserved,
                func.coalesce(ledger.c.total, 0).label("ledger"),
                func.coalesce(held.c.total, 0).label("held"),
            )
            .select_from(
                inventory_levels.outerjoin(
                    ledger, (ledger.c.sku == _lv.sku) & (ledger.c.location_id == _lv.location_id)
                ).outerjoin(held, (held.c.sku == _lv.sku) & (held.c.location_id == _lv.location_id))
            )
            .where(_lv.tenant_id == tenant_id)
            .order_by(_lv.sku, _lv.location_id)
        )
        found: list[InvariantViolation] = []
        for row in rows:
            if row.on_hand != row.ledger:
                found.append(
                    InvariantViolation(
                        tenant_id, row.sku, row.location_id, "on_hand", row.on_hand, int(row.ledger)
                    )
                )
            if row.reserved != row.held:
                found.append(
                    InvariantViolation(
                        tenant_id, row.sku, row.location_id, "reserved", row.reserved, int(row.held)
                    )
                )
        return found

    def add_on_hand(
        self, tenant_id: UUID, location_id: UUID, units: Mapping[str, int], at: datetime
    ) -> dict[str, int] | None:
        # One upsert per level, in SKU order: the row's lock orders it with reservations and
        # compare-and-set writers (which compare on hand, so theirs fails and retries
        # against the fresh row). On PostgreSQL every level and its marker in one statement.
        skus = sorted(units)
        if not skus:
            return {}
        if self._conn.dialect.name == "postgresql":
            raised = {
                sku: int(on_hand)
                for sku, on_hand in _ADD_ON_HAND_EACH.tuples(
                    self._conn,
                    {
                        "tenant_id": tenant_id,
                        "location_id": location_id,
                        "skus": skus,
                        "quantities": [units[sku] for sku in skus],
                        "at": at,
                        "most": MAX_QUANTITY,
                    },
                )
            }
            if len(raised) != len(skus):
                return None
            return {sku: raised[sku] for sku in skus}
        after = {}
        for sku in skus:
            values = sqlite.insert(inventory_levels).values(
                tenant_id=tenant_id,
                sku=sku,
                location_id=location_id,
                on_hand=units[sku],
                reserved=0,
                safety_stock=0,
                updated_at=at,
            )
            statement = values.on_conflict_do_update(
                index_elements=["tenant_id", "sku", "location_id"],
                set_={"on_hand": _lv.on_hand + units[sku], "updated_at": at},
                where=_lv.on_hand + units[sku] <= MAX_QUANTITY,
            ).returning(_lv.on_hand)
            found = self._conn.execute(statement).scalar_one_or_none()
            if found is None:
                return None
            after[sku] = int(found)
        mark_changed(self._conn, tenant_id, [(sku, location_id) for sku in skus], at)
        return after
