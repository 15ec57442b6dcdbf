"""Look-ahead routing: what a location's units are worth to the demand expected near it.

A router that looks only at today's order ships from wherever is cheapest now, and may use
up a location's last units on an order from far away; the next orders from near that
location then ship from further away, at a higher price. In the spirit of Acimovic and
Graves (2015, "Making better fulfillment decisions on the fly in an online retail
environment"), units carry a **marginal value** (the dual price of stock in the problem of
serving the demand still to come), and the router adds it to a plan's cost for the units
the plan draws.

For one SKU (``SkuOutlook``): the units each candidate location holds, the demand expected
near each location over the horizon (its own forecast: the demand it served in the past),
and what a unit costs from each location to each location's place. ``serving_cost`` is the
least cost of serving that expected demand from the stock (a small transportation
problem, solved exactly; demand no stock can serve costs the dearest way to serve it plus
one, so it is served whenever stock allows). Drawing ``k`` units at a location now costs
the increase of that least cost when the location holds ``k`` fewer
(``depletion_penalty``), averaged over a few multiples of the forecast (``SCENARIOS``:
the demand to come is uncertain), times the profile's weight:

* it is zero while the location has units to spare beyond what the plan for the coming
  demand uses from it (plentiful stock costs nothing);
* it never rises as the location's stock rises (the least cost is convex in the stock);
* it is the cost of serving the nearby demand from the next-best location when that one
  has units to spare, and more when the next-best location then runs short too.

Only these functions decide the term; the exact search and the heuristic both charge it
through ``oms.domain.routing_search.Problem``.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from oms.domain.errors import FieldError

__all__ = [
    "Lookahead",
    "LookaheadSettings",
    "SkuOutlook",
    "depletion_penalty",
    "outlook_of",
    "serving_cost",
]

_EPSILON = 1e-9
SCENARIOS = (0.25, 0.625, 1.0, 1.375, 1.75)
"""Demand to come is uncertain: the term averages the rise over these multiples of the
forecast (the rise of a certain forecast overstates how surely a unit is needed)."""
_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class LookaheadSettings:
    """The routing profile's ``lookahead`` option: off by default. ``weight`` scales the
    term (1: the expected cost as estimated), ``horizon_days`` is how far ahead demand is
    counted (about the time until stock is replenished)."""

    enabled: bool = False
    weight: Decimal = Decimal(1)
    horizon_days: int = 14

    def to_dict(self) -> dict[str, object]:
        return {
            "enabled": self.enabled,
            "weight": str(self.weight),
            "horizon_days": self.horizon_days,
        }

    @classmethod
    def from_raw(cls, raw: object, errors: list[FieldError]) -> LookaheadSettings:
        """Read the option; problems are added to ``errors`` with pointers."""
        if not isinstance(raw, Mapping):
            errors.append(FieldError("#/lookahead", "must be an object"))
            return cls()
        for key in raw:
            if key not in ("enabled", "weight", "horizon_days"):
                errors.append(FieldError(f"#/lookahead/{key}", "not a look-ahead setting"))
        enabled = raw.get("enabled", False)
        if not isinstance(enabled, bool):
            errors.append(FieldError("#/lookahead/enabled", "must be true or false"))
            enabled = False
        weight = Decimal(1)
        try:
            weight = Decimal(str(raw.get("weight", "1")))
            if not weight.is_finite() or not 0 <= weight <= 100:
                raise ValueError
        except (ArithmeticError, ValueError):
            errors.append(FieldError("#/lookahead/weight", "must be a number from 0 to 100"))
            weight = Decimal(1)
        horizon = raw.get("horizon_days", 14)
        if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= 56:
            errors.append(FieldError("#/lookahead/horizon_days", "must be a whole number 1-56"))
            horizon = 14
        return cls(enabled=enabled, weight=weight, horizon_days=horizon)


@dataclass(frozen=True)
class SkuOutlook:
    """One SKU: units held per location code, demand expected near each location code over
    the horizon, and per (origin, near) the cost of a unit from ``origin`` to ``near``'s
    place (a pair absent: no service)."""

    stock: Mapping[str, int]
    demand: Mapping[str, float]
    unit_cost: Mapping[tuple[str, str], Decimal]

    def scaled(self, factor: float) -> SkuOutlook:
        """The same with every expected demand times ``factor``."""
        if factor == 1.0:
            return self
        demand = {code: units * factor for code, units in self.demand.items()}
        return SkuOutlook(self.stock, demand, self.unit_cost)

    def key(self) -> _Key:
        return (
            tuple(sorted(self.demand.items())),
            tuple(sorted((pair, float(cost)) for pair, cost in self.unit_cost.items())),
        )


_Key = tuple[tuple[tuple[str, float], ...], tuple[tuple[tuple[str, str], float], ...]]


def serving_cost(outlook: SkuOutlook, stock: Mapping[str, int]) -> float:
    """The least cost of serving the expected demand from ``stock`` (see the module)."""
    held = tuple(sorted((code, units) for code, units in stock.items() if units > 0))
    return _least(outlook.key(), held)


@lru_cache(maxsize=65_536)
def _least(key: _Key, held: tuple[tuple[str, int], ...]) -> float:
    demand, costs = dict(key[0]), dict(key[1])
    regions = [code for code, units in sorted(demand.items()) if units > _EPSILON]
    if not regions:
        return 0.0
    # Nodes: 0 source, supplies (the last one: demand left unserved), regions, sink.
    supplies = [code for code, _ in held]
    capacity = [float(units) for _, units in held] + [sum(demand[r] for r in regions)]
    n_supply = len(capacity)
    sink = 1 + n_supply + len(regions)
    graph: list[list[int]] = [[] for _ in range(sink + 1)]
    to: list[int] = []
    cap: list[float] = []
    cost: list[float] = []

    def edge(a: int, b: int, room: float, price: float) -> None:
        for frm, dst, r, c in ((a, b, room, price), (b, a, 0.0, -price)):
            graph[frm].append(len(to))
            to.append(dst)
            cap.append(r)
            cost.append(c)

    for i, room in enumerate(capacity):
        edge(0, 1 + i, room, 0.0)
    for j, region in enumerate(regions):
        node = 1 + n_supply + j
        # Whatever the stock: from every origin priced, held or not (else less stock could
        # make the demand cheaper to leave unserved).
        priced = [price for (_, near), price in costs.items() if near == region]
        unserved = max(priced, default=0.0) + 1.0
        for i, origin in enumerate(supplies):
            if (origin, region) in costs:
                edge(1 + i, node, float("inf"), costs[origin, region])
        edge(n_supply, node, float("inf"), unserved)
        edge(node, sink, demand[region], 0.0)
    return _min_cost_flow(graph, to, cap, cost, sink, sum(demand[r] for r in regions))


def _min_cost_flow(
    graph: list[list[int]],
    to: list[int],
    cap: list[float],
    cost: list[float],
    sink: int,
    want: float,
) -> float:
    """Successive shortest paths (Dijkstra on reduced costs) from node 0 to ``sink``."""
    nodes = len(graph)
    potential = [0.0] * nodes
    total = 0.0
    while want > _EPSILON:
        dist = [float("inf")] * nodes
        via = [-1] * nodes
        dist[0] = 0.0
        queue = [(0.0, 0)]
        while queue:
            d, u = heapq.heappop(queue)
            if d > dist[u] + _EPSILON:
                continue
            for e in graph[u]:
                if cap[e] > _EPSILON:
                    v = to[e]
                    nd = d + cost[e] + potential[u] - potential[v]
                    if nd < dist[v] - _EPSILON:
                        dist[v] = nd
                        via[v] = e
                        heapq.heappush(queue, (nd, v))
        if via[sink] < 0:
            break
        for v in range(nodes):
            if dist[v] < float("inf"):
                potential[v] += dist[v]
        push = want
        v = sink
        while v:
            e = via[v]
            push = min(push, cap[e])
            v = to[e ^ 1]
        v = sink
        while v:
            e = via[v]
            cap[e] -= push
            cap[e ^ 1] += push
            total += push * cost[e]
            v = to[e ^ 1]
        want -= push
    return total


def depletion_penalty(outlook: SkuOutlook, code: str, units: int, weight: Decimal) -> Decimal:
    """What drawing ``units`` at ``code`` now costs the expected demand: the rise of
    ``serving_cost`` when ``code`` holds that many fewer, times ``weight`` (never below 0)."""
    held = outlook.stock.get(code, 0)
    if units <= 0 or held <= 0 or weight <= 0:
        return Decimal(0)
    after = dict(outlook.stock)
    after[code] = max(0, held - units)
    rise = 0.0
    for scale in SCENARIOS:
        scaled = outlook.scaled(scale)
        rise += serving_cost(scaled, after) - serving_cost(scaled, outlook.stock)
    rise /= len(SCENARIOS)
    value = weight * Decimal(repr(round(max(rise, 0.0), 4)))
    return value.quantize(_PLACES)


def outlook_of(
    stock: Mapping[str, int],
    demand: Mapping[str, float],
    unit_cost: Callable[[str, str], Decimal | None],
) -> SkuOutlook:
    """The outlook of one SKU: ``unit_cost(origin, near)`` is asked for every location
    holding it (``stock``) and every location with expected ``demand``."""
    origins = sorted(code for code, units in stock.items() if units > 0)
    places = sorted(code for code, units in demand.items() if units > 0)
    costs: dict[tuple[str, str], Decimal] = {}
    for origin in origins:
        for near in places:
            found = unit_cost(origin, near)
            if found is not None:
                costs[origin, near] = found
    return SkuOutlook(dict(stock), dict(demand), costs)


@dataclass(frozen=True)
class Lookahead:
    """The outlooks of one order's SKUs and the profile's weight: what the router charges
    for depleting stock."""

    outlooks: Mapping[str, SkuOutlook] = field(default_factory=dict)
    weight: Decimal = Decimal(1)

    def penalty(self, code: str, sku: str, stock: int, units: int) -> Decimal:
        """The cost of drawing ``units`` of ``sku`` from the ``stock`` held at ``code``."""
        outlook = self.outlooks.get(sku)
        if outlook is None or units <= 0:
            return Decimal(0)
        if outlook.stock.get(code, 0) != stock:
            outlook = SkuOutlook({**outlook.stock, code: stock}, outlook.demand, outlook.unit_cost)
        return depletion_penalty(outlook, code, units, self.weight)

    def without(self, sku: str, code: str, units: int) -> Lookahead:
        """The same, with ``units`` of the demand expected near ``code`` taken out: the
        order being routed is part of that demand, not more of it to come."""
        outlook = self.outlooks.get(sku)
        if outlook is None or units <= 0:
            return self
        demand = dict(outlook.demand)
        demand[code] = max(0.0, demand.get(code, 0.0) - units)
        fewer = SkuOutlook(outlook.stock, demand, outlook.unit_cost)
        return Lookahead({**self.outlooks, sku: fewer}, self.weight)

    def matters(self, code: str, sku: str, stock: int) -> bool:
        """Whether drawing one unit of ``sku`` at ``code`` costs anything."""
        return self.penalty(code, sku, stock, 1) > 0
