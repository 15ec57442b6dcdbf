"""One shelf replayed day by day: what a SKU at one location receives, sells and loses, and
the static min/max policy the forecast-driven one is measured against.

A day on the shelf (``play_day``): what was ordered for that day arrives, then the day's
demand is sold from what is on hand; demand beyond it is lost (no backorders). An order
(``Shelf.ordered``) arrives a lead time later. So units sold + units lost = demand, and
the stock on hand is never negative.

The static policy (Odoo-style min/max from the history, never changed): min = mean x lead
time + k x sd x sqrt(lead time), max = min + mean x review period; when the position (on
hand + on order) is at or below min, order up to max, under the supplier's MOQ and packs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from oms.domain.replenishment import SupplyTerms, round_order

__all__ = [
    "MinMax",
    "ReplayTally",
    "Shelf",
    "ShelfDay",
    "fewer_stockout_days",
    "play_day",
    "static_min_max",
    "static_order",
]


@dataclass(frozen=True)
class Shelf:
    """Units on hand and the orders on their way, as (day of arrival, units)."""

    on_hand: int
    arriving: tuple[tuple[int, int], ...] = ()

    @property
    def on_order(self) -> int:
        """Units ordered and not yet received."""
        return sum(units for _, units in self.arriving)

    @property
    def position(self) -> int:
        """The inventory position replenishment plans from: on hand + on order."""
        return self.on_hand + self.on_order

    def ordered(self, *, arrives: int, units: int) -> Shelf:
        """The shelf with ``units`` more arriving on day ``arrives`` (0 units: unchanged)."""
        if units < 0:
            raise ValueError("an order is for 0 units or more")
        if units == 0:
            return self
        return Shelf(self.on_hand, (*self.arriving, (arrives, units)))


@dataclass(frozen=True)
class ShelfDay:
    """What happened on one shelf on day ``day``; ``on_hand`` is at the end of the day."""

    day: int
    demand: int
    received: int
    sold: int
    lost: int
    on_hand: int

    @property
    def stocked_out(self) -> bool:
        """True when some demand went unmet (a stock-out day)."""
        return self.lost > 0


def play_day(shelf: Shelf, *, day: int, demand: int) -> tuple[Shelf, ShelfDay]:
    """Receive what is due by ``day``, then sell up to ``demand`` units; the rest is lost."""
    if demand < 0:
        raise ValueError("demand is 0 units or more")
    received = sum(units for when, units in shelf.arriving if when <= day)
    stock = shelf.on_hand + received
    sold = min(stock, demand)
    after = Shelf(stock - sold, tuple((w, u) for w, u in shelf.arriving if w > day))
    return after, ShelfDay(day, demand, received, sold, demand - sold, after.on_hand)


@dataclass
class ReplayTally:
    """A policy's totals over shelves and days: units on hand at the ends of days summed
    (``stock_units``), stock-out days (shelf-days with unmet demand), demand and sales."""

    stock_units: int = 0
    stockout_days: int = 0
    demanded: int = 0
    sold: int = 0

    def add(self, day: ShelfDay) -> None:
        """Count one shelf-day."""
        self.stock_units += day.on_hand
        self.stockout_days += day.stocked_out
        self.demanded += day.demand
        self.sold += day.sold

    @property
    def lost(self) -> int:
        """Units demanded and not sold."""
        return self.demanded - self.sold

    @property
    def fill_rate(self) -> float:
        """Units sold / units demanded (1 when nothing was demanded)."""
        return self.sold / self.demanded if self.demanded else 1.0


@dataclass(frozen=True)
class MinMax:
    """The static policy's levels: order up to ``high`` when the position is at or below
    ``low``."""

    low: float
    high: float


def static_min_max(
    *, mean: float, sd: float, k: float, lead_time_days: int, review_period_days: int
) -> MinMax:
    """Min/max from a history's daily mean and standard deviation and a safety factor k."""
    low = mean * lead_time_days + k * sd * math.sqrt(lead_time_days)
    return MinMax(low, low + mean * review_period_days)


def static_order(*, position: int, levels: MinMax, terms: SupplyTerms) -> int:
    """The static policy's order for ``position`` (0: none), in the supplier's MOQ and packs."""
    if position > levels.low:
        return 0
    return round_order(math.ceil(levels.high - position), terms)


def fewer_stockout_days(*, baseline: ReplayTally, policy: ReplayTally) -> float:
    """The share of the baseline's stock-out days the policy avoids (negative: more)."""
    if not baseline.stockout_days:
        return 0.0
    return 1 - policy.stockout_days / baseline.stockout_days
