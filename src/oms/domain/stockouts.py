"""Stock-out days: the days a SKU was unavailable at a location **where it had demand**.

A day is *out* at a location when the lowest availability seen there that day (on hand less
reserved less safety stock, sampled by the worker, or on hand per the ledger's
``on_hand_after``) was 0 or less. It counts as a stock-out day only when the SKU sells
there: units were wanted there that day or in the ``DEMAND_WINDOW`` days before. A SKU the
location never sells is not "out" there, and a SKU out for months keeps counting as long as
it sold in the month before it ran out (``first_out`` carries the window from there).

Forecasting treats these days as censored demand (their sales are not a fair reading of
demand), and analytics counts them, with an estimate of the units lost: the days times the
average daily demand of the in-stock days around them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

__all__ = ["DEMAND_WINDOW", "StockoutSpell", "days_out_with_demand", "spells"]

DEMAND_WINDOW = 28
"""Days before a day out in which the SKU must have sold at the location for it to count."""

L = TypeVar("L", bound=Hashable)


def days_out_with_demand(
    out: Iterable[tuple[str, L, date]], demand: Mapping[tuple[str, L, date], int]
) -> set[tuple[str, L, date]]:
    """The days of ``out`` (SKU, location, day) that are stock-out days: the SKU had demand
    at the location that day or in the ``DEMAND_WINDOW`` days before the spell of
    consecutive days out that the day belongs to."""
    sold: dict[tuple[str, L], set[date]] = defaultdict(set)
    for (sku, location, day), units in demand.items():
        if units > 0:
            sold[(sku, location)].add(day)
    by_key: dict[tuple[str, L], list[date]] = defaultdict(list)
    for sku, location, day in out:
        by_key[(sku, location)].append(day)
    found: set[tuple[str, L, date]] = set()
    for key, days in by_key.items():
        seen = sorted(sold.get(key, ()))
        spell_start: date | None = None
        previous: date | None = None
        for day in sorted(set(days)):
            if previous is None or day != previous + timedelta(days=1):
                spell_start = day
            previous = day
            assert spell_start is not None
            window = spell_start - timedelta(days=DEMAND_WINDOW)
            at = bisect_left(seen, window)
            if at < len(seen) and seen[at] <= day:
                found.add((key[0], key[1], day))
    return found


@dataclass(frozen=True)
class StockoutSpell:
    """The stock-out days of one SKU at one location over a range, and the units they cost
    at the demand of its in-stock days."""

    sku: str
    location: Hashable
    days: int
    first_day: date
    last_day: date
    demand_per_day: float
    lost_units: float


def spells(
    found: Iterable[tuple[str, L, date]],
    demand: Mapping[tuple[str, L, date], int],
    *,
    first: date,
    last: date,
) -> list[StockoutSpell]:
    """Per SKU and location, the stock-out days ``found`` from ``first`` to ``last``, with
    the average daily demand of its in-stock days from ``DEMAND_WINDOW`` days before
    ``first`` to ``last`` and the units lost at that rate."""
    by_key: dict[tuple[str, L], set[date]] = defaultdict(set)
    for sku, location, day in found:
        if first <= day <= last:
            by_key[(sku, location)].add(day)
    units: dict[tuple[str, L], int] = defaultdict(int)
    start = first - timedelta(days=DEMAND_WINDOW)
    for (sku, location, day), n in demand.items():
        if start <= day <= last and day not in by_key.get((sku, location), ()):
            units[(sku, location)] += n
    span = (last - start).days + 1
    out = []
    for (sku, location), days in sorted(by_key.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        in_stock = max(1, span - len(days))
        rate = units[(sku, location)] / in_stock
        out.append(
            StockoutSpell(
                sku=sku,
                location=location,
                days=len(days),
                first_day=min(days),
                last_day=max(days),
                demand_per_day=round(rate, 3),
                lost_units=round(rate * len(days), 1),
            )
        )
    return out
