"""Look-ahead routing: the depletion term, and the router charging it in both searches."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.domain.errors import FieldError
from oms.domain.routing import Candidate, RoutingLine, RoutingPolicy, less_this_order, route
from oms.domain.routing_lookahead import (
    SCENARIOS,
    Lookahead,
    LookaheadSettings,
    SkuOutlook,
    depletion_penalty,
    serving_cost,
)
from oms.domain.routing_profile import RoutingProfile
from tests.unit.test_routing import (
    Network,
    Rate,
    networks,
    rank_of_loads,
    shares,
    shipper,
    uid,
)

CODES = ["A", "B", "C", "D"]


@st.composite
def sku_outlooks(draw: st.DrawFn) -> SkuOutlook:
    codes = CODES[: draw(st.integers(1, 4))]
    stock = {c: draw(st.integers(0, 12)) for c in codes}
    demand = {c: draw(st.floats(0, 15, allow_nan=False)) for c in codes}
    cost = {
        (a, b): Decimal(draw(st.integers(300, 2000))) / 100
        for a in codes
        for b in codes
        if draw(st.integers(0, 9))
    }
    return SkuOutlook(stock, demand, cost)


def lp_serving_cost(outlook: SkuOutlook) -> float:
    """The same least cost by scipy's LP (HiGHS): x[origin, region] and unserved[region]."""
    from scipy.optimize import linprog

    regions = [r for r, d in outlook.demand.items() if d > 1e-9]
    origins = [o for o, units in outlook.stock.items() if units > 0]
    pairs = [(o, r) for o in origins for r in regions if (o, r) in outlook.unit_cost]
    if not regions:
        return 0.0
    unserved = []
    for r in regions:
        priced = [float(cost) for (_, near), cost in outlook.unit_cost.items() if near == r]
        unserved.append(max(priced, default=0.0) + 1.0)
    c = [float(outlook.unit_cost[p]) for p in pairs] + unserved
    a_eq = [
        [1.0 if p[1] == r else 0.0 for p in pairs] + [1.0 * (q == r) for q in regions]
        for r in regions
    ]
    a_ub = [[1.0 if p[0] == o else 0.0 for p in pairs] + [0.0] * len(regions) for o in origins]
    found = linprog(
        c,
        A_ub=a_ub or None,
        b_ub=[outlook.stock[o] for o in origins] or None,
        A_eq=a_eq,
        b_eq=[outlook.demand[r] for r in regions],
    )
    assert found.status == 0
    return float(found.fun)


@settings(max_examples=40, deadline=None)
@given(sku_outlooks())
def test_the_least_serving_cost_is_the_lp_optimum(outlook: SkuOutlook) -> None:
    assert serving_cost(outlook, outlook.stock) == pytest.approx(lp_serving_cost(outlook), abs=1e-6)


def test_the_last_units_cost_what_serving_their_demand_from_the_next_best_costs_more() -> None:
    # Reno expects ~20 (never fewer than 5 in any scenario): both units are surely needed.
    outlook = SkuOutlook(
        {"RENO": 2, "DALLAS": 40},
        {"RENO": 20.0, "DALLAS": 2.0},
        {
            ("RENO", "RENO"): Decimal("7.00"),
            ("DALLAS", "RENO"): Decimal("10.00"),
            ("DALLAS", "DALLAS"): Decimal("7.00"),
            ("RENO", "DALLAS"): Decimal("10.00"),
        },
    )
    assert depletion_penalty(outlook, "RENO", 1, Decimal(1)) == Decimal("3.00")
    assert depletion_penalty(outlook, "RENO", 2, Decimal("1.5")) == Decimal("9.00")
    assert depletion_penalty(outlook, "DALLAS", 3, Decimal(1)) == 0  # enough to spare


weights = st.sampled_from([Decimal("0.5"), Decimal(1), Decimal(2)])


@settings(max_examples=40, deadline=None)
@given(sku_outlooks(), st.integers(1, 4), weights)
def test_the_term_is_zero_when_stock_is_plentiful(
    outlook: SkuOutlook, units: int, weight: Decimal
) -> None:
    code = next(iter(outlook.stock))
    # More than the demand to come in its largest scenario, all by itself.
    plentiful = units + int(max(SCENARIOS) * sum(outlook.demand.values())) + 1
    stocked = SkuOutlook({**outlook.stock, code: plentiful}, outlook.demand, outlook.unit_cost)
    assert depletion_penalty(stocked, code, units, weight) == 0


@settings(max_examples=40, deadline=None)
@given(sku_outlooks(), st.integers(1, 4), weights)
def test_the_term_never_rises_as_stock_rises(
    outlook: SkuOutlook, units: int, weight: Decimal
) -> None:
    code = next(iter(outlook.stock))
    ahead = Lookahead({"TEE": outlook}, weight)
    held = outlook.stock[code] + units  # a plan never draws more than is held
    fewer = ahead.penalty(code, "TEE", held, units)
    more = ahead.penalty(code, "TEE", held + 1, units)
    assert 0 <= more <= fewer
    # Drawing more units never costs less.
    assert ahead.penalty(code, "TEE", held + 1, units + 1) >= more


def test_the_profile_option_is_off_by_default_and_read_back_unchanged() -> None:
    assert RoutingProfile().lookahead == LookaheadSettings()
    assert not RoutingProfile().lookahead.enabled
    raw = RoutingProfile().to_dict() | {
        "lookahead": {"enabled": True, "weight": "1.5", "horizon_days": 21}
    }
    profile = RoutingProfile.from_dict(raw)
    assert profile.lookahead == LookaheadSettings(True, Decimal("1.5"), 21)
    assert RoutingProfile.from_dict(profile.to_dict()) == profile


@pytest.mark.parametrize(
    ("raw", "pointer"),
    [
        ({"enabled": "yes"}, "#/lookahead/enabled"),
        ({"weight": "-1"}, "#/lookahead/weight"),
        ({"weight": "lots"}, "#/lookahead/weight"),
        ({"horizon_days": 0}, "#/lookahead/horizon_days"),
        ({"horizon": 7}, "#/lookahead/horizon"),
        ([], "#/lookahead"),
    ],
)
def test_a_bad_lookahead_option_is_refused_with_its_pointer(raw: object, pointer: str) -> None:
    errors: list[FieldError] = []
    LookaheadSettings.from_raw(raw, errors)
    assert [e.pointer for e in errors] == [pointer]


# RENO is cheaper for this order by 0.50, but holds the last 2 TEE that Reno's own
# customers (about 6 over the horizon) would otherwise get from Dallas at 3.00 more each.
RENO = Candidate(uid("RENO"), "RENO", {"TEE": 2}, 100, Decimal("1.00"))
DALLAS = Candidate(uid("DALLAS"), "DALLAS", {"TEE": 40}, 100, Decimal("1.00"))
RATES = {"RENO": Rate("6.00", "0"), "DALLAS": Rate("6.50", "0")}
TEE = RoutingLine(1, 2, 300, {"TEE": 1})
POLICY = RoutingPolicy(split_penalty=Decimal("1.00"))
COSTS = {
    ("RENO", "RENO"): Decimal("7.00"),
    ("DALLAS", "RENO"): Decimal("10.00"),
    ("DALLAS", "DALLAS"): Decimal("7.00"),
    ("RENO", "DALLAS"): Decimal("10.00"),
}
AHEAD = Lookahead(
    {"TEE": SkuOutlook({"RENO": 2, "DALLAS": 40}, {"RENO": 6.0, "DALLAS": 4.0}, COSTS)}
)


@pytest.mark.parametrize("exact_line_limit", [6, 0])
def test_the_last_units_are_kept_for_expected_nearby_demand_by_either_search(
    exact_line_limit: int,
) -> None:
    myopic = route(
        [TEE], [RENO, DALLAS], ship=shipper(RATES), policy=POLICY, exact_line_limit=exact_line_limit
    )
    ahead = route(
        [TEE],
        [RENO, DALLAS],
        ship=shipper(RATES),
        policy=POLICY,
        exact_line_limit=exact_line_limit,
        lookahead=AHEAD,
    )
    assert [p.code for p in myopic.packages] == ["RENO"]
    assert [p.code for p in ahead.packages] == ["DALLAS"]
    assert ahead.cost.depletion == 0  # Dallas holds 40: plenty for its 4
    assert ahead.explanation.lookahead.startswith(
        "kept 2 of TEE at RENO for expected nearby demand, +"
    )
    assert ahead.explanation.lookahead.endswith("this plan costs 0.50 more today")
    assert myopic.explanation.lookahead == ""


def test_with_plentiful_stock_the_lookahead_changes_nothing() -> None:
    stocked = [
        Candidate(c.location_id, c.code, {"TEE": 500}, 100, c.handling_cost) for c in [RENO, DALLAS]
    ]
    plain = route([TEE], stocked, ship=shipper(RATES), policy=POLICY)
    ahead = route([TEE], stocked, ship=shipper(RATES), policy=POLICY, lookahead=AHEAD)
    assert ahead.packages == plain.packages
    assert ahead.cost == plain.cost
    assert ahead.explanation.lookahead == ""


def test_a_used_unit_that_nearby_demand_needs_is_charged_and_said() -> None:
    only = route([TEE], [RENO], ship=shipper(RATES), policy=POLICY, lookahead=AHEAD)
    assert [p.code for p in only.packages] == ["RENO"]
    # Charged for the demand to come: Reno's expected demand less this order's 2 units.
    rest = less_this_order(AHEAD, [TEE], [RENO], shipper(RATES))
    assert rest.outlooks["TEE"].demand["RENO"] == 4.0
    assert only.cost.depletion == rest.penalty("RENO", "TEE", 2, 2) > 0
    assert only.cost.total == only.cost.shipping + only.cost.handling + only.cost.depletion
    assert only.explanation.lookahead.startswith("uses 2 of TEE at RENO")


def lookaheads(net: Network) -> st.SearchStrategy[Lookahead]:
    codes = [c.code for c in net.candidates]
    skus = sorted({sku for c in net.candidates for sku in c.available})

    @st.composite
    def build(draw: st.DrawFn) -> Lookahead:
        found = {}
        for sku in skus:
            demand = {c: draw(st.floats(0, 6, allow_nan=False)) for c in codes}
            cost = {
                (a, b): Decimal(draw(st.integers(100, 1500))) / 100 for a in codes for b in codes
            }
            stock = {c.code: c.available.get(sku, 0) for c in net.candidates}
            found[sku] = SkuOutlook(stock, demand, cost)
        return Lookahead(found, Decimal(1))

    return build()


def best_total_over_units(net: Network, ahead: Lookahead) -> tuple[int, int, Decimal]:
    """Brute force over every assignment of units (as in test_routing), the depletion term
    added to each location's cost."""
    codes = [c.code for c in net.candidates]
    by_code = {c.code: c for c in net.candidates}
    best = None
    for choice in itertools.product(*(shares(ln.quantity, len(codes) + 1) for ln in net.lines)):
        loads: dict[str, dict[int, int]] = {}
        for ln, split in zip(net.lines, choice, strict=True):
            for code, units in zip(codes, split, strict=False):
                if units:
                    loads.setdefault(code, {})[ln.line_no] = units
        rank = rank_of_loads(net, loads, sum(split[-1] for split in choice))
        if rank is None:
            continue
        extra = Decimal(0)
        for code, units in loads.items():
            drawn: dict[str, int] = {}
            for ln in net.lines:
                for sku, per in ln.per_unit.items():
                    drawn[sku] = drawn.get(sku, 0) + per * units.get(ln.line_no, 0)
            for sku, count in drawn.items():
                extra += ahead.penalty(code, sku, by_code[code].available.get(sku, 0), count)
        ranked = (rank[0], rank[1], rank[2] + extra)
        if best is None or ranked < best:
            best = ranked
    assert best is not None
    return best


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_with_a_lookahead_the_exact_method_still_matches_a_brute_force(data: st.DataObject) -> None:
    net = data.draw(
        networks(
            most_lines=2,
            fewest_locations=2,
            most_locations=3,
            stock=st.sampled_from([0, 1, 2, 3]),
            quantities=st.integers(1, 3),
        ).filter(lambda net: sum(ln.quantity for ln in net.lines) <= 4)
    )
    ahead = data.draw(lookaheads(net))
    # The router takes the order's own units out of the demand to come; so does the check.
    charged = less_this_order(ahead, net.lines, net.candidates, shipper(net.rates))
    result = route(
        net.lines, net.candidates, ship=shipper(net.rates), policy=net.policy, lookahead=ahead
    )
    late = max(
        (p.option.deliver_by.toordinal() for p in result.packages if p.option.late), default=0
    )
    assert result.method == "exact"
    assert (sum(result.unfilled.values()), late, result.cost.total) == best_total_over_units(
        net, charged
    )
