"""The look-ahead's part in routing one order (``oms.domain.routing.route``): the order's own
units taken out of the demand to come, whether the term can matter for this order, and
what it changed, in words. The term itself is ``oms.domain.routing_lookahead``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from oms.domain.routing_lookahead import Lookahead
from oms.domain.routing_search import Problem

if TYPE_CHECKING:
    from oms.domain.routing import Candidate, Package, RoutingLine, RoutingResult, Shipper

__all__ = ["less_this_order", "lookahead_matters", "lookahead_words"]


def less_this_order(
    lookahead: Lookahead,
    lines: Sequence[RoutingLine],
    candidates: Sequence[Candidate],
    ship: Shipper,
) -> Lookahead:
    """The look-ahead without this order's own units: each SKU's units are taken from the
    demand expected near the location that ships a unit of them cheapest (where, with stock
    to spare, such an order goes, and so where the forecast counted it)."""
    for sku, units in sorted(_units_per_sku(lines).items()):
        grams = min(ln.weight_grams for ln in lines if sku in ln.per_unit)
        best: tuple[Decimal, str] | None = None
        for cand in candidates:
            option = ship(cand.location_id, grams) if cand.available.get(sku, 0) > 0 else None
            if option is not None:
                here = (option.price + cand.handling_cost, cand.code)
                best = here if best is None or here < best else best
        if best is not None:
            lookahead = lookahead.without(sku, best[1], units)
    return lookahead


def _units_per_sku(lines: Sequence[RoutingLine]) -> dict[str, int]:
    found: dict[str, int] = {}
    for ln in lines:
        for sku, per in ln.per_unit.items():
            found[sku] = found.get(sku, 0) + per * ln.quantity
    return found


def lookahead_matters(problem: Problem, lookahead: Lookahead) -> bool:
    """Whether any candidate's last unit of a SKU of the order is worth anything."""
    skus = {sku for per in problem.per for sku, _ in per}
    return any(
        lookahead.matters(cand.code, sku, stock.get(sku, 0))
        for cand, stock in zip(problem.cands, problem.avail, strict=True)
        for sku in skus
        if stock.get(sku, 0) > 0
    )


def _drawn(
    packages: Sequence[Package], active: Sequence[RoutingLine]
) -> dict[tuple[str, str], int]:
    """Units of each SKU drawn per location code."""
    per_unit = {ln.line_no: ln.per_unit for ln in active}
    drawn: dict[tuple[str, str], int] = {}
    for package in packages:
        for line_no, units in package.lines:
            for sku, per in per_unit[line_no].items():
                key = (package.code, sku)
                drawn[key] = drawn.get(key, 0) + per * units
    return drawn


def lookahead_words(
    problem: Problem, active: Sequence[RoutingLine], chosen: RoutingResult, myopic: RoutingResult
) -> str:
    """What the look-ahead changed against the plan of today's cost alone, in words."""
    assert problem.lookahead is not None
    now, then = _drawn(chosen.packages, active), _drawn(myopic.packages, active)
    stock = {c.code: a for c, a in zip(problem.cands, problem.avail, strict=True)}
    kept = []
    penalty = Decimal(0)
    for (code, sku), units in sorted(then.items()):
        spared = units - now.get((code, sku), 0)
        if spared > 0:
            held = stock[code].get(sku, 0)
            penalty += problem.lookahead.penalty(code, sku, held, units)
            penalty -= problem.lookahead.penalty(code, sku, held, units - spared)
            kept.append(f"{spared} of {sku} at {code}")
    if kept:
        more = (chosen.cost.total - chosen.cost.depletion) - (
            myopic.cost.total - myopic.cost.depletion
        )
        return (
            f"kept {', '.join(kept)} for expected nearby demand, +{_money(penalty)} penalty "
            f"had they been used; this plan costs {_money(more)} more today"
        )
    if chosen.cost.depletion > 0:
        used = ", ".join(
            f"{units} of {sku} at {code}"
            for (code, sku), units in sorted(now.items())
            if problem.lookahead.penalty(code, sku, stock[code].get(sku, 0), units) > 0
        )
        return (
            f"uses {used} that nearby demand is expected to need, "
            f"+{_money(chosen.cost.depletion)} penalty; no other plan is cheaper with it"
        )
    return ""


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))
