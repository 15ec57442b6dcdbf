"""Routing (DOM): which location ships which units of one order, and why.

``route()`` minimises shipping + handling + a penalty per extra package (+ a penalty per
package that misses the promised date), subject to stock above the routing safety stock,
each location's capacity for today, the carriers' weight limits and the routing profile
(split allowed, most locations). Each location used ships one package: any units of any
lines (a line may be split over locations). Plans are ranked by, in order:

1. fewest units left unfilled (backordered): shipping late beats not shipping;
2. on time before late, and among late plans the one whose last parcel arrives soonest: a
   late plan wins only when no on-time plan exists, whatever ``late_penalty`` is (which is
   still charged in the cost, once per late package);
3. cost; then fewer packages, fewer line pieces, and location codes.

- **exact** when the order has at most ``exact_line_limit`` lines and a branch and bound
  over the ways to divide its units into at most ``max_locations`` packages settles it
  within ``exact_shape_limit`` of them (``oms.domain.routing_units``; always so for an
  order with no more ways than that): optimal over every assignment of units to
  locations, backorders included.
- **heuristic** otherwise: seeds (the best plan the exact search found, or the exact plan
  of whole lines, when the order has few lines; two greedy covers) improved by greedy
  placement of the remaining units and bounded local moves that split, move, merge and
  trade units; never over-assigns, never builds a parcel no carrier takes. When its best
  plan is late it runs again with late options ruled out.

Shipping comes through a ``Shipper`` callable so the router knows nothing of carriers; it is
called at most once per (location, parcel grams) per ``route()`` call and must be monotone
in weight, as rate cards are: from one location a heavier parcel never arrives sooner,
never costs less while on time, and cannot ship where a lighter one cannot. The search is
in ``oms.domain.routing_search``, ``routing_lines``, ``routing_units`` and
``routing_heuristic``;
``bench/routing.py`` compares it with a MILP optimum.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

from oms.domain.routing_heuristic import heuristic_plans
from oms.domain.routing_lines import exact_plans
from oms.domain.routing_lookahead import Lookahead
from oms.domain.routing_lookahead_plans import less_this_order, lookahead_matters, lookahead_words
from oms.domain.routing_search import Plan, Problem
from oms.domain.routing_units import loads_of, placeable, unit_plans

__all__ = [
    "EXACT_SHAPE_LIMIT",
    "Candidate",
    "CostBreakdown",
    "Explanation",
    "Package",
    "PlanSummary",
    "RoutingLine",
    "RoutingPolicy",
    "RoutingResult",
    "ShipOption",
    "Shipper",
    "less_this_order",
    "route",
]

_CONSIDERED = 5
# The exact method's limit: ways to divide an order's units into packages that its search
# may meet (docs/routing.md).
EXACT_SHAPE_LIMIT = 5_000


@dataclass(frozen=True)
class RoutingLine:
    """``quantity`` units of order line ``line_no``; one unit weighs ``weight_grams`` and
    draws ``per_unit`` stock (a bundle draws its components)."""

    line_no: int
    quantity: int
    weight_grams: int
    per_unit: Mapping[str, int]


@dataclass(frozen=True)
class Candidate:
    """A location that may ship: stock above the routing safety stock, capacity for today."""

    location_id: UUID
    code: str
    available: Mapping[str, int]
    capacity_left: int
    handling_cost: Decimal


@dataclass(frozen=True)
class ShipOption:
    """A carrier service for one parcel; ``late`` when it misses the promised date."""

    carrier: str
    service: str
    price: Decimal
    deliver_by: date
    late: bool


# (location_id, parcel grams) -> the cheapest option meeting the promise, else the fastest
# one marked late, else None (this location cannot ship this parcel). Monotone in weight:
# see the module's docstring.
Shipper = Callable[[UUID, int], ShipOption | None]


@dataclass(frozen=True)
class RoutingPolicy:
    """The routing profile's rules as the router needs them."""

    allow_split: bool = True
    max_locations: int = 3
    split_penalty: Decimal = Decimal(0)
    late_penalty: Decimal = Decimal("1000")


@dataclass(frozen=True)
class Package:
    """One location's share: ``(line_no, units)`` pairs, the parcel and its carrier service."""

    location_id: UUID
    code: str
    lines: tuple[tuple[int, int], ...]
    weight_grams: int
    option: ShipOption
    handling: Decimal
    # What the units drawn are worth to demand expected near the location (look-ahead).
    depletion: Decimal = Decimal(0)


@dataclass(frozen=True)
class CostBreakdown:
    """``total`` is the sum of the others; ``depletion`` is the look-ahead term (0 without
    one: ``oms.domain.routing_lookahead``)."""

    shipping: Decimal
    handling: Decimal
    split_penalty: Decimal
    late_penalty: Decimal
    total: Decimal
    depletion: Decimal = Decimal(0)


@dataclass(frozen=True)
class PlanSummary:
    """One plan the router weighed; ``feasible`` = ships every unit, on time."""

    locations: tuple[str, ...]
    cost: CostBreakdown
    feasible: bool
    note: str


@dataclass(frozen=True)
class Explanation:
    """The best few plans (winner first), locations that were no candidate, and why."""

    considered: tuple[PlanSummary, ...]
    rejected: tuple[tuple[str, str], ...]
    why: str
    # With a look-ahead: what it kept back or used, in words ("" when it changed nothing).
    lookahead: str = ""


@dataclass(frozen=True)
class RoutingResult:
    """The packages, the units per line no location could ship, and how it was decided."""

    packages: tuple[Package, ...]
    unfilled: Mapping[int, int]
    cost: CostBreakdown
    explanation: Explanation
    method: str


def route(
    lines: Sequence[RoutingLine],
    candidates: Sequence[Candidate],
    *,
    ship: Shipper,
    policy: RoutingPolicy,
    exact_line_limit: int = 6,
    exact_shape_limit: int = EXACT_SHAPE_LIMIT,
    lookahead: Lookahead | None = None,
) -> RoutingResult:
    """Route one order: the cheapest plan under stock, capacity and ``policy``, explained.
    With ``lookahead``, each unit drawn also costs what it is worth to the demand expected
    near its location, and the explanation says what that changed.

    Raises ``ValueError`` for malformed input (duplicate line numbers or locations,
    negative quantities or weights, ``max_locations`` below 1).
    """
    _validate(lines, candidates, policy, exact_line_limit, exact_shape_limit)
    active = sorted((ln for ln in lines if ln.quantity > 0), key=lambda ln: ln.line_no)
    if lookahead is not None:
        lookahead = less_this_order(lookahead, active, candidates, ship)
    problem = Problem(
        active,
        candidates,
        ship,
        max_packages=policy.max_locations if policy.allow_split else 1,
        split_penalty=policy.split_penalty,
        late_penalty=policy.late_penalty,
        lookahead=lookahead,
    )
    if not active:
        return _result(problem, active, policy, [Plan((0, 0, 0, 0, 0, ()), ())], "exact", "", 0)
    plans, method, reason, count = _search(problem, exact_line_limit, exact_shape_limit)
    if plans[0].key[1] and method == "heuristic":
        # Late: splitting lines over nearer locations may still be on time.
        on_time = _on_time_plans(problem, exact_line_limit)
        if on_time and on_time[0].key < plans[0].key:
            plans = sorted({*on_time, *plans})
            count = len(on_time)
    result = _result(problem, active, policy, plans, method, reason, count)
    if lookahead is not None and lookahead_matters(problem, lookahead):
        myopic = route(
            lines,
            candidates,
            ship=ship,
            policy=policy,
            exact_line_limit=exact_line_limit,
            exact_shape_limit=exact_shape_limit,
        )
        words = lookahead_words(problem, active, result, myopic)
        result = replace(result, explanation=replace(result.explanation, lookahead=words))
    return result


def _search(
    problem: Problem, exact_line_limit: int, exact_shape_limit: int
) -> tuple[list[Plan], str, str, int]:
    """The plans found best first, the method, why the heuristic was needed, how many."""
    seeds: list[Plan] = []
    ways = (
        f"the ways to divide {_many(problem.total_units, 'unit')} into at most "
        f"{_many(problem.k, 'package')}"
    )
    if problem.n > exact_line_limit:
        exceed = "exceeds" if problem.n == 1 else "exceed"
        reason = f"{_many(problem.n, 'line')} {exceed} the exact limit of {exact_line_limit}"
    elif loads_of(placeable(problem)) > exact_shape_limit:
        reason = f"{ways} exceed the exact limit of {exact_shape_limit:,}"
        seeds, _ = exact_plans(problem, _whole_lines(problem), allow_drop=True)
    else:
        plans, workable, finished = unit_plans(problem, exact_shape_limit)
        if finished:
            return plans, "exact", "", workable
        reason = f"{ways} exceed the exact limit of {exact_shape_limit:,}"
        seeds = plans
    found = heuristic_plans(problem, seeds[:1])
    return sorted({*found, *seeds[:_CONSIDERED]}), "heuristic", reason, len(found)


def _whole_lines(problem: Problem) -> int:
    """The lines some location holds whole, as a mask."""
    return sum(1 << i for i in range(problem.n) if problem.line_bits[i])


def _on_time_plans(problem: Problem, exact_line_limit: int) -> list[Plan]:
    """The heuristic's plans when late options count as impossible."""
    problem.only_on_time(True)
    try:
        seeds: list[Plan] = []
        if problem.n <= exact_line_limit:
            seeds, _ = exact_plans(problem, _whole_lines(problem), allow_drop=True)
        return heuristic_plans(problem, seeds[:1])
    finally:
        problem.only_on_time(False)


def _validate(
    lines: Sequence[RoutingLine],
    candidates: Sequence[Candidate],
    policy: RoutingPolicy,
    exact_line_limit: int,
    exact_shape_limit: int,
) -> None:
    if policy.max_locations < 1:
        raise ValueError("max_locations must be at least 1")
    if exact_line_limit < 0 or exact_shape_limit < 0:
        raise ValueError("exact limits must not be negative")
    if policy.split_penalty < 0 or policy.late_penalty < 0:
        raise ValueError("penalties must not be negative")
    if len({ln.line_no for ln in lines}) != len(lines):
        raise ValueError("line numbers must be unique")
    for ln in lines:
        if ln.quantity < 0 or ln.weight_grams < 0:
            raise ValueError(f"line {ln.line_no}: quantity and weight must not be negative")
        if any(per <= 0 for per in ln.per_unit.values()):
            raise ValueError(f"line {ln.line_no}: every per-unit SKU count must be positive")
    if len({c.location_id.int for c in candidates}) != len(candidates):
        raise ValueError("candidate locations must be unique")


def _packages(problem: Problem, active: Sequence[RoutingLine], plan: Plan) -> tuple[Package, ...]:
    packages = []
    for c, pieces in plan.alloc:
        grams = sum(units * problem.wt[i] for i, units in pieces)
        cand = problem.cands[c]
        load = [0] * problem.n
        for i, units in pieces:
            load[i] = units
        packages.append(
            Package(
                location_id=cand.location_id,
                code=cand.code,
                lines=tuple((active[i].line_no, units) for i, units in pieces),
                weight_grams=grams,
                option=problem.options[(c, grams)],
                handling=cand.handling_cost,
                depletion=problem.depletion_amount(c, tuple(load)),
            )
        )
    return tuple(packages)


def _breakdown(packages: Sequence[Package], policy: RoutingPolicy) -> CostBreakdown:
    shipping = sum((p.option.price for p in packages), Decimal(0))
    handling = sum((p.handling for p in packages), Decimal(0))
    split = policy.split_penalty * (len(packages) - 1) if packages else Decimal(0)
    late = policy.late_penalty * sum(1 for p in packages if p.option.late)
    depletion = sum((p.depletion for p in packages), Decimal(0))
    total = shipping + handling + split + late + depletion
    return CostBreakdown(shipping, handling, split, late, total, depletion)


class _Weighed(NamedTuple):
    summary: PlanSummary
    backorders: int
    arrives: date | None  # the latest late arrival; None when every package is on time


def _summaries(
    problem: Problem, active: Sequence[RoutingLine], policy: RoutingPolicy, plans: Sequence[Plan]
) -> list[_Weighed]:
    """The best plan per set of locations, winner first."""
    found: list[_Weighed] = []
    seen: set[frozenset[int]] = set()
    for plan in plans:
        used = frozenset(c for c, _ in plan.alloc)
        if used in seen:
            continue
        seen.add(used)
        packages = _packages(problem, active, plan)
        cost = _breakdown(packages, policy)
        late = [p.code for p in packages if p.option.late]
        backorders, arrives = plan.key[0], date.fromordinal(plan.key[1]) if plan.key[1] else None
        notes = []
        if not found:
            notes.append("chosen")
        elif backorders == found[0].backorders and plan.key[1] == _late_ordinal(found[0]):
            notes.append(f"+{cost.total - found[0].summary.cost.total} over the chosen plan")
        if late:
            notes.append(f"late from {'+'.join(late)}, arrives {arrives}")
        if backorders:
            notes.append(f"backorders {_many(backorders, 'unit')}")
        summary = PlanSummary(
            locations=tuple(p.code for p in packages),
            cost=cost,
            feasible=not late and not backorders,
            note="; ".join(notes),
        )
        found.append(_Weighed(summary, backorders, arrives))
        if len(found) == _CONSIDERED:
            break
    return found


def _late_ordinal(weighed: _Weighed) -> int:
    return weighed.arrives.toordinal() if weighed.arrives else 0


def _result(
    problem: Problem,
    active: Sequence[RoutingLine],
    policy: RoutingPolicy,
    plans: Sequence[Plan],
    method: str,
    reason: str,
    count: int,
) -> RoutingResult:
    packages = _packages(problem, active, plans[0])
    shipped: dict[int, int] = {}
    for package in packages:
        for line_no, units in package.lines:
            shipped[line_no] = shipped.get(line_no, 0) + units
    unfilled = {
        ln.line_no: ln.quantity - shipped.get(ln.line_no, 0)
        for ln in active
        if ln.quantity > shipped.get(ln.line_no, 0)
    }
    weighed = _summaries(problem, active, policy, plans)
    # Runners-up for "why": plans that ship as many units as the winner.
    peers = [w for w in weighed if w.backorders == weighed[0].backorders]
    return RoutingResult(
        packages=packages,
        unfilled=unfilled,
        cost=weighed[0].summary.cost,
        explanation=Explanation(
            considered=tuple(w.summary for w in weighed),
            rejected=_rejected(problem),
            why=_why(problem, peers, unfilled, reason, count),
        ),
        method=method,
    )


def _rejected(problem: Problem) -> tuple[tuple[str, str], ...]:
    rejected = list(problem.rejected)
    for c in problem.unshippable():
        rejected.append((problem.cands[c].code, "no carrier service for the parcel"))
    return tuple(sorted(rejected))


def _many(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def _names(summary: PlanSummary) -> str:
    return "+".join(summary.locations)


def _why(
    problem: Problem,
    peers: Sequence[_Weighed],
    unfilled: Mapping[int, int],
    reason: str,
    count: int,
) -> str:
    """One or two sentences: why the winner won (``reason``: why the heuristic was needed)."""
    best = peers[0].summary
    units = problem.total_units
    if not best.locations:
        return "no candidate location can ship any of it; every unit is backordered"
    if unfilled:
        left = sum(unfilled.values())
        return (
            f"no set of at most {_many(problem.k, 'location')} holds every unit; "
            f"{_names(best)} ships {units - left} of {units} units and {left} are backordered"
        )
    where = _many(len(problem.cands), "candidate location")
    if peers[0].arrives:
        head = f"no on-time plan over {where}; {_names(best)} arrives soonest ({peers[0].arrives})"
    elif reason:
        head = (
            f"{reason}; cheapest of {_many(count, 'plan')} from the bounded heuristic over {where}"
        )
    else:
        groupings = f"{_many(count, 'feasible grouping')} of the units"
        head = f"cheapest over {where} and {groupings}"
    if reason and peers[0].arrives:
        head = f"{reason}; {head}"
    if len(peers) == 1:
        return f"{head}; {_names(best)} is the only plan found that ships every unit"
    runner = peers[1].summary
    if _late_ordinal(peers[1]) > _late_ordinal(peers[0]):
        return f"{head}; {_names(runner)} would arrive later ({peers[1].arrives})"
    saving = runner.cost.total - best.cost.total
    wins, loses = len(best.locations), len(runner.locations)
    if not saving:
        reason = "fewer packages" if wins < loses else "location code order"
        return f"{head}; ties with {_names(runner)}, chosen by {reason}"
    if wins < loses:
        return (
            f"{head}; {_many(wins, 'location')} instead of {loses} saves {saving} "
            f"over {_names(runner)}"
        )
    if wins > loses:
        return f"{head}; splitting across {_names(best)} saves {saving} over {_names(runner)}"
    return f"{head}; {_names(best)} saves {saving} over {_names(runner)}"
