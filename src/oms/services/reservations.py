"""Reserving an order's stock: plan on a snapshot, then take it with conditional updates.

Every plan is taken by ``take_stock``: what its picks need is summed per (SKU, location)
row first (``oms.domain.allocation.stock_rows``), so lines that draw on one row take the
sum of their needs, in one conditional update per row.

A planned pick fails only when another transaction took that stock between the snapshot and
the update; each failure therefore means someone else made progress, and the loop plans the
remainder again on fresh figures until every pick it tries succeeds or nothing is left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from oms.domain.allocation import Demand, Pick, plan_allocation, stock_rows
from oms.domain.ids import new_id
from oms.domain.inventory import StockLevel
from oms.domain.orders import Allocation
from oms.services.ports import TransientStorageError, UnitOfWork

__all__ = [
    "ReservationResult",
    "hold_picks",
    "merge_results",
    "reserve_demands",
    "take_held_stock",
    "take_stock",
]

MAX_ROUNDS = 200


@dataclass
class ReservationResult:
    """Allocations made, and per line the units left unfilled (to backorder)."""

    allocations: list[Allocation] = field(default_factory=list)
    allocated_units: dict[int, int] = field(default_factory=dict)
    unfilled: dict[int, int] = field(default_factory=dict)


def take_stock(
    uow: UnitOfWork,
    *,
    tenant_id: UUID,
    groups: Sequence[Sequence[Pick]],
    per_unit: Mapping[int, Mapping[str, int]],
    at: datetime,
) -> list[bool]:
    """Reserve each group of picks whole or not at all; per group, whether it was reserved.

    What the groups need is summed per (SKU, location) row (``stock_rows``) and taken with
    one conditional update per row, in (SKU, location) order; a group with a row that was
    short is given back. Every plan, the priority rule's and the router's, is taken here.
    """
    needs = [stock_rows(group, per_unit) for group in groups]
    total: dict[tuple[str, UUID], int] = {}
    for rows in needs:
        for row, units in rows.items():
            total[row] = total.get(row, 0) + units
    taken = uow.inventory.try_reserve_each(
        tenant_id, [(sku, location, units) for (sku, location), units in sorted(total.items())], at
    )
    reserved: list[bool] = []
    for rows in needs:
        whole = all(row in taken for row in rows)
        reserved.append(whole)
        for (sku, location), units in sorted(rows.items()) if not whole else ():
            if (sku, location) in taken:
                uow.inventory.release(tenant_id, sku, location, units, at)
    return reserved


def hold_picks(
    held: dict[tuple[int, str, UUID], Allocation],
    picks: Sequence[Pick],
    per_unit: Mapping[int, Mapping[str, int]],
    at: datetime,
    location_code: str | None = None,
) -> None:
    """Add the stock ``picks`` took to ``held``: one allocation per (line, SKU, location)."""
    for pick in picks:
        # stock_rows of one pick: each SKU its line draws, per unit times the units.
        for sku, per in per_unit[pick.line_no].items():
            if not (units := per * pick.units):
                continue
            key = (pick.line_no, sku, pick.location_id)
            if (allocation := held.get(key)) is not None:
                allocation.quantity += units
            else:
                held[key] = Allocation(
                    id=new_id(),
                    line_no=pick.line_no,
                    sku=sku,
                    location_id=pick.location_id,
                    quantity=units,
                    created_at=at,
                    location_code=location_code,
                )


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
        picks = plan.picks
        taken = take_stock(
            uow, tenant_id=tenant_id, groups=[[p] for p in picks], per_unit=per_unit, at=at
        )
        for pick, whole in zip(picks, taken, strict=True):
            if not whole:
                raced = True
                continue
            remaining[pick.line_no] -= pick.units
            result.allocated_units[pick.line_no] = (
                result.allocated_units.get(pick.line_no, 0) + pick.units
            )
            hold_picks(held, [pick], per_unit, at)
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
    for row, units in stock_rows(plan.picks, per_unit).items():
        pool[row] -= units
    hold_picks(from_pool, plan.picks, per_unit, at)
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
