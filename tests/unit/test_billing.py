"""Billing rules without a database: periods, price lists, the storage replay (against a
plain per-movement replay, by hypothesis), and pricing that adds up exactly."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.domain.billing import (
    Activity,
    Period,
    PriceList,
    StorageBasis,
    StorageRate,
    StorageUsage,
    price_activity,
    storage_usage,
)
from oms.domain.errors import InvalidRequest

LOCATIONS = [UUID(int=1), UUID(int=2)]
SKUS = ["A", "B", "C"]
DAYS = Period(2031, 2).days()


@pytest.mark.parametrize("text", ["2031-13", "2031-1", "31-01", "2031-00", "0000-05", "x"])
def test_a_period_is_a_calendar_month_written_yyyy_mm(text: str) -> None:
    with pytest.raises(InvalidRequest):
        Period.parse(text)


def test_a_period_runs_from_its_first_day_to_the_next_months() -> None:
    december = Period.parse("2030-12")
    assert (december.start, december.end) == (
        datetime(2030, 12, 1, tzinfo=UTC),
        datetime(2031, 1, 1, tzinfo=UTC),
    )
    assert len(december.days()) == 31
    assert len(december.days(until=datetime(2030, 12, 10, 0, 1, tzinfo=UTC))) == 10


@pytest.mark.parametrize(
    ("field", "value"),
    [("pick_per_unit", Decimal("-0.01")), ("per_package", Decimal("0.00001"))],
)
def test_a_price_list_refuses_negative_or_too_fine_rates(field: str, value: Decimal) -> None:
    with pytest.raises(InvalidRequest) as refused:
        PriceList(currency="EUR", **{field: value})  # type: ignore[arg-type]
    assert [e.pointer for e in refused.value.errors] == [f"#/{field}"]


def test_a_location_rate_beats_the_any_location_rate() -> None:
    prices = PriceList(
        currency="EUR",
        storage=(
            StorageRate("*", StorageBasis.UNIT_DAY, Decimal("0.01")),
            StorageRate("WH-2", StorageBasis.UNIT_DAY, Decimal("0.02")),
        ),
    )
    assert prices.storage_rate("WH-2", StorageBasis.UNIT_DAY) == Decimal("0.02")
    assert prices.storage_rate("WH-9", StorageBasis.UNIT_DAY) == Decimal("0.01")
    assert prices.storage_rate("WH-9", StorageBasis.BIN_DAY) is None


movements = st.lists(
    st.tuples(
        st.sampled_from(SKUS),
        st.sampled_from(LOCATIONS),
        st.integers(min_value=-3, max_value=len(DAYS) + 3),  # days before and after, too
        st.integers(min_value=-20, max_value=40),
    ),
    max_size=60,
)


@given(moves=movements, shared_bin=st.booleans())
def test_storage_usage_equals_a_plain_replay_of_every_movement(
    moves: list[tuple[str, UUID, int, int]], shared_bin: bool
) -> None:
    first = DAYS[0]
    bins = {("A", LOCATIONS[0]): "BIN-1", ("B", LOCATIONS[0]): "BIN-1" if shared_bin else "BIN-2"}
    opening: dict[tuple[str, UUID], int] = defaultdict(int)
    deltas: dict[tuple[str, UUID, date], int] = defaultdict(int)
    for sku, location, offset, quantity in moves:
        day = first + timedelta(days=offset)
        if day < first:
            opening[(sku, location)] += quantity
        elif day in DAYS:
            deltas[(sku, location, day)] += quantity

    found = storage_usage(days=DAYS, opening=opening, deltas=deltas, bins=bins)

    # The plain way: for each day, sum every movement up to its end, look at every row.
    expected: dict[UUID, list[int]] = defaultdict(lambda: [0, 0])
    for day in DAYS:
        on_hand: dict[tuple[str, UUID], int] = defaultdict(int)
        for sku, location, offset, quantity in moves:
            if first + timedelta(days=offset) <= day:
                on_hand[(sku, location)] += quantity
        for location in LOCATIONS:
            stocked = [k for k, units in on_hand.items() if k[1] == location and units > 0]
            if stocked:
                expected[location][0] += sum(on_hand[k] for k in stocked)
                expected[location][1] += len({bins.get(k, k[0]) for k in stocked})
    assert found == {loc: (u, b) for loc, (u, b) in expected.items()}


@given(
    quantities=st.lists(st.integers(min_value=0, max_value=10**6), min_size=8, max_size=8),
    rate=st.decimals(min_value=0, max_value=1000, places=4),
    cost=st.decimals(min_value=0, max_value=10**6, places=2),
)
def test_a_statements_total_is_the_sum_of_its_lines_each_rounded_to_cents(
    quantities: list[int], rate: Decimal, cost: Decimal
) -> None:
    a, b, c, d, e, f, g, h = quantities
    prices = PriceList(
        currency="EUR",
        storage=(StorageRate("*", StorageBasis.UNIT_DAY, rate),),
        receiving_per_unit=rate,
        pick_per_line=rate,
        per_package=rate,
        label_markup_percent=Decimal("7.5"),
        special_handling={"fragile": rate},
    )
    activity = Activity(
        storage=(StorageUsage(LOCATIONS[0], "WH-1", a, b),),
        receipt_units=c,
        pick_lines=d,
        packages=e,
        labels=f,
        label_cost={"EUR": cost, "USD": Decimal(g)},
        units_by_category={"fragile": h},
    )
    statement = price_activity(
        tenant_id=LOCATIONS[1],
        tenant_name="M",
        period=Period(2031, 2),
        activity=activity,
        prices=prices,
    )
    assert all(line.amount == line.amount.quantize(Decimal("0.01")) for line in statement.lines)
    assert statement.total == sum(line.amount for line in statement.lines)
    labels = next(line for line in statement.lines if line.code == "labels")
    assert labels.amount == (cost * Decimal("1.075")).quantize(Decimal("0.01"), "ROUND_HALF_UP")
    assert statement.unpriced_label_cost == {"USD": Decimal(g)}
