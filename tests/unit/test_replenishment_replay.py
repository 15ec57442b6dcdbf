"""The replenishment replay's pure rules: a shelf's day (receive, sell, lose the rest), the
static min/max baseline, and the tallies; invariants proved with hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.domain.replenishment import SupplyTerms
from oms.domain.replenishment_replay import (
    MinMax,
    ReplayTally,
    Shelf,
    fewer_stockout_days,
    play_day,
    static_min_max,
    static_order,
)

arrivals = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 500)), max_size=6).map(tuple)
shelves = st.builds(Shelf, on_hand=st.integers(0, 1_000), arriving=arrivals)


@given(shelf=shelves, day=st.integers(0, 60), demand=st.integers(0, 2_000))
def test_a_day_sells_what_it_can_and_loses_the_rest(shelf: Shelf, day: int, demand: int) -> None:
    after, result = play_day(shelf, day=day, demand=demand)

    assert after.on_hand >= 0
    assert result.sold + result.lost == demand
    assert result.sold <= demand
    assert after.on_hand == shelf.on_hand + result.received - result.sold
    assert result.received + after.on_order == shelf.on_order  # nothing ordered is lost
    assert result.stocked_out == (result.lost > 0)
    assert result.lost == 0 or after.on_hand == 0  # demand goes unmet only on an empty shelf
    assert all(when > day for when, _ in after.arriving)


@given(
    first=st.integers(0, 200),
    demands=st.lists(st.integers(0, 80), min_size=1, max_size=90),
    lead=st.integers(1, 21),
    k=st.floats(-3, 10),
    moq=st.integers(1, 40),
    pack=st.integers(1, 12),
)
def test_a_replayed_policy_never_goes_negative_and_accounts_for_all_demand(
    first: int, demands: list[int], lead: int, k: float, moq: int, pack: int
) -> None:
    terms = SupplyTerms(lead_time_days=lead, review_period_days=7, moq=moq, pack_size=pack)
    levels = static_min_max(mean=20, sd=6, k=k, lead_time_days=lead, review_period_days=7)
    shelf, tally, ordered, received = Shelf(first), ReplayTally(), 0, 0
    for day, demand in enumerate(demands):
        shelf, result = play_day(shelf, day=day, demand=demand)
        tally.add(result)
        received += result.received
        assert shelf.on_hand >= 0
        units = static_order(position=shelf.position, levels=levels, terms=terms)
        assert units == 0 or (units >= moq and units % pack == 0)
        ordered += units
        shelf = shelf.ordered(arrives=day + lead, units=units)

    assert tally.sold + tally.lost == tally.demanded == sum(demands)
    assert 0 <= tally.fill_rate <= 1
    assert tally.stockout_days <= len(demands)
    assert first + received - tally.sold == shelf.on_hand  # stock balances
    assert ordered == received + shelf.on_order


def test_what_was_ordered_arrives_on_its_day_and_not_before() -> None:
    shelf = Shelf(0).ordered(arrives=3, units=10)

    shelf, early = play_day(shelf, day=2, demand=4)
    assert (early.received, early.sold, early.lost) == (0, 0, 4)
    shelf, due = play_day(shelf, day=3, demand=4)
    assert (due.received, due.sold, due.lost, shelf.on_hand) == (10, 4, 0, 6)


def test_negative_demand_or_orders_are_refused() -> None:
    with pytest.raises(ValueError, match="demand"):
        play_day(Shelf(5), day=0, demand=-1)
    with pytest.raises(ValueError, match="order"):
        Shelf(5).ordered(arrives=3, units=-2)


def test_static_levels_are_lead_time_demand_plus_k_spreads_then_a_review_period_more() -> None:
    levels = static_min_max(mean=10, sd=4, k=1.5, lead_time_days=9, review_period_days=7)

    assert levels == MinMax(low=90 + 1.5 * 4 * 3, high=90 + 18 + 70)


@pytest.mark.parametrize(
    ("position", "moq", "pack", "units"),
    [
        (51, 1, 1, 0),  # above min: nothing
        (50, 1, 1, 31),  # at min: up to max (80.4 -> 81)
        (10, 1, 1, 71),
        (45, 50, 1, 50),  # raised to the MOQ
        (10, 1, 12, 72),  # whole packs
    ],
)
def test_the_static_policy_orders_up_to_max_at_or_below_min_in_moq_and_packs(
    position: int, moq: int, pack: int, units: int
) -> None:
    terms = SupplyTerms(lead_time_days=7, moq=moq, pack_size=pack)

    assert static_order(position=position, levels=MinMax(50, 80.4), terms=terms) == units


def test_fewer_stockout_days_is_the_share_of_the_baselines_avoided() -> None:
    baseline, policy = ReplayTally(stockout_days=40), ReplayTally(stockout_days=10)

    assert fewer_stockout_days(baseline=baseline, policy=policy) == pytest.approx(0.75)
    assert fewer_stockout_days(baseline=ReplayTally(), policy=policy) == 0.0
    assert ReplayTally().fill_rate == 1.0
