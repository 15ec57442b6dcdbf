"""Reserving an order's stock: plan on a snapshot, then take it with conditional updates.

A planned pick fails only when another transaction took that stock between the snapshot and
the update; each failure therefore means someone else made progress, and the loop plans the
remainder again on fresh figures until every pick it tries succeeds or nothing is left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from oms.domain.allocation import Demand, Pick, plan_allocation
from oms.domain.ids import new_id
from oms.domain.inventory import StockLevel
from oms.domain.orders import Allocation
from oms.services.ports import TransientStorageError, UnitOfWork

__all__ = ["ReservationResult", "merge_results", "reserve_demands", "take_held_stock"]

MAX_ROUNDS = 200


@dataclass
class ReservationResult:
    """Allocations made, and per line the units left unfilled (to backorder)."""

    allocations: list[Allocation] = field(default_factory=list)
    allocated_units: dict[int, int] = field(default_factory=dict)
    unfilled: dict[int, int] = field(default_factory=dict)


def _take(
    uow: UnitOfWork, tenant_id: UUID, pick: Pick, per_unit: Mapping[str, int], at: datetime
) -> list[tuple[str, int]] | None:
    """Reserve one pick's stock (all component SKUs or none); the SKUs and units taken."""
    taken: list[tuple[str, int]] = []
    for sku in sorted(per_unit):
        units = per_unit[sku] * pick.units
        if not uow.inventory.try_reserve(tenant_id, sku, pick.location_id, units, at):
            for done_sku, done_units in taken:
                uow.inventory.release(tenant_id, done_sku, pick.location_id, done_units, at)
            return None
        taken.append((sku, units))
    return taken


def _take_all(
    uow: UnitOfWork,
    tenant_id: UUID,
    picks: Sequence[Pick],
    per_unit: Mapping[int, Mapping[str, int]],
    at: datetime,
) -> list[list[tuple[str, int]] | None]:
    """``_take`` for every pick, in one statement when no two picks share a stock row."""
    wanted = [
        (sku, pick.location_id, per_unit[pick.line_no][sku] * pick.units)
        for pick in picks
        for sku in sorted(per_unit[pick.line_no])
    ]
    if len({(sku, location) for sku, location, _ in wanted}) != len(wanted):
        return [_take(uow, tenant_id, pick, per_unit[pick.line_no], at) for pick in picks]
    reserved = uow.inventory.try_reserve_each(tenant_id, wanted, at)
    results: list[list[tuple[str, int]] | None] = []
    for pick in picks:
        needs = per_unit[pick.line_no]
        rows = [(sku, needs[sku] * pick.units) for sku in sorted(needs)]
        if all((sku, pick.location_id) in reserved for sku, _ in rows):
            results.append(rows)
            continue
        for sku, units in rows:  # a bundle is reserved whole or not at all
            if (sku, pick.location_id) in reserved:
                uow.inventory.release(tenant_id, sku, pick.location_id, units, at)
        results.append(None)
    return results


def reserve_demands(
    uow: UnitOfWork,
    *,
    tenant_id: UUID,
    demands: Sequence[Demand],
    locations: Sequence[UUID],
    at: datetime,
    snapshot: Sequence[StockLevel] | None = None,
) -> ReservationResult:
    """Reserve as much of ``demands`` as the ``locations`` (in preference order) can supply.

    ``snapshot``: levels of these SKUs at (at least) these locations already read in this
    transaction; the first plan uses them instead of reading them again.
    """
    per_unit = {d.line_no: d.per_unit for d in demands}
    remaining = {d.line_no: d.quantity for d in demands if d.quantity > 0}
    skus = sorted({sku for d in demands for sku in d.per_unit})
    result = ReservationResult()
    held: dict[tuple[int, str, UUID], Allocation] = {}
    for _ in range(MAX_ROUNDS):
        wanted = [Demand(n, q, per_unit[n]) for n, q in remaining.items() if q > 0]
        if not wanted or not locations:
            break
        if snapshot is None:
            snapshot = uow.inventory.levels(tenant_id, skus, locations)
        stock = {(lv.sku, lv.location_id): lv.available for lv in snapshot}
        snapshot = None  # a lost race plans again on fresh figures
        plan = plan_allocation(wanted, stock, locations)
        raced = False
        # A fixed order (SKU, then location) keeps concurrent orders from deadlocking.
        picks = sorted(plan.picks, key=lambda p: (min(per_unit[p.line_no]), p.location_id))
        for pick, taken in zip(picks, _take_all(uow, tenant_id, picks, per_unit, at), strict=True):
            if taken is None:
                raced = True
                continue
            remaining[pick.line_no] -= pick.units
            result.allocated_units[pick.line_no] = (
                result.allocated_units.get(pick.line_no, 0) + pick.units
            )
            for sku, units in taken:
                key = (pick.line_no, sku, pick.location_id)
                if key in held:
                    held[key].quantity += units
                else:
                    held[key] = Allocation(
                        id=new_id(),
                        line_no=pick.line_no,
                        sku=sku,
                        location_id=pick.location_id,
                        quantity=units,
                        created_at=at,
                    )
        if not raced:
            break
    else:
        raise TransientStorageError("stock kept changing while reserving")
    result.allocations = sorted(held.values(), key=lambda a: (a.line_no, a.sku, a.location_id))
    result.unfilled = {n: q for n, q in remaining.items() if q > 0}
    return result


def take_held_stock(
    uow: UnitOfWork,
    *,
    tenant_id: UUID,
    demands: Sequence[Demand],
    held: Mapping[tuple[str, UUID], int],
    at: datetime,
) -> tuple[ReservationResult, list[Demand]]:
    """Give ``demands`` the stock already reserved in ``held`` (a cart's hold) first.

    Held stock they do not use is released at once. Returns the allocations made from the
    hold and what is still to reserve.
    """
    pool = {key: units for key, units in held.items() if units > 0}
    if not pool:  # no cart hold (most orders): nothing to give or release
        return ReservationResult(), [d for d in demands if d.quantity > 0]
    plan = plan_allocation(demands, pool, sorted({loc for _, loc in pool}))
    per_unit = {d.line_no: d.per_unit for d in demands}
    from_pool: dict[tuple[int, str, UUID], Allocation] = {}
    result = ReservationResult()
    for pick in plan.picks:
        result.allocated_units[pick.line_no] = (
            result.allocated_units.get(pick.line_no, 0) + pick.units
        )
        for sku, per in per_unit[pick.line_no].items():
            units = per * pick.units
            pool[(sku, pick.location_id)] -= units
            key = (pick.line_no, sku, pick.location_id)
            if key in from_pool:
                from_pool[key].quantity += units
            else:
                from_pool[key] = Allocation(
                    id=new_id(),
                    line_no=pick.line_no,
                    sku=sku,
                    location_id=pick.location_id,
                    quantity=units,
                    created_at=at,
                )
    for (sku, location), units in sorted(pool.items()):
        if units > 0:
            uow.inventory.release(tenant_id, sku, location, units, at)
    result.allocations = sorted(from_pool.values(), key=lambda a: (a.line_no, a.sku, a.location_id))
    rest = [
        Demand(d.line_no, d.quantity - result.allocated_units.get(d.line_no, 0), d.per_unit)
        for d in demands
        if d.quantity - result.allocated_units.get(d.line_no, 0) > 0
    ]
    return result, rest


def merge_results(first: ReservationResult, second: ReservationResult) -> ReservationResult:
    """One result from two reservations of the same order (the second decides unfilled)."""
    merged = ReservationResult(
        allocations=[*first.allocations, *second.allocations],
        allocated_units=dict(first.allocated_units),
        unfilled=dict(second.unfilled),
    )
    for line_no, units in second.allocated_units.items():
        merged.allocated_units[line_no] = merged.allocated_units.get(line_no, 0) + units
    return merged
