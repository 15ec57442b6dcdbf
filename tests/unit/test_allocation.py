"""The foundation's allocation rule: one location preferred, else priority order, split."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from oms.domain.allocation import Demand, Pick, plan_allocation, stock_rows

A, B, C = UUID(int=1), UUID(int=2), UUID(int=3)
ONE = {"X": 1}


def test_one_location_with_everything_is_preferred_over_a_higher_priority_split() -> None:
    stock = {("X", A): 5, ("Y", B): 5, ("X", C): 5, ("Y", C): 5}
    plan = plan_allocation([Demand(1, 2, {"X": 1}), Demand(2, 2, {"Y": 1})], stock, [A, B, C])
    assert {(p.line_no, p.location_id, p.units) for p in plan.picks} == {(1, C, 2), (2, C, 2)}
    assert plan.unfilled == {}


def test_the_first_location_in_priority_order_wins_among_those_with_everything() -> None:
    stock = {("X", A): 5, ("X", B): 5}
    plan = plan_allocation([Demand(1, 3, ONE)], stock, [B, A])
    assert [(p.location_id, p.units) for p in plan.picks] == [(B, 3)]


def test_without_a_single_location_each_line_splits_in_priority_order() -> None:
    stock = {("X", A): 2, ("X", B): 3, ("Y", B): 1}
    plan = plan_allocation([Demand(1, 4, {"X": 1}), Demand(2, 1, {"Y": 1})], stock, [A, B])
    assert [(p.line_no, p.location_id, p.units) for p in plan.picks] == [
        (1, A, 2),
        (1, B, 2),
        (2, B, 1),
    ]


def test_what_no_location_has_is_left_unfilled() -> None:
    plan = plan_allocation([Demand(1, 10, ONE)], {("X", A): 3, ("X", B): 4}, [A, B])
    assert sum(p.units for p in plan.picks) == 7
    assert plan.unfilled == {1: 3}


def test_a_bundle_takes_whole_units_from_one_location_per_pick() -> None:
    kit = {"X": 2, "Y": 1}
    stock = {("X", A): 5, ("Y", A): 1, ("X", B): 2, ("Y", B): 9}
    plan = plan_allocation([Demand(1, 3, kit)], stock, [A, B])
    assert [(p.location_id, p.units) for p in plan.picks] == [(A, 1), (B, 1)]
    assert plan.unfilled == {1: 1}


def test_two_lines_of_the_same_sku_never_share_the_same_unit() -> None:
    plan = plan_allocation([Demand(1, 3, ONE), Demand(2, 3, ONE)], {("X", A): 4}, [A])
    assert sum(p.units for p in plan.picks) == 4
    assert sum(plan.unfilled.values()) == 2


def test_locations_outside_the_candidate_list_are_never_used() -> None:
    plan = plan_allocation([Demand(1, 2, ONE)], {("X", A): 9}, [B])
    assert plan.picks == []
    assert plan.unfilled == {1: 2}


skus = st.sampled_from(["X", "Y", "Z"])
locations = st.sampled_from([A, B, C])


@given(
    demands=st.lists(
        st.tuples(st.dictionaries(skus, st.integers(1, 3), min_size=1), st.integers(0, 20)),
        min_size=1,
        max_size=5,
    ),
    stock=st.dictionaries(st.tuples(skus, locations), st.integers(-3, 30)),
    order=st.permutations([A, B, C]),
)
def test_a_plan_never_takes_more_than_the_stock_and_accounts_for_every_unit(
    demands: list[tuple[dict[str, int], int]],
    stock: dict[tuple[str, UUID], int],
    order: list[UUID],
) -> None:
    wanted = [Demand(i + 1, q, per) for i, (per, q) in enumerate(demands)]
    plan = plan_allocation(wanted, stock, order)

    taken: dict[tuple[str, UUID], int] = defaultdict(int)
    assigned: dict[int, int] = defaultdict(int)
    for pick in plan.picks:
        assert pick.units > 0
        assigned[pick.line_no] += pick.units
        for sku, per in wanted[pick.line_no - 1].per_unit.items():
            taken[(sku, pick.location_id)] += per * pick.units
    for key, units in taken.items():
        assert units <= max(0, stock.get(key, 0))
    for demand in wanted:
        assert assigned[demand.line_no] + plan.unfilled.get(demand.line_no, 0) == demand.quantity


def test_the_stock_rows_of_a_plan_sum_every_line_that_draws_on_a_row() -> None:
    per_unit = {1: {"TEE": 1}, 2: {"TEE": 1, "CAP": 1}, 3: {"TEE": 2}, 4: {"CAP": 1}}
    picks = [Pick(1, A, 1), Pick(2, A, 1), Pick(3, A, 2), Pick(2, B, 3), Pick(4, B, 3)]

    assert stock_rows(picks, per_unit) == {
        ("TEE", A): 6,
        ("CAP", A): 1,
        ("TEE", B): 3,
        ("CAP", B): 6,
    }


@given(
    picks=st.lists(
        st.builds(Pick, st.integers(1, 3), st.sampled_from([A, B]), st.integers(0, 4)), max_size=6
    )
)
def test_the_stock_rows_of_a_plan_are_its_picks_needs_added_up(picks: list[Pick]) -> None:
    per_unit = {1: {"X": 1}, 2: {"X": 2, "Y": 1}, 3: {"Y": 3}}
    expected: dict[tuple[str, UUID], int] = defaultdict(int)
    for pick in picks:
        for sku, per in per_unit[pick.line_no].items():
            expected[(sku, pick.location_id)] += per * pick.units

    assert stock_rows(picks, per_unit) == {row: n for row, n in expected.items() if n}
