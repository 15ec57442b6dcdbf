"""The look-ahead benchmark's hindsight MILP (bench/hindsight.py) against a brute force."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from hindsight import SequenceProblem, brute_force, solve


@st.composite
def sequences(draw: st.DrawFn) -> SequenceProblem:
    locations = ["A", "B", "C"][: draw(st.integers(1, 3))]
    skus = ["X", "Y"][: draw(st.integers(1, 2))]
    orders = [
        (draw(st.sampled_from(skus)), draw(st.integers(1, 2)))
        for _ in range(draw(st.integers(1, 4)))
    ]
    stock = {(c, s): draw(st.integers(0, 3)) for c in locations for s in skus}
    cost = {}
    for o in range(len(orders)):
        for c in locations:
            base = draw(st.integers(300, 1500)) / 100
            for u in range(1, orders[o][1] + 1):
                if draw(st.integers(0, 9)):  # now and then a package that cannot ship
                    cost[o, c, u] = base + 0.5 * u
    return SequenceProblem(
        orders, stock, cost, max_locations=draw(st.integers(1, 2)), unfilled_cost=50.0
    )


@settings(max_examples=40, deadline=None)
@given(sequences())
def test_the_hindsight_milp_matches_a_brute_force(problem: SequenceProblem) -> None:
    plan = solve(problem, time_limit=30)
    assert plan.optimal
    assert plan.total == pytest.approx(brute_force(problem), abs=1e-6)
    used: dict[tuple[str, str], int] = {}
    for (sku, quantity), share in zip(problem.orders, plan.shares, strict=True):
        assert sum(share.values()) <= quantity
        assert len(share) <= problem.max_locations
        for c, units in share.items():
            used[c, sku] = used.get((c, sku), 0) + units
    assert all(units <= problem.stock[key] for key, units in used.items())
