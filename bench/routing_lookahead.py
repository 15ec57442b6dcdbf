"""Look-ahead routing under depletion: myopic, look-ahead and the hindsight optimum.

Run it from the project root::

    .venv/bin/python bench/routing_lookahead.py [--locations 20] [--skus 10] [--days 14]
        [--orders-per-day 60] [--seed 7] [--tune-seed 8] [--weights 0.5,0.75,1]
        [--horizons 7,14] [--no-plots]

On ``bench/routing.py``'s network (its locations, handling costs and carrier rate cards;
``--locations`` of them, none at capacity), ``--skus`` SKUs are sold over ``--days`` days
with no replenishment, so stock is used up as the sequence goes:

* each SKU sells everywhere, but 60% of its orders come from around one metropolitan area
  of its own (demand skewed by region); orders are one line of 1 (70%), 2 (20%) or 3 units,
  standard service (5 business days), ``--orders-per-day`` a day (Poisson);
* each SKU is held at 3-6 of the locations (distribution centres twice as likely), shares
  drawn at random, with 1.1 times the sequence's expected demand in all: enough in total,
  but not where the demand is.

Three ways to route the same sequence, each order in turn, stock drawn down as it ships:

(a) myopic: ``oms.domain.routing.route`` as today (split penalty 1.00, at most 3
    locations), each order at least cost for itself;
(b) look-ahead: the same with the depletion term (``oms.domain.routing_lookahead``) fed
    as the routing service feeds it: per (SKU, location) the demand the location is
    forecast to serve over ``horizon_days`` and the extra cost of serving it from the
    next-best location. The "forecast" is what a separate 28-day history of the same
    generator (another seed) shipped from each location when routed myopically with
    ample stock, per day, times the horizon: never the sequence being routed;
(c) hindsight: one MILP over the whole sequence (``bench/hindsight.py``, HiGHS) that knows
    every order in advance.

The weight and horizon of (b) are chosen on a tuning sequence (``--tune-seed``: its own
stock, history and orders), then run on the evaluation sequence (``--seed``); the table
shows every setting on both. The figure of merit is the share of the myopic-to-hindsight
gap that the look-ahead captures. Costs are shipping + handling + split penalty (+ 1000 per
late package): the look-ahead's own term is a device for deciding, not a cost paid, and is
left out. Nothing here depends on the machine's load.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hindsight import SequenceProblem, solve
from oms.domain.geo import GeoPoint
from oms.domain.routing import Candidate, RoutingLine, route
from oms.domain.routing_lookahead import Lookahead, outlook_of
from oms.domain.shipping import add_business_days, ship_date
from routing import (
    CENTRES,
    CUTOFF,
    FAMILIES,
    MONDAY,
    POLICY,
    Order,
    RateTable,
    _point,
    build_network,
    carrier_services,
)

IMG = Path(__file__).resolve().parents[1] / "docs" / "img"
HISTORY_DAYS = 28
PLACED: dict[int, float] = {}  # id(order) -> days since the sequence began
HOME_SHARE = 0.6
STOCK_FACTOR = 1.1
QUANTITIES = ((1, 0.7), (2, 0.2), (3, 0.1))


@dataclass(frozen=True)
class Sku:
    name: str
    grams: int
    home: int  # index into CENTRES
    popularity: float


@dataclass
class World:
    """One scenario: locations, SKUs, the stock at the start, a history and a sequence."""

    candidates: dict[str, Candidate]
    points: dict[UUID, GeoPoint]
    skus: list[Sku]
    stock: dict[tuple[str, str], int]
    history: list[tuple[Order, str]]
    sequence: list[tuple[Order, str]]
    days: int
    rates: RateTable = field(default_factory=lambda: RateTable(carrier_services()))


def _orders(
    rng: random.Random, skus: list[Sku], days: int, per_day: float
) -> list[tuple[Order, str]]:
    found = []
    weights = [s.popularity for s in skus]
    for day in range(days):
        count = _poisson(rng, per_day)
        for _ in range(count):
            sku = rng.choices(skus, weights)[0]
            if rng.random() < HOME_SHARE:
                lat, lon, _ = CENTRES[sku.home]
                where = GeoPoint(rng.gauss(lat, 0.8), rng.gauss(lon, 1.0))
            else:
                where = _point(rng, 1.0, 0.15)
            minutes = rng.randrange(8 * 60, 20 * 60)
            placed = MONDAY + timedelta(days=day, minutes=minutes)
            ship_on = ship_date(placed, CUTOFF)
            units = rng.choices([q for q, _ in QUANTITIES], [w for _, w in QUANTITIES])[0]
            line = RoutingLine(1, units, sku.grams, {sku.name: 1})
            order = Order(len(found), where, (line,), ship_on, add_business_days(ship_on, 5))
            found.append((order, sku.name))
            PLACED[id(order)] = day + minutes / 1440
    return found


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def build_world(seed: str, args: argparse.Namespace) -> World:
    rng = random.Random(seed)
    net = build_network(rng, args.locations, 0, FAMILIES["easy"])
    candidates = {
        c.code: Candidate(c.location_id, c.code, {}, 1000, c.handling_cost) for c in net.candidates
    }
    skus = [
        Sku(
            f"T{s:02d}",
            int(min(5000, max(100, rng.lognormvariate(math.log(600), 0.6)))),
            rng.randrange(len(CENTRES)),
            rng.uniform(0.5, 1.5),
        )
        for s in range(args.skus)
    ]
    total_popularity = sum(s.popularity for s in skus)
    mean_units = sum(q * w for q, w in QUANTITIES)
    codes = sorted(candidates)
    stock: dict[tuple[str, str], int] = {}
    for sku in skus:
        expected = args.days * args.orders_per_day * mean_units * sku.popularity / total_popularity
        holders = set()
        while len(holders) < rng.randint(3, 6):
            holders.add(rng.choices(codes, [2 if c.startswith("DC") else 1 for c in codes])[0])
        shares = {c: rng.random() for c in sorted(holders)}
        total = sum(shares.values())
        for code, share in shares.items():
            stock[code, sku.name] = max(1, round(STOCK_FACTOR * expected * share / total))
    history = _orders(rng, skus, HISTORY_DAYS, args.orders_per_day)
    sequence = _orders(rng, skus, args.days, args.orders_per_day)
    return World(candidates, net.points, skus, stock, history, sequence, args.days)


@dataclass
class Outcome:
    cost: Decimal = Decimal(0)  # shipping + handling + split penalty + late penalty
    per_order: list[Decimal] = field(default_factory=list)
    unfilled: int = 0
    late: int = 0
    seconds: float = 0.0


class Forecast:
    """Units a day each location served per SKU in the history, routed myopically with
    ample stock at the SKU's usual locations: what oms forecasts per location."""

    def __init__(self, world: World) -> None:
        served: dict[tuple[str, str], int] = {}
        for order, sku in world.history:
            cands = [
                Candidate(c.location_id, code, {sku: 10**6}, 1000, c.handling_cost)
                for code, c in world.candidates.items()
                if (code, sku) in world.stock
            ]
            ship = world.rates.shipper(order, world.points)
            result = route(order.lines, cands, ship=ship, policy=POLICY)
            for p in result.packages:
                units = sum(u for _, u in p.lines)
                served[p.code, sku] = served.get((p.code, sku), 0) + units
        self.daily = {key: units / HISTORY_DAYS for key, units in served.items()}


def run(world: World, lookahead: tuple[Decimal, int] | None, forecast: Forecast) -> Outcome:
    """Route the sequence order by order, drawing stock down; with ``lookahead`` = (weight,
    horizon days) charge the depletion term."""
    stock = dict(world.stock)
    out = Outcome()
    unit_costs: dict[tuple[str, str, int], Decimal | None] = {}
    started = time.process_time()
    for order, sku in world.sequence:
        cands = [
            Candidate(c.location_id, code, {sku: stock[code, sku]}, 1000, c.handling_cost)
            for code, c in world.candidates.items()
            if stock.get((code, sku), 0) > 0
        ]
        ahead = None
        if lookahead is not None:
            weight, horizon = lookahead
            grams = order.lines[0].weight_grams

            def unit_cost(
                origin: str, near: str, grams: int = grams, order: Order = order
            ) -> Decimal | None:
                key = (origin, near, grams)
                if key not in unit_costs:
                    place = world.points[world.candidates[near].location_id]
                    probe = Order(-1, place, (), order.ship_on, order.ship_on + timedelta(days=30))
                    option = world.rates.shipper(probe, world.points)(
                        world.candidates[origin].location_id, grams
                    )
                    unit_costs[key] = (
                        None
                        if option is None
                        else option.price + world.candidates[origin].handling_cost
                    )
                return unit_costs[key]

            # Stock is replenished when the sequence ends (the planned arrival is known; the
            # demand to come is not): the horizon reaches no further.
            days = min(float(horizon), world.days - PLACED[id(order)])
            demand = {
                code: forecast.daily.get((code, sku), 0.0) * days for code in world.candidates
            }
            held = {c.code: c.available[sku] for c in cands}
            ahead = Lookahead({sku: outlook_of(held, demand, unit_cost)}, weight)
        ship = world.rates.shipper(order, world.points)
        result = route(order.lines, cands, ship=ship, policy=POLICY, lookahead=ahead)
        paid = result.cost.total - result.cost.depletion
        out.cost += paid
        out.per_order.append(paid)
        out.unfilled += sum(result.unfilled.values())
        out.late += sum(p.option.late for p in result.packages)
        for p in result.packages:
            stock[p.code, sku] -= sum(u for _, u in p.lines)
            assert stock[p.code, sku] >= 0
    out.seconds = time.process_time() - started
    return out


def hindsight(world: World) -> tuple[Outcome, bool]:
    cost: dict[tuple[int, str, int], float] = {}
    prices: dict[tuple[int, str, int], Decimal] = {}
    split = POLICY.split_penalty
    for o, (order, sku) in enumerate(world.sequence):
        ship = world.rates.shipper(order, world.points)
        line = order.lines[0]
        for code, c in world.candidates.items():
            if (code, sku) not in world.stock:
                continue
            for units in range(1, line.quantity + 1):
                option = ship(c.location_id, units * line.weight_grams)
                if option is None:
                    continue
                price = option.price + c.handling_cost + split
                price += POLICY.late_penalty if option.late else 0
                prices[o, code, units] = price
                cost[o, code, units] = float(price)
    problem = SequenceProblem(
        [(sku, order.lines[0].quantity) for order, sku in world.sequence],
        world.stock,
        cost,
        max_locations=POLICY.max_locations,
        unfilled_cost=1e5,
    )
    started = time.process_time()
    plan = solve(problem)
    out = Outcome(seconds=time.process_time() - started)
    for o, share in enumerate(plan.shares):
        paid = sum((prices[o, code, units] for code, units in share.items()), Decimal(0))
        paid -= split if share else 0
        out.cost += paid
        out.per_order.append(paid)
        out.unfilled += world.sequence[o][0].lines[0].quantity - sum(share.values())
    return out, plan.optimal


def _captured(myopic: Outcome, ahead: Outcome, best: Outcome) -> float:
    gap = myopic.cost - best.cost
    return float((myopic.cost - ahead.cost) / gap) if gap else 0.0


def evaluate(world: World, grid: Sequence[tuple[Decimal, int]]) -> dict[str, object]:
    forecast = Forecast(world)
    myopic = run(world, None, forecast)
    best, optimal = hindsight(world)
    ahead = {setting: run(world, setting, forecast) for setting in grid}
    return {"myopic": myopic, "hindsight": best, "optimal": optimal, "ahead": ahead}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locations", type=int, default=20)
    parser.add_argument("--skus", type=int, default=10)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--orders-per-day", type=float, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tune-seed", type=int, default=8)
    parser.add_argument("--weights", default="0.5,0.75,1")
    parser.add_argument("--horizons", default="7,14")
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args(argv)
    grid = [(Decimal(w), int(h)) for h in args.horizons.split(",") for w in args.weights.split(",")]
    print(
        f"Look-ahead routing under depletion (bench/routing_lookahead.py): {args.locations} "
        f"locations, {args.skus} SKUs, {args.days} days x {args.orders_per_day:g} orders a day, "
        f"stock {STOCK_FACTOR:g}x expected demand, {HOME_SHARE:.0%} of a SKU's orders from its "
        f"home region; policy: split penalty {POLICY.split_penalty}, at most "
        f"{POLICY.max_locations} locations"
    )
    results = {}
    for name, seed in (("tuning", args.tune_seed), ("evaluation", args.seed)):
        world = build_world(f"{seed}/lookahead", args)
        units = sum(o.lines[0].quantity for o, _ in world.sequence)
        found = evaluate(world, grid)
        results[name] = found
        myopic, best = found["myopic"], found["hindsight"]
        assert isinstance(myopic, Outcome)
        assert isinstance(best, Outcome)
        print(
            f"\n== {name} sequence (seed {seed}): {len(world.sequence):,} orders, {units:,} "
            f"units, {sum(world.stock.values()):,} units of stock at the start =="
        )
        print(f"{'method':<34}{'total cost':>12}{'vs hindsight':>14}{'gap captured':>14}"
              f"{'backorders':>12}{'late':>6}{'cpu s':>8}")  # fmt: skip

        def row(label: str, o: Outcome, captured: str, best: Outcome = best) -> None:
            extra = (o.cost - best.cost) / best.cost * 100 if best.cost else Decimal(0)
            print(
                f"{label:<34}{o.cost:>12,.2f}{extra:>+13.2f}%{captured:>14}"
                f"{o.unfilled:>12}{o.late:>6}{o.seconds:>8.1f}"
            )

        row("(a) myopic", myopic, "0%")
        ahead = found["ahead"]
        assert isinstance(ahead, dict)
        for (weight, horizon), o in ahead.items():
            row(f"(b) look-ahead w={weight} h={horizon}d", o, f"{_captured(myopic, o, best):.0%}")
        row("(c) hindsight MILP" + ("" if found["optimal"] else " (not proven)"), best, "100%")
    tuning = results["tuning"]
    tuned_ahead = tuning["ahead"]
    assert isinstance(tuned_ahead, dict)
    chosen = max(
        grid,
        key=lambda s: _captured(tuning["myopic"], tuned_ahead[s], tuning["hindsight"]),  # type: ignore[arg-type]
    )
    final = results["evaluation"]
    final_ahead = final["ahead"]
    assert isinstance(final_ahead, dict)
    share = _captured(final["myopic"], final_ahead[chosen], final["hindsight"])  # type: ignore[arg-type]
    print(
        f"\nchosen on the tuning sequence: weight {chosen[0]}, horizon {chosen[1]} days; on the "
        f"evaluation sequence it captures {share:.0%} of the myopic-to-hindsight gap "
        "(aim >= 50%)"
    )
    if not args.no_plots:
        _plot(final, chosen)


def _plot(found: dict[str, object], chosen: tuple[Decimal, int]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    IMG.mkdir(parents=True, exist_ok=True)
    best = found["hindsight"]
    myopic = found["myopic"]
    ahead = found["ahead"]
    assert isinstance(best, Outcome)
    assert isinstance(myopic, Outcome)
    assert isinstance(ahead, dict)
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for label, o, colour in (
        ("(a) myopic", myopic, "tab:orange"),
        (f"(b) look-ahead (w={chosen[0]}, h={chosen[1]}d)", ahead[chosen], "tab:blue"),
    ):
        running, total = [], Decimal(0)
        for mine, theirs in zip(o.per_order, best.per_order, strict=True):
            total += mine - theirs
            running.append(float(total))
        ax.plot(running, color=colour, lw=1.1, label=label)
    ax.axhline(0, color="tab:green", lw=1, label="(c) hindsight MILP")
    ax.set_xlabel("orders routed (in sequence)")
    ax.set_ylabel("cumulative cost above hindsight ($)")
    ax.set_title("Routing while stock runs down: what each order's choice costs later")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(IMG / "routing_lookahead.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
