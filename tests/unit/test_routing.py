"""Routing: who ships which lines of an order, at least cost, within stock, capacity and rules.

Networks are built by hand with known optimal answers; hypothesis checks the invariants on
random networks, the exact method against a brute force over every assignment of each
line's units to locations (or to the backorder), and every method against the best plan
of whole lines.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID, uuid5

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.domain.allocation import Demand, plan_allocation
from oms.domain.routing import (
    Candidate,
    RoutingLine,
    RoutingPolicy,
    RoutingResult,
    ShipOption,
    Shipper,
    route,
)

PROMISED = date(2025, 3, 14)
NAMESPACE = UUID(int=42)


def uid(code: str) -> UUID:
    return uuid5(NAMESPACE, code)


def at(
    code: str, stock: Mapping[str, int], *, handling: str = "1.00", capacity: int = 10
) -> Candidate:
    return Candidate(uid(code), code, dict(stock), capacity, Decimal(handling))


def line(
    line_no: int, quantity: int, sku: str | Mapping[str, int], grams: int = 1000
) -> RoutingLine:
    per_unit = {sku: 1} if isinstance(sku, str) else dict(sku)
    return RoutingLine(line_no, quantity, grams, per_unit)


@dataclass(frozen=True)
class Rate:
    """A location's carrier price: ``base`` plus ``per_kg`` per started kg; arrives ``days``
    after the promised date (late when positive)."""

    base: str
    per_kg: str = "0"
    days: int = 0
    max_grams: int | None = None  # the service takes no heavier parcel

    def option(self, grams: int) -> ShipOption | None:
        if self.max_grams is not None and grams > self.max_grams:
            return None
        price = Decimal(self.base) + Decimal(self.per_kg) * math.ceil(grams / 1000)
        arrives = PROMISED + timedelta(days=self.days)
        return ShipOption("acme", "ground", price, arrives, self.days > 0)


def shipper(rates: Mapping[str, Rate]) -> Shipper:
    by_id = {uid(code): rate for code, rate in rates.items()}

    def ship(location_id: UUID, grams: int) -> ShipOption | None:
        rate = by_id.get(location_id)
        return None if rate is None else rate.option(grams)

    return ship


def shipped_from(result: RoutingResult) -> dict[str, tuple[tuple[int, int], ...]]:
    return {p.code: p.lines for p in result.packages}


DEFAULT = RoutingPolicy()


# --- hand-built networks with known answers ----------------------------------------------


@pytest.mark.parametrize(
    ("near_handling", "near_rate"),
    [
        pytest.param("6.00", "5.00", id="handling differs"),
        pytest.param("1.00", "9.00", id="rate differs"),
    ],
)
def test_the_nearest_location_loses_to_a_cheaper_one(near_handling: str, near_rate: str) -> None:
    # NEAR would arrive two days before the promise, FAR just on time: both are on time.
    rates = {"NEAR": Rate(near_rate, days=-2), "FAR": Rate("7.00")}
    candidates = [at("NEAR", {"X": 5}, handling=near_handling), at("FAR", {"X": 5})]
    result = route([line(1, 1, "X")], candidates, ship=shipper(rates), policy=DEFAULT)
    assert shipped_from(result) == {"FAR": ((1, 1),)}
    assert result.cost.total == Decimal("8.00")  # 7 + 1 against 5 + 6 or 9 + 1
    assert result.method == "exact"


def test_the_highest_priority_location_is_not_the_answer_when_another_is_cheaper() -> None:
    main, alt = at("MAIN", {"X": 5}), at("ALT", {"X": 5})
    priority = plan_allocation(
        [Demand(1, 2, {"X": 1})], {("X", uid("MAIN")): 5, ("X", uid("ALT")): 5}, [uid("MAIN")]
    )
    assert {p.location_id for p in priority.picks} == {uid("MAIN")}
    result = route(
        [line(1, 2, "X")],
        [main, alt],
        ship=shipper({"MAIN": Rate("12.00"), "ALT": Rate("6.50")}),
        policy=DEFAULT,
    )
    assert shipped_from(result) == {"ALT": ((1, 2),)}
    assert result.explanation.why == (
        "cheapest over 2 candidate locations and 1 feasible grouping of the units; "
        "ALT saves 5.50 over MAIN"
    )


SPLIT_NETWORK = [at("EAST", {"X": 3}), at("WEST", {"Y": 3}), at("FAR", {"X": 3, "Y": 3})]
SPLIT_RATES = {"EAST": Rate("4.00"), "WEST": Rate("4.00"), "FAR": Rate("5.00", per_kg="3.00")}
SPLIT_ORDER = [line(1, 1, "X"), line(2, 1, "Y")]


def test_splitting_across_two_near_locations_is_cheaper_than_one_far_location() -> None:
    result = route(SPLIT_ORDER, SPLIT_NETWORK, ship=shipper(SPLIT_RATES), policy=DEFAULT)
    assert shipped_from(result) == {"EAST": ((1, 1),), "WEST": ((2, 1),)}
    assert result.cost.total == Decimal("10.00")  # 4 + 1 + 4 + 1 against 5 + 2 * 3 + 1
    assert result.explanation.why.endswith("splitting across EAST+WEST saves 2.00 over FAR")


def test_a_split_penalty_makes_the_one_far_location_win() -> None:
    policy = RoutingPolicy(split_penalty=Decimal("3.00"))
    result = route(SPLIT_ORDER, SPLIT_NETWORK, ship=shipper(SPLIT_RATES), policy=policy)
    assert shipped_from(result) == {"FAR": ((1, 1), (2, 1))}
    assert result.cost.split_penalty == 0
    assert result.explanation.why.endswith("1 location instead of 2 saves 1.00 over EAST+WEST")
    runner_up = result.explanation.considered[1]
    assert runner_up.locations == ("EAST", "WEST")
    assert runner_up.cost.split_penalty == Decimal("3.00")


def test_a_location_at_capacity_is_passed_over_for_the_next_cheapest() -> None:
    candidates = [at("CHEAP", {"X": 5}, capacity=0), at("NEXT", {"X": 5}), at("DEAR", {"X": 5})]
    rates = {"CHEAP": Rate("3.00"), "NEXT": Rate("5.00"), "DEAR": Rate("9.00")}
    result = route([line(1, 1, "X")], candidates, ship=shipper(rates), policy=DEFAULT)
    assert shipped_from(result) == {"NEXT": ((1, 1),)}
    assert ("CHEAP", "at capacity today") in result.explanation.rejected


def test_without_splitting_one_location_ships_what_it_can_and_the_rest_is_backordered() -> None:
    candidates = [at("A", {"X": 2}), at("B", {"Y": 1})]
    order = [line(1, 2, "X"), line(2, 1, "Y")]
    rates = {"A": Rate("5.00"), "B": Rate("5.00")}
    whole = route(order, candidates, ship=shipper(rates), policy=DEFAULT)
    assert set(shipped_from(whole)) == {"A", "B"}
    single = route(order, candidates, ship=shipper(rates), policy=RoutingPolicy(allow_split=False))
    assert shipped_from(single) == {"A": ((1, 2),)}
    assert single.unfilled == {2: 1}


def test_without_splitting_the_location_with_everything_wins_over_a_cheaper_split() -> None:
    policy = RoutingPolicy(allow_split=False)
    result = route(SPLIT_ORDER, SPLIT_NETWORK, ship=shipper(SPLIT_RATES), policy=policy)
    assert shipped_from(result) == {"FAR": ((1, 1), (2, 1))}
    assert result.unfilled == {}


@pytest.mark.parametrize(
    ("max_locations", "expected"),
    [(3, {"A": ((1, 1),), "B": ((2, 1),), "C": ((3, 1),)}), (2, {"ALL": ((1, 1), (2, 1), (3, 1))})],
)
def test_max_locations_caps_the_number_of_packages(
    max_locations: int, expected: dict[str, tuple[tuple[int, int], ...]]
) -> None:
    candidates = [
        at("A", {"X": 1}),
        at("B", {"Y": 1}),
        at("C", {"Z": 1}),
        at("ALL", {"X": 1, "Y": 1, "Z": 1}),
    ]
    rates = {"A": Rate("3.00"), "B": Rate("3.00"), "C": Rate("3.00"), "ALL": Rate("12.00")}
    order = [line(1, 1, "X"), line(2, 1, "Y"), line(3, 1, "Z")]
    policy = RoutingPolicy(max_locations=max_locations)
    result = route(order, candidates, ship=shipper(rates), policy=policy)
    assert shipped_from(result) == expected  # 3 x (3 + 1) = 12 against 12 + 1 = 13


def test_when_every_location_is_late_the_one_arriving_soonest_ships() -> None:
    candidates = [at("SLOW", {"X": 5}), at("QUICK", {"X": 5})]
    rates = {"SLOW": Rate("4.00", days=4), "QUICK": Rate("8.00", days=1)}
    result = route([line(1, 1, "X")], candidates, ship=shipper(rates), policy=DEFAULT)
    assert shipped_from(result) == {"QUICK": ((1, 1),)}
    assert result.packages[0].option.late
    assert result.cost.late_penalty == Decimal(1000)
    assert result.cost.total == Decimal("1009.00")
    assert result.explanation.why == (
        "no on-time plan over 2 candidate locations; QUICK arrives soonest (2025-03-15); "
        "SLOW would arrive later (2025-03-18)"
    )
    assert not any(plan.feasible for plan in result.explanation.considered)


def test_an_on_time_plan_beats_a_cheaper_late_one_whatever_the_late_penalty() -> None:
    candidates = [at("LATE", {"X": 5}), at("ONTIME", {"X": 5})]
    rates = {"LATE": Rate("3.00", days=1), "ONTIME": Rate("9.00")}
    policy = RoutingPolicy(late_penalty=Decimal(0))
    result = route([line(1, 1, "X")], candidates, ship=shipper(rates), policy=policy)
    assert shipped_from(result) == {"ONTIME": ((1, 1),)}
    assert result.cost.late_penalty == 0


def test_a_line_is_split_over_two_near_locations_when_whole_it_could_only_arrive_late() -> None:
    candidates = [at("FAR", {"X": 4}), at("NEAR1", {"X": 1}), at("NEAR2", {"X": 3})]
    rates = {"FAR": Rate("5.00", days=2), "NEAR1": Rate("6.00"), "NEAR2": Rate("6.00")}
    result = route([line(1, 4, "X")], candidates, ship=shipper(rates), policy=DEFAULT)
    assert shipped_from(result) == {"NEAR1": ((1, 1),), "NEAR2": ((1, 3),)}
    assert not any(p.option.late for p in result.packages)
    assert result.method == "exact"
    assert result.explanation.why.endswith("FAR would arrive later (2025-03-16)")


def test_beyond_the_exact_limit_a_late_plan_is_split_to_arrive_on_time() -> None:
    candidates = [at("FAR", {"X": 4}), at("NEAR1", {"X": 1}), at("NEAR2", {"X": 3})]
    rates = {"FAR": Rate("5.00", days=2), "NEAR1": Rate("6.00"), "NEAR2": Rate("6.00")}
    result = route(
        [line(1, 4, "X")], candidates, ship=shipper(rates), policy=DEFAULT, exact_shape_limit=1
    )
    assert shipped_from(result) == {"NEAR1": ((1, 1),), "NEAR2": ((1, 3),)}
    assert result.method == "heuristic"
    assert result.explanation.why.startswith(
        "the ways to divide 4 units into at most 3 packages exceed the exact limit of 1"
    )


def test_a_line_no_location_holds_whole_is_split_and_the_rest_backordered() -> None:
    candidates = [at("A", {"X": 4, "Y": 1}), at("B", {"X": 3}), at("C", {"Y": 2})]
    rates = {"A": Rate("5.00"), "B": Rate("5.00"), "C": Rate("2.00")}
    order = [line(1, 10, "X"), line(2, 1, "Y")]
    result = route(order, candidates, ship=shipper(rates), policy=DEFAULT)
    assert result.method == "exact"
    # Y rides along with A's share of X instead of opening a third package at C.
    assert shipped_from(result) == {"A": ((1, 4), (2, 1)), "B": ((1, 3),)}
    assert result.unfilled == {1: 3}
    assert result.explanation.why.endswith("A+B ships 8 of 11 units and 3 are backordered")


EXACT_AND_HEURISTIC = [pytest.param(6, id="exact"), pytest.param(0, id="heuristic")]


@pytest.mark.parametrize("exact_line_limit", EXACT_AND_HEURISTIC)
def test_an_order_too_heavy_for_one_parcel_ships_in_parcels_the_carrier_takes(
    exact_line_limit: int,
) -> None:
    # 3 x 12 kg: no service takes 36 kg, but 24 kg from A and 12 kg from B both price.
    rates = {
        "A": Rate("10.00", per_kg="0.50", max_grams=30_000),
        "B": Rate("12.00", per_kg="1.00", max_grams=30_000),
    }
    candidates = [at("A", {"X": 3}), at("B", {"X": 3})]
    result = route(
        [line(1, 3, "X", grams=12_000)],
        candidates,
        ship=shipper(rates),
        policy=DEFAULT,
        exact_line_limit=exact_line_limit,
    )
    assert result.unfilled == {}
    assert shipped_from(result) == {"A": ((1, 2),), "B": ((1, 1),)}
    assert result.cost.total == Decimal("48.00")  # (10 + 12 + 1) + (12 + 12 + 1), not 54.00
    assert all(p.weight_grams <= 30_000 for p in result.packages)


@pytest.mark.parametrize("exact_line_limit", EXACT_AND_HEURISTIC)
def test_a_multi_unit_line_is_split_over_two_near_locations_when_one_far_one_costs_more(
    exact_line_limit: int,
) -> None:
    candidates = [at("FAR", {"X": 4}), at("NEAR1", {"X": 2}), at("NEAR2", {"X": 2})]
    rates = {"FAR": Rate("31.69"), "NEAR1": Rate("9.45"), "NEAR2": Rate("9.45")}
    result = route(
        [line(1, 4, "X")],
        candidates,
        ship=shipper(rates),
        policy=DEFAULT,
        exact_line_limit=exact_line_limit,
    )
    assert shipped_from(result) == {"NEAR1": ((1, 2),), "NEAR2": ((1, 2),)}
    assert result.cost.total == Decimal("20.90")  # 2 x (9.45 + 1.00), against 32.69 from FAR
    assert result.explanation.why.endswith("splitting across NEAR1+NEAR2 saves 11.79 over FAR")


def test_splitting_a_line_never_opens_more_packages_than_allowed() -> None:
    # Spreading C's three units over the cheap A and B leaves one unit for C: three packages.
    candidates = [at("A", {"X": 1}), at("B", {"X": 1}), at("C", {"X": 3})]
    rates = {"A": Rate("2.00"), "B": Rate("2.00"), "C": Rate("1.00", per_kg="10.00")}
    policy = RoutingPolicy(max_locations=2)
    for exact_line_limit in (6, 0):
        result = route(
            [line(1, 3, "X")],
            candidates,
            ship=shipper(rates),
            policy=policy,
            exact_line_limit=exact_line_limit,
        )
        assert len(result.packages) <= 2
        assert result.unfilled == {}


def test_a_bundle_is_routed_by_its_components() -> None:
    kit = {"X": 2, "Y": 1}  # two units need X 4 and Y 2
    candidates = [at("CHEAP", {"X": 3, "Y": 9}), at("DEAR", {"X": 4, "Y": 2})]
    rates = {"CHEAP": Rate("2.00"), "DEAR": Rate("6.00")}
    result = route([line(1, 2, kit)], candidates, ship=shipper(rates), policy=DEFAULT)
    assert shipped_from(result) == {"DEAR": ((1, 2),)}


def test_two_lines_drawing_the_same_sku_never_share_a_unit() -> None:
    # CHEAP holds each line whole but not both: X 3 is needed, it has 2.
    candidates = [at("CHEAP", {"X": 2, "Y": 1}), at("DEAR", {"X": 3, "Y": 1})]
    rates = {"CHEAP": Rate("2.00"), "DEAR": Rate("3.00")}
    order = [line(1, 2, "X"), line(2, 1, {"X": 1, "Y": 1})]
    result = route(order, candidates, ship=shipper(rates), policy=DEFAULT)
    assert shipped_from(result) == {"DEAR": ((1, 2), (2, 1))}


def test_when_two_lines_want_the_same_location_the_cheaper_pairing_wins() -> None:
    # A is cheapest for each line but cannot hold both (X 3 needed, 2 held); neither can B.
    # The light line goes to B so that the heavy one gets A's cheaper kilograms.
    candidates = [at("A", {"X": 2, "Y": 1}), at("B", {"X": 2, "Y": 1})]
    rates = {"A": Rate("1.00", per_kg="1.00"), "B": Rate("1.00", per_kg="2.00")}
    order = [line(1, 1, {"X": 1, "Y": 1}, grams=1000), line(2, 2, "X", grams=5000)]
    result = route(order, candidates, ship=shipper(rates), policy=DEFAULT)
    assert shipped_from(result) == {"A": ((2, 2),), "B": ((1, 1),)}
    assert result.cost.total == Decimal("16.00")  # (1 + 10 + 1) + (1 + 2 + 1), not 3 + 22


def test_a_location_whose_carriers_cannot_take_the_parcel_is_passed_over() -> None:
    candidates = [at("NOSHIP", {"X": 5}), at("OK", {"X": 5}), at("EMPTY", {"Y": 5})]
    result = route(
        [line(1, 1, "X")], candidates, ship=shipper({"OK": Rate("9.00")}), policy=DEFAULT
    )
    assert shipped_from(result) == {"OK": ((1, 1),)}
    assert result.explanation.rejected == (
        ("EMPTY", "no stock above safety stock for any line"),
        ("NOSHIP", "no carrier service for the parcel"),
    )


def test_ties_go_to_the_location_code_that_sorts_first() -> None:
    candidates = [at("B", {"X": 5}), at("A", {"X": 5})]
    result = route(
        [line(1, 1, "X")],
        candidates,
        ship=shipper({"A": Rate("5.00"), "B": Rate("5.00")}),
        policy=DEFAULT,
    )
    assert shipped_from(result) == {"A": ((1, 1),)}
    assert result.explanation.why.endswith("ties with B, chosen by location code order")


def test_the_explanation_lists_the_winner_first_then_the_alternatives_cheapest_first() -> None:
    candidates = [at(code, {"X": 5}) for code in "ABCDEFG"]
    rates = {code: Rate(f"{3 + i}.00") for i, code in enumerate("GFEDCBA")}
    result = route([line(1, 1, "X")], candidates, ship=shipper(rates), policy=DEFAULT)
    considered = result.explanation.considered
    assert [plan.locations for plan in considered] == [("G",), ("F",), ("E",), ("D",), ("C",)]
    assert considered[0].note == "chosen"
    assert considered[1].note == "+1.00 over the chosen plan"
    assert result.explanation.why.endswith("; G saves 1.00 over F")
    assert considered[4].note == "+4.00 over the chosen plan"


def test_an_order_over_the_exact_limit_is_routed_by_the_heuristic_to_the_same_answer() -> None:
    candidates = [at("A", {f"S{i}": 1 for i in range(4)}), at("B", {f"S{i}": 1 for i in range(8)})]
    rates = {"A": Rate("2.00", per_kg="1.00"), "B": Rate("3.00", per_kg="1.00")}
    order = [line(i + 1, 1, f"S{i}", grams=500) for i in range(8)]
    heuristic = route(order, candidates, ship=shipper(rates), policy=DEFAULT, exact_line_limit=6)
    exact = route(order, candidates, ship=shipper(rates), policy=DEFAULT, exact_line_limit=8)
    assert (heuristic.method, exact.method) == ("heuristic", "exact")
    assert heuristic.cost == exact.cost
    assert heuristic.unfilled == {}


def test_a_line_that_draws_no_stock_ships_with_the_rest_of_the_order() -> None:
    # A gift card: no SKU stock to draw, so it goes wherever the parcel goes.
    order = [line(1, 1, "X"), RoutingLine(2, 1, 20, {})]
    candidates = [at("A", {"X": 1}), at("B", {"Y": 1})]
    rates = {"A": Rate("5.00"), "B": Rate("1.00")}
    result = route(order, candidates, ship=shipper(rates), policy=DEFAULT)
    assert shipped_from(result) == {"A": ((1, 1), (2, 1))}
    alone = route([RoutingLine(1, 1, 20, {})], candidates, ship=shipper(rates), policy=DEFAULT)
    assert shipped_from(alone) == {"B": ((1, 1),)}


def test_with_no_stock_anywhere_every_unit_is_backordered() -> None:
    result = route(
        [line(1, 2, "X"), line(2, 1, "Y")],
        [at("A", {"Z": 9})],
        ship=shipper({"A": Rate("1.00")}),
        policy=DEFAULT,
    )
    assert result.packages == ()
    assert result.unfilled == {1: 2, 2: 1}
    assert result.cost.total == 0
    assert "every unit is backordered" in result.explanation.why


def test_a_line_of_zero_units_needs_no_package() -> None:
    result = route(
        [line(1, 0, "X")], [at("A", {"X": 1})], ship=shipper({"A": Rate("1")}), policy=DEFAULT
    )
    assert (result.packages, result.unfilled) == ((), {})


ONE_X = [at("A", {"X": 1})]
NO_LOCATIONS, NEGATIVE = RoutingPolicy(max_locations=0), RoutingPolicy(split_penalty=Decimal(-1))


@pytest.mark.parametrize(
    ("lines", "candidates", "policy", "message"),
    [
        ([line(1, 1, "X"), line(1, 1, "Y")], ONE_X, DEFAULT, "line numbers must be unique"),
        ([line(1, -1, "X")], ONE_X, DEFAULT, "line 1: quantity and weight must not be negative"),
        ([line(1, 1, {"X": 0})], ONE_X, DEFAULT, "line 1: every per-unit SKU count must be"),
        ([line(1, 1, "X")], ONE_X * 2, DEFAULT, "candidate locations must be unique"),
        ([line(1, 1, "X")], ONE_X, NO_LOCATIONS, "max_locations must be at least 1"),
        ([line(1, 1, "X")], ONE_X, NEGATIVE, "penalties must not be negative"),
    ],
)
def test_malformed_input_is_refused(
    lines: list[RoutingLine], candidates: list[Candidate], policy: RoutingPolicy, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{message}"):
        route(lines, candidates, ship=shipper({"A": Rate("1")}), policy=policy)


# --- properties over random networks -------------------------------------------------------


@dataclass(frozen=True)
class Network:
    lines: list[RoutingLine]
    candidates: list[Candidate]
    rates: dict[str, Rate]
    policy: RoutingPolicy


SKUS = ["S0", "S1", "S2", "S3", "S4"]


@st.composite
def networks(
    draw: st.DrawFn,
    *,
    most_lines: int = 6,
    fewest_lines: int = 1,
    most_locations: int = 12,
    fewest_locations: int = 1,
    stock: st.SearchStrategy[int] = st.integers(0, 8),
    allow_split: st.SearchStrategy[bool] = st.booleans(),
    skus_per_line: int = 2,
    quantities: st.SearchStrategy[int] = st.integers(1, 4),
    caps: st.SearchStrategy[int | None] = st.just(None),
) -> Network:
    n_lines = draw(st.integers(fewest_lines, most_lines))
    lines = []
    for no in range(1, n_lines + 1):
        skus = draw(
            st.lists(st.sampled_from(SKUS), min_size=1, max_size=skus_per_line, unique=True)
        )
        per_unit = {sku: draw(st.integers(1, 2)) for sku in skus}
        lines.append(RoutingLine(no, draw(quantities), draw(st.integers(0, 3000)), per_unit))
    candidates, rates = [], {}
    for i in range(draw(st.integers(fewest_locations, most_locations))):
        code = f"L{i:02d}"
        held = {sku: draw(stock) for sku in SKUS}
        handling = Decimal(draw(st.integers(0, 500))) / 100
        capacity = draw(st.sampled_from([1, 2, 3, 0]))
        candidates.append(Candidate(uid(code), code, held, capacity, handling))
        if draw(st.integers(0, 9)) != 9:  # one in ten cannot ship at all
            base = f"{draw(st.integers(200, 1500)) / 100:.2f}"
            per_kg = f"{draw(st.integers(0, 300)) / 100:.2f}"
            rates[code] = Rate(base, per_kg, draw(st.integers(-2, 2)), draw(caps))
    policy = RoutingPolicy(
        allow_split=draw(allow_split),
        max_locations=draw(st.integers(1, 4)),
        split_penalty=Decimal(draw(st.integers(0, 500))) / 100,
        late_penalty=draw(st.sampled_from([Decimal(0), Decimal(1000)])),
    )
    return Network(lines, candidates, rates, policy)


def assert_plan_keeps_every_rule(net: Network, result: RoutingResult) -> None:
    by_id = {c.location_id: c for c in net.candidates}
    by_line = {ln.line_no: ln for ln in net.lines}
    most = net.policy.max_locations if net.policy.allow_split else 1
    assert len(result.packages) <= most
    assert len({p.location_id for p in result.packages}) == len(result.packages)
    assigned = dict.fromkeys(by_line, 0)
    for package in result.packages:
        where = by_id[package.location_id]
        assert where.capacity_left > 0
        drawn: dict[str, int] = {}
        for line_no, units in package.lines:
            assert units > 0
            assigned[line_no] += units
            for sku, per in by_line[line_no].per_unit.items():
                drawn[sku] = drawn.get(sku, 0) + per * units
        assert all(units <= where.available.get(sku, 0) for sku, units in drawn.items())
        grams = sum(units * by_line[no].weight_grams for no, units in package.lines)
        assert package.weight_grams == grams
        assert package.option == net.rates[where.code].option(grams)
        assert package.handling == where.handling_cost
    for no, ln in by_line.items():
        assert assigned[no] + result.unfilled.get(no, 0) == ln.quantity
    assert all(units > 0 for units in result.unfilled.values())
    cost, policy = result.cost, net.policy
    assert cost.total == cost.shipping + cost.handling + cost.split_penalty + cost.late_penalty
    assert cost.shipping == sum((p.option.price for p in result.packages), Decimal(0))
    assert cost.handling == sum((p.handling for p in result.packages), Decimal(0))
    assert cost.split_penalty == policy.split_penalty * max(0, len(result.packages) - 1)
    assert cost.late_penalty == policy.late_penalty * sum(p.option.late for p in result.packages)


WEIGHT_CAPS = st.sampled_from([None, None, 2500, 6000])


@settings(max_examples=300, deadline=None)
@given(networks(caps=WEIGHT_CAPS))
def test_every_plan_keeps_stock_capacity_package_and_cost_rules(net: Network) -> None:
    result = route(net.lines, net.candidates, ship=shipper(net.rates), policy=net.policy)
    assert_plan_keeps_every_rule(net, result)


@settings(max_examples=100, deadline=None)
@given(networks(most_lines=10, most_locations=6, caps=WEIGHT_CAPS))
def test_orders_beyond_the_exact_limit_keep_every_rule_too(net: Network) -> None:
    result = route(
        net.lines, net.candidates, ship=shipper(net.rates), policy=net.policy, exact_line_limit=2
    )
    assert_plan_keeps_every_rule(net, result)


Rank = tuple[int, int, Decimal]  # (units unfilled, latest late arrival or 0, total cost)


def rank_of(result: RoutingResult) -> Rank:
    late = max(
        (p.option.deliver_by.toordinal() for p in result.packages if p.option.late), default=0
    )
    return sum(result.unfilled.values()), late, result.cost.total


def rank_of_loads(net: Network, loads: Mapping[str, dict[int, int]], unfilled: int) -> Rank | None:
    """The rank of shipping ``loads`` (location code -> units per line number), or None when
    it breaks a rule (too many packages, stock, a location at capacity or that cannot ship)."""
    by_code = {c.code: c for c in net.candidates}
    by_line = {ln.line_no: ln for ln in net.lines}
    if len(loads) > (net.policy.max_locations if net.policy.allow_split else 1):
        return None
    late, total = 0, Decimal(0)
    for code, units in loads.items():
        where, rate = by_code[code], net.rates.get(code)
        need: dict[str, int] = {}
        for no, count in units.items():
            for sku, per in by_line[no].per_unit.items():
                need[sku] = need.get(sku, 0) + per * count
        if rate is None or where.capacity_left <= 0:
            return None
        if any(where.available.get(sku, 0) < count for sku, count in need.items()):
            return None
        option = rate.option(sum(by_line[no].weight_grams * n for no, n in units.items()))
        if option is None:
            return None
        total += option.price + where.handling_cost
        if option.late:
            total += net.policy.late_penalty
            late = max(late, option.deliver_by.toordinal())
    total += net.policy.split_penalty * max(0, len(loads) - 1)
    return unfilled, late, total


def best_whole_line_plan(net: Network) -> Rank | None:
    """The best plan that ships every line whole from one location, if any."""
    best: Rank | None = None
    for choice in itertools.product(net.candidates, repeat=len(net.lines)):
        loads: dict[str, dict[int, int]] = {}
        for ln, where in zip(net.lines, choice, strict=True):
            loads.setdefault(where.code, {})[ln.line_no] = ln.quantity
        rank = rank_of_loads(net, loads, 0)
        if rank is not None and (best is None or rank < best):
            best = rank
    return best


def shares(units: int, ways: int) -> list[tuple[int, ...]]:
    """Every way to share ``units`` identical units out over ``ways`` places."""
    if ways == 1:
        return [(units,)]
    return [(here, *rest) for here in range(units + 1) for rest in shares(units - here, ways - 1)]


def best_plan_over_units(net: Network) -> Rank:
    """The best plan over every assignment of each line's units to a location or to the
    backorder (the last place), by brute force."""
    codes = [c.code for c in net.candidates]
    best: Rank | None = None
    per_line = [shares(ln.quantity, len(codes) + 1) for ln in net.lines]
    for choice in itertools.product(*per_line):
        loads: dict[str, dict[int, int]] = {}
        for ln, split in zip(net.lines, choice, strict=True):
            for code, units in zip(codes, split, strict=False):
                if units:
                    loads.setdefault(code, {})[ln.line_no] = units
        rank = rank_of_loads(net, loads, sum(split[-1] for split in choice))
        if rank is not None and (best is None or rank < best):
            best = rank
    assert best is not None  # backordering everything always keeps the rules
    return best


# Small enough for the brute force: at most 3 lines of 1-3 units, 6 units, 4 locations.
@settings(max_examples=300, deadline=None)
@given(
    networks(
        most_lines=3,
        fewest_locations=2,
        most_locations=4,
        stock=st.sampled_from([0, 1, 2, 3, 6]),
        quantities=st.integers(1, 3),
        caps=WEIGHT_CAPS,
    ).filter(lambda net: sum(ln.quantity for ln in net.lines) <= 6)
)
def test_the_exact_method_matches_a_brute_force_over_every_assignment_of_units(
    net: Network,
) -> None:
    result = route(net.lines, net.candidates, ship=shipper(net.rates), policy=net.policy)
    assert result.method == "exact"
    assert rank_of(result) == best_plan_over_units(net)


def assert_no_worse_than_the_best_whole_line_plan(net: Network) -> None:
    result = route(net.lines, net.candidates, ship=shipper(net.rates), policy=net.policy)
    best = best_whole_line_plan(net)
    if best is not None:
        assert rank_of(result) <= best


# Each location holds a SKU amply or not at all: whole-line plans exist, mostly at one place.
@settings(max_examples=200, deadline=None)
@given(
    networks(most_lines=4, fewest_locations=3, most_locations=6, stock=st.sampled_from([20, 20, 0]))
)
def test_no_plan_of_whole_lines_beats_the_router(net: Network) -> None:
    assert_no_worse_than_the_best_whole_line_plan(net)


# Sparse stock with splitting allowed: the optimum often takes two or more locations.
@settings(max_examples=200, deadline=None)
@given(
    networks(
        fewest_lines=2,
        most_lines=4,
        fewest_locations=3,
        most_locations=6,
        stock=st.sampled_from([20, 0, 0]),
        allow_split=st.just(True),
        skus_per_line=1,
    )
)
def test_no_plan_of_whole_lines_beats_the_router_when_splits_are_needed(net: Network) -> None:
    assert_no_worse_than_the_best_whole_line_plan(net)
