"""Where an order's stock is reserved: the foundation's priority rule.

One location that can supply every line is preferred (the first in priority order);
otherwise each line takes what it can from locations in priority order, splitting.
Whatever no location can supply is left unfilled (backordered). The plan is computed on
a snapshot; the reservation itself is a conditional update that may still fail under a
race, after which the caller plans the remainder again on fresh figures.

``stock_rows`` says what a plan takes of each stock row: every plan (this rule's and the
router's) is reserved through it, so two lines that draw on one row (a SKU on two lines, or
on its own line and inside a bundle) take the sum of their needs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from uuid import UUID

__all__ = ["AllocationPlan", "Demand", "Pick", "plan_allocation", "stock_rows"]


@dataclass(frozen=True)
class Demand:
    """``quantity`` units of order line ``line_no``; one unit draws ``per_unit`` stock."""

    line_no: int
    quantity: int
    per_unit: Mapping[str, int]


@dataclass(frozen=True)
class Pick:
    """Reserve ``units`` of line ``line_no`` at ``location_id``."""

    line_no: int
    location_id: UUID
    units: int


@dataclass
class AllocationPlan:
    """The picks, and per line the units no location could supply."""

    picks: list[Pick] = field(default_factory=list)
    unfilled: dict[int, int] = field(default_factory=dict)


def _units_possible(per_unit: Mapping[str, int], stock: Mapping[str, int]) -> int:
    return min((stock.get(sku, 0) // need for sku, need in per_unit.items()), default=0)


def plan_allocation(
    demands: Sequence[Demand],
    stock: Mapping[tuple[str, UUID], int],
    locations: Sequence[UUID],
) -> AllocationPlan:
    """Plan picks for ``demands`` from ``stock`` (available units per (sku, location)).

    ``locations`` are the candidates in preference order. Never plans more than ``stock``.
    """
    # By the location id's integer: a UUID hashes in Python, an int in C (every order).
    by_location: dict[int, dict[str, int]] = defaultdict(dict)
    for (sku, location), units in stock.items():
        by_location[location.int][sku] = max(0, units)

    wanted = [d for d in demands if d.quantity > 0]
    total_need: dict[str, int] = defaultdict(int)
    for d in wanted:
        for sku, per in d.per_unit.items():
            total_need[sku] += per * d.quantity

    for location in locations:
        here = by_location.get(location.int, {})
        if all(here.get(sku, 0) >= need for sku, need in total_need.items()):
            return AllocationPlan(picks=[Pick(d.line_no, location, d.quantity) for d in wanted])

    plan = AllocationPlan()
    for d in wanted:
        remaining = d.quantity
        for location in locations:
            if remaining == 0:
                break
            here = by_location.get(location.int, {})
            units = min(remaining, _units_possible(d.per_unit, here))
            if units <= 0:
                continue
            for sku, per in d.per_unit.items():
                here[sku] -= per * units
            plan.picks.append(Pick(d.line_no, location, units))
            remaining -= units
        if remaining:
            plan.unfilled[d.line_no] = remaining
    return plan


def stock_rows(
    picks: Iterable[Pick], per_unit: Mapping[int, Mapping[str, int]]
) -> dict[tuple[str, UUID], int]:
    """The units each (SKU, location) row gives ``picks`` (``per_unit``: by line number),
    summed over every pick and every line that draws on the row."""
    rows: dict[tuple[str, UUID], int] = {}
    for pick in picks:
        location, units = pick.location_id, pick.units
        for sku, per in per_unit[pick.line_no].items():
            if per * units:
                row = (sku, location)
                rows[row] = rows.get(row, 0) + per * units
    return rows
