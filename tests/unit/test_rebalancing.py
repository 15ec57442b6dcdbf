"""Transfers before buying: excess above a location's order-up-to level covers locations at
or below their reorder point, biggest need first, and a donor never drops below its own
order-up-to level."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from oms.domain.rebalancing import transfers_between
from oms.domain.replenishment import ReplenishmentPlan


def _plan(
    location: str, position: int, reorder_point: int = 20, order_up_to: int = 48
) -> ReplenishmentPlan:
    return ReplenishmentPlan(
        sku="S",
        location=location,
        position=position,
        demand_over_lead_time=20.0,
        safety_stock=0,
        reorder_point=reorder_point,
        order_up_to=order_up_to,
        quantity=0,
        reason="",
    )


def test_the_biggest_need_is_served_first_from_the_biggest_excess() -> None:
    plans = [_plan("A", 0), _plan("B", 15), _plan("C", 80), _plan("D", 60)]
    moves = [(t.from_location, t.to_location, t.quantity) for t in transfers_between(plans)]
    # A needs 48, B 33; C has 32 to spare, D 12.
    assert moves == [("C", "A", 32), ("D", "A", 12)]


def test_no_transfer_without_a_need_or_without_excess() -> None:
    assert transfers_between([_plan("A", 30), _plan("B", 100)]) == []  # A above its 20
    assert transfers_between([_plan("A", 0), _plan("B", 48)]) == []  # B has none to spare


@settings(max_examples=40)
@given(
    st.lists(
        st.tuples(st.integers(0, 200), st.integers(0, 60), st.integers(0, 60)),
        min_size=1,
        max_size=6,
    )
)
def test_donors_keep_their_order_up_to_level_and_receivers_get_no_more_than_they_need(
    raw: list[tuple[int, int, int]],
) -> None:
    plans = [
        _plan(f"L{i}", position, reorder, reorder + extra)
        for i, (position, reorder, extra) in enumerate(raw)
    ]
    by = {p.location: p for p in plans}
    moves = transfers_between(plans)
    net = {p.location: 0 for p in plans}
    for t in moves:
        assert t.quantity > 0
        net[t.from_location] -= t.quantity
        net[t.to_location] += t.quantity
    for code, change in net.items():
        plan = by[code]
        if change < 0:
            assert plan.position + change >= plan.order_up_to
        if change > 0:
            assert plan.position <= plan.reorder_point
            assert plan.position + change <= plan.order_up_to
