"""The hindsight optimum of a whole sequence of single-line orders, as one MILP (HiGHS).

Used by ``bench/routing_lookahead.py``: knowing every order of the sequence in advance,
which location ships how many units of each, so that the whole sequence costs least under
the stock there is. ``tests/unit/test_routing_hindsight.py`` checks it against a brute
force on tiny instances.

Variables: ``y[o, c, u]`` (binary) = location ``c`` ships ``u`` units of order ``o``'s line;
``left[o]`` (integer) = units of ``o`` left unfilled. Rows: per order, units shipped +
left = its quantity; at most one load per (order, location); at most ``max_locations``
packages per order; per (location, SKU), units shipped over the sequence <= the stock.
Objective: ``cost[o, c, u]`` per package chosen (+ ``unfilled_cost`` per unit left).
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import highspy
import numpy as np


@dataclass(frozen=True)
class SequenceProblem:
    """``orders``: (SKU, units) per order; ``stock``: (location, SKU) -> units at the start;
    ``cost``: (order index, location, units) -> the cost of that package (absent: it cannot
    ship it)."""

    orders: Sequence[tuple[str, int]]
    stock: Mapping[tuple[str, str], int]
    cost: Mapping[tuple[int, str, int], float]
    max_locations: int = 3
    unfilled_cost: float = 1e4


@dataclass(frozen=True)
class SequencePlan:
    """Per order, ``{location: units}``; its total cost (unfilled units at their cost)."""

    shares: tuple[dict[str, int], ...]
    total: float
    optimal: bool


def _quiet_highs() -> highspy.Highs:
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            return highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def solve(problem: SequenceProblem, *, time_limit: float = 300.0) -> SequencePlan:
    """The least-cost plan of the whole sequence (HiGHS, gap 1e-6 relative)."""
    n = len(problem.orders)
    columns = sorted(problem.cost)
    pair_rows: dict[tuple[int, str], int] = {}
    # Rows: 0..n-1 units per order; n..2n-1 packages per order; then one per (order,
    # location) pair; then the stock rows (their indices are fixed up below).
    entries: list[list[tuple[int, float]]] = []
    cost: list[float] = []
    next_pair = 2 * n
    for o, c, _ in columns:
        if (o, c) not in pair_rows:
            pair_rows[o, c] = next_pair
            next_pair += 1
    first_stock = next_pair
    stock_index = {key: first_stock + j for j, key in enumerate(sorted(problem.stock))}
    for o, c, u in columns:
        sku = problem.orders[o][0]
        column = [(o, float(u)), (n + o, 1.0), (pair_rows[o, c], 1.0)]
        if (c, sku) not in stock_index:
            continue
        column.append((stock_index[c, sku], float(u)))
        entries.append(column)
        cost.append(problem.cost[o, c, u])
    binaries = len(cost)
    for o in range(n):
        entries.append([(o, 1.0)])
        cost.append(problem.unfilled_cost)
    rows = first_stock + len(stock_index)
    quantities = [float(q) for _, q in problem.orders]
    lower = quantities + [0.0] * n + [0.0] * (first_stock - 2 * n) + [0.0] * len(stock_index)
    upper = quantities + [float(problem.max_locations)] * n + [1.0] * (first_stock - 2 * n)
    upper += [float(problem.stock[key]) for key in sorted(problem.stock)]
    col_upper = [1.0] * binaries + quantities
    highs = _quiet_highs()
    for name, value in [
        ("output_flag", False),
        ("mip_rel_gap", 1e-6),
        ("threads", 1),
        ("time_limit", time_limit),
    ]:
        highs.setOptionValue(name, value)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(cost), rows
    lp.col_cost_ = np.array(cost)
    lp.col_lower_, lp.col_upper_ = np.zeros(len(cost)), np.array(col_upper)
    lp.row_lower_, lp.row_upper_ = np.array(lower), np.array(upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.cumsum([0] + [len(c) for c in entries]).astype(np.int32)
    lp.a_matrix_.index_ = np.array([r for c in entries for r, _ in c], dtype=np.int32)
    lp.a_matrix_.value_ = np.array([v for c in entries for _, v in c], dtype=float)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * len(cost)
    highs.passModel(lp)
    highs.run()
    optimal = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    values = list(highs.getSolution().col_value)
    shares: list[dict[str, int]] = [{} for _ in range(n)]
    kept = [key for key in columns if (key[1], problem.orders[key[0]][0]) in stock_index]
    total = 0.0
    for j, (o, c, u) in enumerate(kept):
        if values[j] > 0.5:
            shares[o][c] = u
            total += problem.cost[o, c, u]
    for o in range(n):
        total += problem.unfilled_cost * (problem.orders[o][1] - sum(shares[o].values()))
    return SequencePlan(tuple(shares), total, optimal)


def brute_force(problem: SequenceProblem) -> float:
    """The least total cost by trying every plan (tiny instances only)."""
    locations = sorted({c for c, _ in problem.stock})
    per_order = []
    for o, (_, quantity) in enumerate(problem.orders):
        options = []
        for split in itertools.product(range(quantity + 1), repeat=len(locations)):
            if sum(split) > quantity or sum(1 for u in split if u) > problem.max_locations:
                continue
            share = {c: u for c, u in zip(locations, split, strict=True) if u}
            if all((o, c, u) in problem.cost for c, u in share.items()):
                options.append(share)
        per_order.append(options)
    best = float("inf")
    for plan in itertools.product(*per_order):
        used: dict[tuple[str, str], int] = {}
        total = 0.0
        for o, share in enumerate(plan):
            sku, quantity = problem.orders[o]
            for c, u in share.items():
                used[c, sku] = used.get((c, sku), 0) + u
                total += problem.cost[o, c, u]
            total += problem.unfilled_cost * (quantity - sum(share.values()))
        if all(units <= problem.stock.get(key, 0) for key, units in used.items()):
            best = min(best, total)
    return best
