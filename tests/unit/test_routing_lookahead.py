"""Look-ahead routing: the depletion term, and the router charging it in both searches."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.domain.errors import FieldError
from oms.domain.routing import Candidate, RoutingLine, RoutingPolicy, route
from oms.domain.routing_lookahead import (
    Lookahead,
    LookaheadSettings,
    Outlook,
    depletion_penalty,
    extra_cost,
    need_probability,
    unit_value,
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

outlooks = st.builds(
    Outlook,
    demand=st.floats(0, 80, allow_nan=False),
    extra=st.integers(0, 2000).map(lambda cents: Decimal(cents) / 100),
)
weights = st.sampled_from([Decimal("0.5"), Decimal(1), Decimal(2)])


def test_the_last_unit_where_demand_is_expected_is_worth_the_extra_cost() -> None:
    assert unit_value(Outlook(20.0, Decimal("3.00")), 1, Decimal(1)) == Decimal("3.00")
    # Three units of a demand of about 2: the third is needed about one time in three.
    third = unit_value(Outlook(2.0, Decimal("3.00")), 3, Decimal(1))
    assert third == (Decimal("3.00") * Decimal(repr(round(need_probability(2.0, 3), 6))))
    assert Decimal("0.9") < third < Decimal("1.1")


def test_the_next_best_location_is_the_cheapest_with_units_to_spare() -> None:
    others = [(Decimal("5.00"), 0.0), (Decimal("7.00"), 4.0), (Decimal("9.00"), 10.0)]
    assert extra_cost(Decimal("4.00"), others) == Decimal("3.00")
    assert extra_cost(Decimal("4.00"), [(Decimal("5.00"), -2.0)]) == Decimal("1.00")
    assert extra_cost(Decimal("6.00"), [(Decimal("5.00"), 3.0)]) == Decimal(0)
    assert extra_cost(Decimal("4.00"), []) == Decimal(0)


@settings(max_examples=50, deadline=None)
@given(outlooks, st.integers(0, 30), weights)
def test_the_term_is_zero_when_stock_is_plentiful(
    outlook: Outlook, extra_units: int, weight: Decimal
) -> None:
    plentiful = int(3 * outlook.demand) + 15 + extra_units
    assert unit_value(outlook, plentiful, weight) == 0
    assert depletion_penalty(outlook, plentiful + 5, 5, weight) == 0


@settings(max_examples=50, deadline=None)
@given(outlooks, st.integers(0, 60), st.integers(1, 8), weights)
def test_the_term_never_rises_as_stock_rises(
    outlook: Outlook, spare: int, units: int, weight: Decimal
) -> None:
    stock = units + spare  # a plan never draws more than is held
    assert unit_value(outlook, stock + 1, weight) <= unit_value(outlook, stock, weight)
    more = depletion_penalty(outlook, stock + 1, units, weight)
    assert 0 <= more <= depletion_penalty(outlook, stock, units, weight)
    # Drawing more units never costs less.
    assert depletion_penalty(outlook, stock, units + 1, weight) >= depletion_penalty(
        outlook, stock, units, weight
    )


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
AHEAD = Lookahead(
    {("RENO", "TEE"): Outlook(6.0, Decimal("3.00")), ("DALLAS", "TEE"): Outlook(4.0, Decimal(1))}
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
    assert only.cost.depletion == AHEAD.penalty("RENO", "TEE", 2, 2) > 0
    assert only.cost.total == only.cost.shipping + only.cost.handling + only.cost.depletion
    assert only.explanation.lookahead.startswith("uses 2 of TEE at RENO")


def lookaheads(net: Network) -> st.SearchStrategy[Lookahead]:
    keys = [(c.code, sku) for c in net.candidates for sku in c.available]
    return st.dictionaries(st.sampled_from(keys), outlooks, max_size=len(keys)).map(
        lambda found: Lookahead(found, Decimal(1))
    )


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
    result = route(
        net.lines, net.candidates, ship=shipper(net.rates), policy=net.policy, lookahead=ahead
    )
    late = max(
        (p.option.deliver_by.toordinal() for p in result.packages if p.option.late), default=0
    )
    assert result.method == "exact"
    assert (sum(result.unfilled.values()), late, result.cost.total) == best_total_over_units(
        net, ahead
    )
