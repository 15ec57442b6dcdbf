"""Look-ahead routing: what a location's last units are worth to the demand expected near it.

A router that looks only at today's order ships from wherever is cheapest now, and may use
up a location's last units on an order from far away; the next order from near that
location then ships from further away, at a higher price. In the spirit of Acimovic and
Graves (2015, "Making better fulfillment decisions on the fly in an online retail
environment"), each unit carries a **marginal value** (a dual price): the expected extra
cost its absence would cause over the coming days, and the router adds it to a plan's cost
for every unit the plan draws.

For one SKU at one location with ``stock`` units (above the routing safety stock):

* ``D`` is the demand expected near the location over the horizon (the location's own
  forecast: the demand it served in the past; Poisson with the forecast's mean);
* ``extra`` is what serving one unit of that demand from the next-best location costs more
  than serving it from here (``extra_cost``: the cheapest other location with units to
  spare beyond its own expected demand, else the cheapest other holder);
* the ``stock``-th unit is needed near here with probability ``P(D >= stock)``, so it is
  worth ``weight x extra x P(D >= stock)``; drawing ``k`` units from ``stock`` costs the sum
  over the ``k`` last units (``depletion_penalty``).

Values are zero where the stock covers the horizon's demand with 99.5% probability
(``COVERED``), never negative, and never rise as stock rises. Only these functions decide
the term; the exact search and the heuristic both charge it through
``oms.domain.routing_search.Problem``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from oms.domain.errors import FieldError

__all__ = [
    "COVERED",
    "Lookahead",
    "LookaheadSettings",
    "Outlook",
    "depletion_penalty",
    "extra_cost",
    "need_probability",
    "outlooks_of",
    "unit_value",
]

COVERED = 0.995
"""A unit whose chance of being needed near its location is below 1 - COVERED is worth 0."""

_CENT = Decimal("0.000001")


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
class Outlook:
    """One SKU at one location: the demand expected near it over the horizon, and what
    serving a unit of it from the next-best location costs more than from here."""

    demand: float
    extra: Decimal


@lru_cache(maxsize=65_536)
def need_probability(demand: float, stock: int) -> float:
    """``P(D >= stock)`` for Poisson demand of mean ``demand``: the chance that the
    ``stock``-th unit held is needed within the horizon."""
    if stock <= 0:
        return 1.0
    if demand <= 0:
        return 0.0
    # 1 - P(D <= stock - 1), the terms summed in log space (large means stay finite).
    log_term = -demand
    below = 0.0
    for j in range(stock):
        if j:
            log_term += math.log(demand) - math.log(j)
        below += math.exp(log_term)
    return min(1.0, max(0.0, 1.0 - below))


def unit_value(outlook: Outlook, stock: int, weight: Decimal) -> Decimal:
    """What the last of ``stock`` units is worth near its location (0 when covered)."""
    chance = need_probability(round(outlook.demand, 6), stock)
    if chance < 1 - COVERED or outlook.extra <= 0 or weight <= 0:
        return Decimal(0)
    value = weight * outlook.extra * Decimal(repr(round(chance, 6)))
    return value.quantize(_CENT, rounding=ROUND_HALF_EVEN)


def depletion_penalty(outlook: Outlook, stock: int, units: int, weight: Decimal) -> Decimal:
    """The cost of drawing ``units`` of ``stock``: the values of the last ``units`` units."""
    return sum(
        (unit_value(outlook, stock - j, weight) for j in range(min(units, max(stock, 0)))),
        Decimal(0),
    )


def extra_cost(own: Decimal, others: Sequence[tuple[Decimal, float]]) -> Decimal:
    """Per unit, what serving this location's nearby demand from the next-best location
    costs more than from here. ``own``: the cost of a unit from here; ``others``: per other
    location holding the SKU, (the cost of a unit from there, its units to spare beyond its
    own expected demand). The cheapest one with units to spare, else the cheapest holder;
    nothing when no other location holds the SKU (the demand waits either way)."""
    if not others:
        return Decimal(0)
    spare = [cost for cost, units in others if units > 0]
    nearest = min(spare) if spare else min(cost for cost, _ in others)
    return max(Decimal(0), nearest - own)


def outlooks_of(
    sku: str,
    stock: Mapping[str, int],
    demand: Mapping[str, float],
    unit_cost: Callable[[str, str], Decimal | None],
) -> dict[tuple[str, str], Outlook]:
    """The outlook of ``sku`` at each location code holding it (``stock``): its expected
    ``demand`` there, and ``extra_cost`` against the others, where ``unit_cost(origin,
    near)`` is what a unit costs from ``origin`` to ``near``'s place (None: no service)."""
    found: dict[tuple[str, str], Outlook] = {}
    holders = sorted(code for code, units in stock.items() if units > 0)
    for here in holders:
        own = unit_cost(here, here)
        if own is None:
            continue
        others = [
            (cost, stock[there] - demand.get(there, 0.0))
            for there in holders
            if there != here and (cost := unit_cost(there, here)) is not None
        ]
        found[(here, sku)] = Outlook(demand.get(here, 0.0), extra_cost(own, others))
    return found


@dataclass(frozen=True)
class Lookahead:
    """The outlooks of one order's SKUs at its candidate locations, keyed by (location
    code, SKU), and the profile's weight: what the router charges for depleting stock."""

    outlooks: Mapping[tuple[str, str], Outlook] = field(default_factory=dict)
    weight: Decimal = Decimal(1)

    def penalty(self, code: str, sku: str, stock: int, units: int) -> Decimal:
        """The cost of drawing ``units`` of ``sku`` from the ``stock`` held at ``code``."""
        outlook = self.outlooks.get((code, sku))
        if outlook is None or units <= 0:
            return Decimal(0)
        return depletion_penalty(outlook, stock, units, self.weight)

    def matters(self, code: str, sku: str, stock: int) -> bool:
        """Whether the last unit of ``stock`` at ``code`` is worth anything."""
        outlook = self.outlooks.get((code, sku))
        return outlook is not None and unit_value(outlook, stock, self.weight) > 0
