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
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

__all__ = [
    "DEMAND_WINDOW",
    "StockoutSpell",
    "days_out_with_demand",
    "judge_days_out",
    "spell",
    "spells",
]

DEMAND_WINDOW = 28
"""Days before a day out in which the SKU must have sold at the location for it to count."""

L = TypeVar("L", bound=Hashable)


def judge_days_out(
    out: Iterable[date], sold: Sequence[date], *, before: bool | None = None
) -> set[date]:
    """The days of ``out`` (days out of one SKU at one location) that are stock-out days,
    given ``sold`` (its days with demand there, ascending) and ``before``: whether the day
    before the first of ``out`` was a stock-out day (True), out without counting (False),
    or not out (None).

    The rule, day by day (so that a day can be judged from the day before it alone): the
    first day of a spell out counts when the SKU sold there that day or in the
    ``DEMAND_WINDOW`` days before; a later day of the spell counts when the day before it
    did or the SKU sold there that day. This is "demand from ``DEMAND_WINDOW`` days before
    the spell began to the day" without reading the spell's start."""
    found: set[date] = set()
    previous: date | None = None
    counted = before
    for day in sorted(set(out)):
        if previous is not None and day != previous + timedelta(days=1):
            counted = None  # a gap: a new spell
        if counted is None:
            counted = _sold_between(sold, day - timedelta(days=DEMAND_WINDOW), day)
        else:
            counted = counted or _sold_between(sold, day, day)
        if counted:
            found.add(day)
        previous = day
    return found


def _sold_between(sold: Sequence[date], first: date, last: date) -> bool:
    at = bisect_left(sold, first)
    return at < len(sold) and sold[at] <= last


def days_out_with_demand(
    out: Iterable[tuple[str, L, date]], demand: Mapping[tuple[str, L, date], int]
) -> set[tuple[str, L, date]]:
    """The days of ``out`` (SKU, location, day) that are stock-out days: the SKU had demand
    at the location that day or in the ``DEMAND_WINDOW`` days before the spell of
    consecutive days out that the day belongs to (``judge_days_out`` over all of them)."""
    sold: dict[tuple[str, L], set[date]] = defaultdict(set)
    for (sku, location, day), units in demand.items():
        if units > 0:
            sold[(sku, location)].add(day)
    by_key: dict[tuple[str, L], list[date]] = defaultdict(list)
    for sku, location, day in out:
        by_key[(sku, location)].append(day)
    return {
        (key[0], key[1], day)
        for key, days in by_key.items()
        for day in judge_days_out(days, sorted(sold.get(key, ())))
    }


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
    return [
        spell(
            sku=sku,
            location=location,
            days=len(days),
            first_day=min(days),
            last_day=max(days),
            in_stock_units=units[(sku, location)],
            span=span,
        )
        for (sku, location), days in sorted(
            by_key.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))
        )
    ]


def spell(
    *,
    sku: str,
    location: Hashable,
    days: int,
    first_day: date,
    last_day: date,
    in_stock_units: int,
    span: int,
) -> StockoutSpell:
    """One SKU-location's ``days`` stock-out days of a report over ``span`` days (the range
    and the ``DEMAND_WINDOW`` before it), at the rate of the ``in_stock_units`` demanded on
    its other days."""
    rate = in_stock_units / max(1, span - days)
    return StockoutSpell(
        sku=sku,
        location=location,
        days=days,
        first_day=first_day,
        last_day=last_day,
        demand_per_day=round(rate, 3),
        lost_units=round(rate * days, 1),
    )
