"""The routing what-if told in words: cost up or down with its share, the same figure said
as such, parcels per location in both runs."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from oms.services.simulation import SimulationTotals
from oms.web.portal.what_if import what_if_story


def _totals(cost: str, packages: int, split: int, load: dict[str, int]) -> SimulationTotals:
    return SimulationTotals(
        orders=4,
        shipping=Decimal(cost),
        handling=Decimal(0),
        total_cost=Decimal(cost),
        packages=packages,
        split_orders=split,
        late_orders=0,
        backordered_units=0,
        load=Counter(load),
    )


def test_a_cheaper_candidate_is_told_with_the_saving_and_its_share() -> None:
    now = _totals("40.00", 6, 2, {"NEAR": 2, "FAR": 4})
    candidate = _totals("30.00", 4, 0, {"NEAR": 4})

    told = what_if_story(now, candidate)

    assert told[0].startswith("4 order(s) routed under both profiles")
    assert told[1] == (
        "Shipping and handling would cost 30.00 under the candidate: 10.00 less than the "
        "40.00 of the profile in force (25.0% less)."
    )
    assert "Parcels per order: 1.00 instead of 1.50." in told
    assert "Orders split over several locations: 0% instead of 50%." in told
    assert "Orders that would miss their promised date: 0, as now." in told
    assert told[-1] == "Parcels per location: FAR 0 instead of 4; NEAR 4 instead of 2."


def test_the_same_cost_is_said_to_be_the_same() -> None:
    same = _totals("1234.50", 4, 0, {"WH": 4})

    told = what_if_story(same, same)

    assert told[1] == (
        "Shipping and handling would cost 1,234.50 under the candidate, the same as now."
    )
    assert told[-1] == "Parcels per location: WH 4, as now."


def test_no_orders_means_nothing_to_compare() -> None:
    assert what_if_story(SimulationTotals(), SimulationTotals()) == [
        "There were no orders to route: nothing to compare."
    ]
