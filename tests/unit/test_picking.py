"""Picking rules: the most urgent orders make the wave, and the pick list walks bins in order."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.domain.errors import InvalidRequest
from oms.domain.picking import (
    PickListEntry,
    PickTask,
    WaveCandidate,
    natural_key,
    pick_list,
    select_wave,
    split_short,
)

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
MONDAY, TUESDAY = date(2026, 3, 2), date(2026, 3, 3)


def order_id(n: int) -> UUID:
    return UUID(int=n)


def candidate(
    n: int,
    *,
    cutoff: datetime | None = None,
    ship_by: date | None = None,
    priority: int = 5,
    created: datetime = NOON,
    units: int = 1,
) -> WaveCandidate:
    return WaveCandidate(order_id(n), cutoff, ship_by, priority, created, units)


# --- waves ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("candidates", "expected_order"),
    [
        pytest.param(
            [candidate(1, cutoff=NOON + timedelta(hours=4)), candidate(2, cutoff=NOON)],
            [2, 1],
            id="earliest-cutoff-first",
        ),
        pytest.param(
            [candidate(1), candidate(2, cutoff=NOON + timedelta(days=3))],
            [2, 1],
            id="no-cutoff-last",
        ),
        pytest.param(
            [candidate(1, cutoff=NOON, ship_by=TUESDAY), candidate(2, cutoff=NOON, ship_by=MONDAY)],
            [2, 1],
            id="same-cutoff-earliest-ship-date",
        ),
        pytest.param(
            [candidate(1), candidate(2, ship_by=TUESDAY)],
            [2, 1],
            id="no-ship-date-last",
        ),
        pytest.param(
            [candidate(1, priority=5), candidate(2, priority=1)],
            [2, 1],
            id="lower-priority-number-first",
        ),
        pytest.param(
            [candidate(1, created=NOON), candidate(2, created=NOON - timedelta(hours=1))],
            [2, 1],
            id="oldest-first",
        ),
        pytest.param([candidate(2), candidate(1)], [1, 2], id="ties-by-id"),
        pytest.param(
            [candidate(1, priority=0, ship_by=MONDAY), candidate(2, priority=9, cutoff=NOON)],
            [2, 1],
            id="cutoff-beats-priority",
        ),
        pytest.param(
            [candidate(1, priority=0), candidate(2, priority=9, ship_by=TUESDAY)],
            [2, 1],
            id="ship-date-beats-priority",
        ),
    ],
)
def test_the_most_urgent_orders_come_first_in_a_wave(
    candidates: list[WaveCandidate], expected_order: list[int]
) -> None:
    wave = select_wave(candidates, max_orders=10)
    assert [c.fulfillment_order_id for c in wave] == [order_id(n) for n in expected_order]


@pytest.mark.parametrize(
    ("units", "max_orders", "max_units", "taken"),
    [
        pytest.param([1, 1, 1, 1, 1], 3, None, 3, id="up-to-max-orders"),
        pytest.param([3, 5, 1], 10, 8, 2, id="exactly-at-unit-limit"),
        pytest.param([3, 4, 2, 1], 10, 8, 2, id="stops-at-first-order-over-limit"),
        pytest.param([20, 1], 10, 8, 1, id="first-order-over-limit-goes-alone"),
        pytest.param([2, 2, 2], 2, 100, 2, id="order-limit-before-unit-limit"),
        pytest.param([], 3, 5, 0, id="no-candidates"),
    ],
)
def test_a_wave_holds_at_most_max_orders_and_max_units_but_at_least_one_order(
    units: list[int], max_orders: int, max_units: int | None, taken: int
) -> None:
    # Ids in urgency order, so the wave must be a prefix of the candidates.
    candidates = [candidate(n, units=u) for n, u in enumerate(units)]
    wave = select_wave(candidates, max_orders=max_orders, max_units=max_units)
    assert wave == candidates[:taken]


@pytest.mark.parametrize(
    ("max_orders", "max_units", "pointers"),
    [
        (0, None, ["#/max_orders"]),
        (1, 0, ["#/max_units"]),
        (-1, -1, ["#/max_orders", "#/max_units"]),
    ],
)
def test_wave_limits_below_one_are_refused(
    max_orders: int, max_units: int | None, pointers: list[str]
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        select_wave([candidate(1)], max_orders=max_orders, max_units=max_units)
    assert [error.pointer for error in refused.value.errors] == pointers


hours = st.integers(0, 6).map(lambda h: NOON + timedelta(hours=h))
candidates_strategy = st.lists(
    st.builds(
        WaveCandidate,
        fulfillment_order_id=st.uuids(),
        cutoff_at=st.none() | hours,
        promised_ship_by=st.none() | st.sampled_from([MONDAY, TUESDAY]),
        priority=st.integers(0, 3),
        created_at=hours,
        units=st.integers(1, 10),
    ),
    max_size=12,
    unique_by=lambda c: c.fulfillment_order_id,
)


@settings(max_examples=100, deadline=None)
@given(
    candidates=candidates_strategy,
    max_orders=st.integers(1, 8),
    max_units=st.none() | st.integers(1, 30),
    data=st.data(),
)
def test_a_wave_is_the_most_urgent_prefix_whatever_the_input_order(
    candidates: list[WaveCandidate], max_orders: int, max_units: int | None, data: st.DataObject
) -> None:
    wave = select_wave(candidates, max_orders=max_orders, max_units=max_units)
    shuffled = data.draw(st.permutations(candidates))
    assert select_wave(shuffled, max_orders=max_orders, max_units=max_units) == wave
    everything = select_wave(candidates, max_orders=len(candidates) or 1)
    assert wave == everything[: len(wave)]
    assert len(wave) <= max_orders
    assert bool(wave) == bool(candidates)
    if max_units is not None and len(wave) > 1:
        assert sum(c.units for c in wave) <= max_units


# --- pick lists -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("A-2-9", "A-2-10"),
        ("a-2-10", "A-3-1"),
        ("A-9-1", "A-10-1"),
        ("A", "A1"),
        ("bin2", "BIN10"),
        ("A-02", "A-3"),
        ("Z-9", "ZZ-1"),
    ],
)
def test_bins_sort_in_natural_order_ignoring_case(before: str, after: str) -> None:
    assert natural_key(before) < natural_key(after)


def test_the_pick_list_walks_bins_in_natural_order_with_binless_tasks_last() -> None:
    bins = ["A-2-10", None, "A-2-9", "B-1-1", "A-10-1", "a-2-1", "A-1-1"]
    tasks = [PickTask(bin_, "SKU", 1, order_id(1)) for bin_ in bins]
    assert [entry.bin for entry in pick_list(tasks)] == [
        "A-1-1",
        "a-2-1",
        "A-2-9",
        "A-2-10",
        "A-10-1",
        "B-1-1",
        None,
    ]


def test_tasks_for_one_bin_and_sku_are_summed_with_their_orders() -> None:
    tasks = [
        PickTask("A-1", "MUG", 2, order_id(2)),
        PickTask(None, "TEE", 1, order_id(1)),
        PickTask("A-1", "CAP", 1, order_id(1)),
        PickTask("A-1", "MUG", 3, order_id(1)),
        PickTask("A-1", "MUG", 1, order_id(2)),
        PickTask(" ", "BAG", 4, order_id(3)),
        PickTask(None, "ANT", 1, order_id(3)),
    ]
    assert pick_list(tasks) == [
        PickListEntry("A-1", "CAP", 1, (order_id(1),)),
        PickListEntry("A-1", "MUG", 6, (order_id(2), order_id(1))),
        PickListEntry(None, "ANT", 1, (order_id(3),)),
        PickListEntry(None, "BAG", 4, (order_id(3),)),
        PickListEntry(None, "TEE", 1, (order_id(1),)),
    ]


def test_tasks_without_positive_quantities_are_refused() -> None:
    tasks = [PickTask("A", "X", 1, order_id(1)), PickTask("A", "Y", 0, order_id(1))]
    with pytest.raises(InvalidRequest) as refused:
        pick_list(tasks)
    assert [error.pointer for error in refused.value.errors] == ["#/tasks/1/quantity"]


tasks_strategy = st.lists(
    st.builds(
        PickTask,
        bin=st.none() | st.sampled_from(["A-1", "a-1", "A-10", "A-2", "B-01", "B-1", ""]),
        sku=st.sampled_from(["MUG", "TEE", "CAP"]),
        quantity=st.integers(1, 5),
        fulfillment_order_id=st.sampled_from([order_id(n) for n in range(4)]),
    ),
    max_size=20,
)


@settings(max_examples=100, deadline=None)
@given(tasks=tasks_strategy, data=st.data())
def test_a_pick_list_keeps_every_unit_and_order(tasks: list[PickTask], data: st.DataObject) -> None:
    entries = pick_list(tasks)
    assert sum(entry.quantity for entry in entries) == sum(task.quantity for task in tasks)
    for sku in {task.sku for task in tasks}:
        assert sum(e.quantity for e in entries if e.sku == sku) == sum(
            t.quantity for t in tasks if t.sku == sku
        )
    assert {i for e in entries for i in e.fulfillment_order_ids} == {
        t.fulfillment_order_id for t in tasks
    }
    assert len({(e.bin, e.sku) for e in entries}) == len(entries)
    shuffled = data.draw(st.permutations(tasks))
    assert [(e.bin, e.sku, e.quantity) for e in pick_list(shuffled)] == [
        (e.bin, e.sku, e.quantity) for e in entries
    ]


# --- short picks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("picked", "wanted", "split"), [(3, 5, (3, 2)), (5, 5, (5, 0)), (0, 2, (0, 2)), (0, 0, (0, 0))]
)
def test_a_short_pick_splits_into_picked_and_short_units(
    picked: int, wanted: int, split: tuple[int, int]
) -> None:
    assert split_short(picked=picked, wanted=wanted) == split


@pytest.mark.parametrize(
    ("picked", "wanted", "pointers"),
    [(6, 5, ["#/picked"]), (-1, 5, ["#/picked"]), (1, -1, ["#/wanted"])],
)
def test_picking_more_than_wanted_or_negative_units_is_refused(
    picked: int, wanted: int, pointers: list[str]
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        split_short(picked=picked, wanted=wanted)
    assert [error.pointer for error in refused.value.errors] == pointers
