"""The stock-out day rule: a day out counts only where the SKU had demand that day or in
the 28 days before its spell began; judged from any day on, with the flag of the day
before, it finds the same days; lost units are the days times the in-stock demand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.domain.stockouts import days_out_with_demand, judge_days_out, spells

D = date(2030, 3, 1)


def _d(n: int) -> date:
    return D + timedelta(days=n)


@pytest.mark.parametrize(
    ("out", "sold", "counted"),
    [
        ([0, 1, 2], {-3: 2}, [0, 1, 2]),  # sold 3 days before the spell: all of it counts
        ([0, 1, 2], {}, []),  # never sold there: not a stock-out
        ([0, 1, 2], {-29: 4}, []),  # sold, but more than 28 days before the spell
        ([0, 40], {-1: 1}, [0]),  # two spells: the second had no demand in its window
        ([5], {5: 1}, [5]),  # sold out that very day
        (list(range(60)), {-28: 1}, list(range(60))),  # a long spell keeps counting
    ],
)
def test_days_out_count_where_the_sku_had_demand(
    out: list[int], sold: dict[int, int], counted: list[int]
) -> None:
    found = days_out_with_demand(
        [("S", "L", _d(n)) for n in out], {("S", "L", _d(n)): q for n, q in sold.items()}
    )
    assert sorted(found) == [("S", "L", _d(n)) for n in counted]


def test_demand_elsewhere_or_of_another_sku_does_not_count() -> None:
    demand = {("S", "OTHER", _d(-1)): 5, ("T", "L", _d(-1)): 5}
    assert days_out_with_demand([("S", "L", _d(0))], demand) == set()


def test_lost_units_are_the_days_out_at_the_in_stock_rate() -> None:
    found = {("S", "L", _d(10)), ("S", "L", _d(11))}
    # 2 units a day on every day of the 28 before the range and the range (10 days), but
    # the two days out sold nothing
    demand = {("S", "L", _d(n)): 2 for n in range(-28, 10) if n not in (10, 11)}
    [spell] = spells(found, demand, first=_d(0), last=_d(11))
    assert (spell.days, spell.first_day, spell.last_day) == (2, _d(10), _d(11))
    assert spell.demand_per_day == 2.0
    assert spell.lost_units == 4.0


@settings(max_examples=300, deadline=None)
@given(
    out=st.sets(st.integers(0, 90), max_size=60),
    sold=st.sets(st.integers(-40, 90), max_size=20),
    since=st.integers(0, 95),
)
def test_judging_from_any_day_on_with_the_flag_of_the_day_before_judges_as_the_whole(
    out: set[int], sold: set[int], since: int
) -> None:
    sold_days = sorted(_d(n) for n in sold)
    whole = judge_days_out([_d(n) for n in out], sold_days)
    # What the refresh does: the days before ``since`` keep their flags, the later ones
    # are judged from the day before the first of them.
    later = sorted(n for n in out if n >= since)
    eve = None if not later or later[0] - 1 not in out else _d(later[0] - 1) in whole
    again = judge_days_out([_d(n) for n in later], sold_days, before=eve)
    assert again == {day for day in whole if day >= _d(since)}
