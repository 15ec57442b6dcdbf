"""Inventory levels and the movement ledger in memory (``InventoryRepository``).

The same conditions as the SQL statements: a reservation takes stock only when on hand
less reserved less safety stock covers it, a release or a take-out only what is reserved,
a compare-and-set only a level still as read; the table's CHECK constraints (reserved not
negative and within on hand, safety stock not negative) and its foreign keys (the
tenant's product, an existing location) raise ``ValueError``, as the database refuses
the row. Each change leaves a stock-push marker, as ``mark_changed`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from oms.adapters.memory.tables import MemorySession, MemoryTables, StoredLevel
from oms.domain.carts import CartStatus
from oms.domain.catalogue import holds_stock
from oms.domain.ids import new_id
from oms.domain.inventory import MAX_QUANTITY, Movement, MovementKind, StockLevel
from oms.services.ports import (
    InvariantViolation,
    LevelCount,
    LevelToCount,
    MovementNote,
    NewMovement,
)

__all__ = ["MemoryInventoryRepository"]


def _checked(level: StoredLevel) -> StoredLevel:
    if level.reserved < 0 or level.on_hand < level.reserved or level.safety_stock < 0:
        raise ValueError(f"a stock level breaks the table's constraints: {level}")
    return level


class MemoryInventoryRepository:
    def __init__(self, session: MemorySession) -> None:
        self._session = session

    def _level(self, tenant_id: UUID, sku: str, location_id: UUID) -> StoredLevel | None:
        return self._session.tables.levels.get((tenant_id, sku, location_id))

    def _writable(self, tenant_id: UUID, sku: str, location_id: UUID) -> StoredLevel | None:
        return self._session.write().levels.get((tenant_id, sku, location_id))

    def _mark(self, tenant_id: UUID, keys: Iterable[tuple[str, UUID]], at: datetime) -> None:
        markers = self._session.write().stock_changes
        for sku, location_id in keys:
            markers.setdefault((tenant_id, sku, location_id), at)

    def _make(self, tables: MemoryTables, tenant_id: UUID, sku: str, location_id: UUID) -> None:
        if not any(t == tenant_id and p.sku == sku for (t, _), p in tables.products.items()):
            raise ValueError(f"no product {sku!r} of tenant {tenant_id}: no level for it")
        if location_id not in tables.locations:
            raise ValueError(f"no location {location_id}: no level there")

    def levels(
        self, tenant_id: UUID, skus: Iterable[str], location_ids: Iterable[UUID] | None = None
    ) -> list[StockLevel]:
        wanted, at = set(skus), None if location_ids is None else set(location_ids)
        found = [
            StockLevel(sku, location_id, lv.on_hand, lv.reserved, lv.safety_stock)
            for (tenant, sku, location_id), lv in self._session.tables.levels.items()
            if tenant == tenant_id and sku in wanted and (at is None or location_id in at)
        ]
        return sorted(found, key=lambda lv: (lv.sku, lv.location_id))

    def ensure_level(self, tenant_id: UUID, sku: str, location_id: UUID, at: datetime) -> None:
        if self._level(tenant_id, sku, location_id) is not None:
            return
        tables = self._session.write()
        self._make(tables, tenant_id, sku, location_id)
        tables.levels[(tenant_id, sku, location_id)] = StoredLevel(0, 0, 0, at)

    def compare_and_set(
        self,
        tenant_id: UUID,
        level: StockLevel,
        *,
        on_hand: int,
        safety_stock: int,
        at: datetime,
    ) -> bool:
        stored = self._level(tenant_id, level.sku, level.location_id)
        if (
            stored is None
            or stored.on_hand != level.on_hand
            or stored.safety_stock != level.safety_stock
            or stored.reserved > on_hand
        ):
            return False
        self._session.write().levels[(tenant_id, level.sku, level.location_id)] = _checked(
            replace(stored, on_hand=on_hand, safety_stock=safety_stock, updated_at=at)
        )
        self._mark(tenant_id, [(level.sku, level.location_id)], at)
        return True

    def try_reserve(
        self, tenant_id: UUID, sku: str, location_id: UUID, quantity: int, at: datetime
    ) -> bool:
        stored = self._level(tenant_id, sku, location_id)
        if stored is None or stored.on_hand - stored.reserved - stored.safety_stock < quantity:
            return False
        self._session.write().levels[(tenant_id, sku, location_id)] = _checked(
            replace(stored, reserved=stored.reserved + quantity, updated_at=at)
        )
        self._mark(tenant_id, [(sku, location_id)], at)
        return True

    def try_reserve_each(
        self, tenant_id: UUID, wanted: Sequence[tuple[str, UUID, int]], at: datetime
    ) -> set[tuple[str, UUID]]:
        """``try_reserve`` for each distinct ``(sku, location, quantity)``, in (SKU,
        location) order; the rows that were reserved."""
        keys = sorted((sku, location_id) for sku, location_id, _ in wanted)
        if len(set(keys)) != len(keys):
            raise ValueError("each row may be reserved once per call")
        return {
            (sku, location_id)
            for sku, location_id, quantity in sorted(wanted)
            if self.try_reserve(tenant_id, sku, location_id, quantity, at)
        }

    def release(
        self, tenant_id: UUID, sku: str, location_id: UUID, quantity: int, at: datetime
    ) -> None:
        stored = self._level(tenant_id, sku, location_id)
        if stored is None or stored.reserved < quantity:
            raise RuntimeError(f"cannot release {quantity} of {sku} at {location_id}")
        self._session.write().levels[(tenant_id, sku, location_id)] = _checked(
            replace(stored, reserved=stored.reserved - quantity, updated_at=at)
        )
        self._mark(tenant_id, [(sku, location_id)], at)

    def take_out(
        self, tenant_id: UUID, sku: str, location_id: UUID, quantity: int, at: datetime
    ) -> int:
        """Remove reserved units from the shelf: on hand and reserved both drop; on hand
        after."""
        stored = self._level(tenant_id, sku, location_id)
        if stored is None or stored.reserved < quantity:
            raise RuntimeError(f"{quantity} of {sku} at {location_id} are not reserved")
        after = _checked(
            replace(
                stored,
                on_hand=stored.on_hand - quantity,
                reserved=stored.reserved - quantity,
                updated_at=at,
            )
        )
        self._session.write().levels[(tenant_id, sku, location_id)] = after
        self._mark(tenant_id, [(sku, location_id)], at)
        return after.on_hand

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
        movement = Movement(
            id=new_id(),
            sku=sku,
            location_id=location_id,
            location_code="",  # read from the location, as the SQL join does
            kind=kind,
            quantity=quantity,
            on_hand_after=on_hand_after,
            reason=reason,
            reference=reference,
            actor=actor,
            created_at=at,
        )
        self._session.write().movements.setdefault(tenant_id, []).append(movement)
        return movement.id

    def add_movements(self, tenant_id: UUID, movements: Sequence[NewMovement]) -> None:
        for m in movements:
            self.add_movement(
                tenant_id,
                sku=m.sku,
                location_id=m.location_id,
                kind=m.kind,
                quantity=m.quantity,
                on_hand_after=m.on_hand_after,
                reason=m.reason,
                reference=m.reference,
                actor=m.actor,
                at=m.at,
            )

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
        tables = self._session.tables
        found = [
            replace(m, location_code=tables.locations[m.location_id].code)
            for m in tables.movements.get(tenant_id, [])
            if m.sku == sku
            and m.location_id in tables.locations
            and (location_id is None or m.location_id == location_id)
            and (after_id is None or m.id > after_id)
        ]
        found.sort(key=lambda m: m.id)
        return found[:limit]

    def find_violations(self, tenant_id: UUID) -> list[InvariantViolation]:
        """Levels whose on hand is not the ledger's sum, or whose reserved is not what
        open allocations and active carts hold."""
        tables = self._session.tables
        ledger: dict[tuple[str, UUID], int] = {}
        for m in tables.movements.get(tenant_id, []):
            ledger[(m.sku, m.location_id)] = ledger.get((m.sku, m.location_id), 0) + m.quantity
        held: dict[tuple[str, UUID], int] = {}
        for (tenant, _), order in tables.orders.items():
            for a in order.allocations if tenant == tenant_id else ():
                held[(a.sku, a.location_id)] = held.get((a.sku, a.location_id), 0) + a.open
        for (tenant, _), cart in tables.carts.items():
            if tenant == tenant_id and cart.status is CartStatus.ACTIVE:
                for line in cart.lines:
                    key = (line.sku, line.location_id)
                    held[key] = held.get(key, 0) + line.quantity
        found: list[InvariantViolation] = []
        for (tenant, sku, location_id), lv in sorted(tables.levels.items()):
            if tenant != tenant_id:
                continue
            expected = ledger.get((sku, location_id), 0)
            if lv.on_hand != expected:
                found.append(
                    InvariantViolation(tenant_id, sku, location_id, "on_hand", lv.on_hand, expected)
                )
            expected = held.get((sku, location_id), 0)
            if lv.reserved != expected:
                found.append(
                    InvariantViolation(
                        tenant_id, sku, location_id, "reserved", lv.reserved, expected
                    )
                )
        return found

    def levels_to_count(
        self, tenant_id: UUID, keys: Sequence[tuple[str, UUID]]
    ) -> list[LevelToCount]:
        tables = self._session.tables
        products = {p.sku: p for (t, _), p in tables.products.items() if t == tenant_id}
        found: list[LevelToCount] = []
        for sku, location_id in dict.fromkeys(keys):  # each key once, as asked first
            product = products.get(sku)
            if product is None:
                continue
            lv = self._level(tenant_id, sku, location_id)
            found.append(
                LevelToCount(
                    sku,
                    location_id,
                    product.id,
                    holds_stock(product.kind),
                    None if lv is None else lv.on_hand,
                    0 if lv is None else lv.reserved,
                    0 if lv is None else lv.safety_stock,
                )
            )
        return found

    def count_levels(
        self,
        tenant_id: UUID,
        counts: Sequence[LevelCount],
        *,
        reason: str,
        actor: str,
        at: datetime,
    ) -> int:
        """Set each level still as read (and with on hand at or above reserved), with a
        ``count`` movement of the difference and a marker; the number set."""
        if not counts:
            return 0
        if len({(c.sku, c.location_id) for c in counts}) != len(counts):
            raise ValueError("each level may be counted once per call")
        tables = self._session.write()
        done: list[LevelCount] = []
        for c in sorted(counts, key=lambda c: (c.sku, c.location_id)):
            key = (tenant_id, c.sku, c.location_id)
            stored = tables.levels.get(key)
            if c.was_on_hand is None:
                if stored is None:
                    self._make(tables, tenant_id, c.sku, c.location_id)
                    tables.levels[key] = _checked(StoredLevel(c.on_hand, 0, c.safety_stock, at))
                    done.append(c)
                continue
            if (
                stored is not None
                and stored.on_hand == c.was_on_hand
                and stored.safety_stock == c.was_safety_stock
                and stored.reserved <= c.on_hand
            ):
                tables.levels[key] = _checked(
                    replace(stored, on_hand=c.on_hand, safety_stock=c.safety_stock, updated_at=at)
                )
                done.append(c)
        self.add_movements(
            tenant_id,
            [
                NewMovement(
                    sku=c.sku,
                    location_id=c.location_id,
                    kind=MovementKind.COUNT,
                    quantity=c.on_hand - (c.was_on_hand or 0),
                    on_hand_after=c.on_hand,
                    reason=reason,
                    reference=c.reference,
                    actor=actor,
                    at=at,
                )
                for c in done
                if c.on_hand != (c.was_on_hand or 0)
            ],
        )
        self._mark(tenant_id, [(c.sku, c.location_id) for c in done], at)
        return len(done)

    def add_on_hand(
        self, tenant_id: UUID, location_id: UUID, units: Mapping[str, int], at: datetime
    ) -> dict[str, int] | None:
        """Add each SKU's units to its level at the location (made if missing), in SKU
        order; each SKU's on hand after, or None (nothing changed) when one would pass
        ``MAX_QUANTITY``."""
        tables = self._session.write()
        after: dict[str, int] = {}
        for sku in sorted(units):
            stored = tables.levels.get((tenant_id, sku, location_id))
            after[sku] = units[sku] + (0 if stored is None else stored.on_hand)
            if after[sku] > MAX_QUANTITY:
                return None
        for sku in sorted(units):
            key = (tenant_id, sku, location_id)
            stored = tables.levels.get(key)
            if stored is None:
                self._make(tables, tenant_id, sku, location_id)
                tables.levels[key] = _checked(StoredLevel(units[sku], 0, 0, at))
            else:
                tables.levels[key] = _checked(replace(stored, on_hand=after[sku], updated_at=at))
        return after

    def add_on_hand_with_movements(
        self,
        tenant_id: UUID,
        location_id: UUID,
        units: Mapping[str, int],
        at: datetime,
        *,
        note: MovementNote,
    ) -> dict[str, int] | None:
        raised = self.add_on_hand(tenant_id, location_id, units, at)
        if raised is not None:
            self.add_movements(tenant_id, note.movements(location_id, units, raised, at))
        return raised

    def changed_page(
        self, tenant_id: UUID, *, since: datetime, after: tuple[str, UUID] | None, limit: int
    ) -> list[StockLevel]:
        """Levels changed at or after ``since``, in (SKU, location) order, after ``after``."""
        found = sorted(
            (sku, location_id, lv)
            for (tenant, sku, location_id), lv in self._session.tables.levels.items()
            if tenant == tenant_id
            and lv.updated_at >= since
            and (after is None or (sku, location_id) > after)
        )
        return [
            StockLevel(sku, location_id, lv.on_hand, lv.reserved, lv.safety_stock)
            for sku, location_id, lv in found[:limit]
        ]
