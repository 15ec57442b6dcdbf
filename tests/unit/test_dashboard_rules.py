"""The dashboard's rules without a database (the in-memory port): which days a range
covers, how old a backlog order is, what counts as on time and as a split, and rates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.adapters.memory.dashboard import (
    FulfilmentFact,
    MemoryDashboard,
    OrderFact,
    ShipmentFact,
)
from oms.domain.errors import InvalidRequest
from oms.services.dashboard import AGE_BUCKETS, Rate, dashboard, day_range

NOW = datetime(2031, 3, 10, 15, 0, tzinfo=UTC)
SHOP = UUID(int=1)
OTHER = UUID(int=2)


@pytest.mark.parametrize(
    ("first", "last", "days"),
    [
        (None, None, (date(2031, 3, 4), date(2031, 3, 10))),
        (date(2031, 3, 10), None, (date(2031, 3, 10), date(2031, 3, 10))),
        (None, date(2031, 1, 31), (date(2031, 1, 25), date(2031, 1, 31))),
        (date(2030, 3, 10), date(2031, 3, 10), (date(2030, 3, 10), date(2031, 3, 10))),
    ],
)
def test_a_range_defaults_to_the_week_ending_today_or_ending_on_its_last_day(
    first: date | None, last: date | None, days: tuple[date, date]
) -> None:
    found = day_range(first=first, last=last, today=NOW.date())
    assert (found.first, found.last) == days


@pytest.mark.parametrize(
    ("first", "last", "pointer"),
    [
        (date(2031, 3, 11), date(2031, 3, 10), "query:from"),
        (date(2030, 3, 9), date(2031, 3, 10), "query:to"),
        (date(2031, 3, 11), None, "query:from"),
    ],
)
def test_a_range_that_runs_backwards_or_past_366_days_is_refused(
    first: date, last: date | None, pointer: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        day_range(first=first, last=last, today=NOW.date())
    assert [e.pointer for e in refused.value.errors] == [pointer]


@given(
    st.integers(min_value=0, max_value=10 * 24 * 60)
    | st.sampled_from([24 * 60 * d + e for d in (1, 2, 3) for e in (-1, 0, 1)])
)
def test_every_open_order_falls_in_exactly_one_age_bucket_by_whole_days(minutes: int) -> None:
    placed = NOW - timedelta(minutes=minutes)
    fake = MemoryDashboard(orders=[OrderFact(SHOP, UUID(int=minutes + 10), placed)])
    found = dashboard(uow_factory=fake, tenant_id=SHOP, first=None, last=None, now=NOW)
    expected = AGE_BUCKETS[min(3, minutes // (24 * 60))]
    assert found.backlog.by_age == {b: int(b == expected) for b in AGE_BUCKETS}


@given(st.integers(min_value=0, max_value=50), st.integers(min_value=0, max_value=50))
def test_a_rate_is_met_over_counted_to_four_places_and_none_of_nothing(met: int, more: int) -> None:
    rate = Rate(of=met + more, met=met)
    if met + more == 0:
        assert rate.value is None
    else:
        assert rate.value is not None
        assert abs(rate.value - Decimal(met) / Decimal(met + more)) <= Decimal("0.00005")


def test_on_time_counts_shipped_orders_and_unshipped_ones_whose_promise_has_passed() -> None:
    orders = [
        OrderFact(SHOP, UUID(int=10), NOW - timedelta(days=3), promised_ship_by=date(2031, 3, 8)),
        OrderFact(SHOP, UUID(int=11), NOW - timedelta(days=3), promised_ship_by=date(2031, 3, 8)),
        OrderFact(SHOP, UUID(int=12), NOW - timedelta(days=3), promised_ship_by=date(2031, 3, 8)),
        OrderFact(SHOP, UUID(int=13), NOW, promised_ship_by=date(2031, 3, 10)),  # not yet due
        OrderFact(OTHER, UUID(int=14), NOW, promised_ship_by=date(2031, 3, 8)),  # not ours
    ]
    shipments = [
        ShipmentFact(SHOP, UUID(int=10), datetime(2031, 3, 8, 23, 59, tzinfo=UTC), Decimal(5)),
        ShipmentFact(SHOP, UUID(int=11), datetime(2031, 3, 9, 0, 1, tzinfo=UTC), Decimal(7)),
    ]
    fake = MemoryDashboard(orders=orders, shipments=shipments)
    found = dashboard(uow_factory=fake, tenant_id=SHOP, first=None, last=None, now=NOW)
    assert (found.on_time_ship_rate.met, found.on_time_ship_rate.of) == (1, 3)
    (eur,) = found.shipping_cost
    assert (eur.orders, eur.total, eur.per_order) == (2, Decimal(12), Decimal("6.00"))


def test_a_split_is_two_locations_shipping_one_order_not_a_rejection_or_a_download() -> None:
    a, b = UUID(int=100), UUID(int=101)
    orders = [OrderFact(SHOP, UUID(int=n), NOW - timedelta(hours=1)) for n in (20, 21, 22, 23)]
    fulfilment = [
        FulfilmentFact(SHOP, UUID(int=20), a),
        FulfilmentFact(SHOP, UUID(int=20), b),  # split
        FulfilmentFact(SHOP, UUID(int=21), a, status="rejected"),
        FulfilmentFact(SHOP, UUID(int=21), b),  # rerouted, not split
        FulfilmentFact(SHOP, UUID(int=22), a),
        FulfilmentFact(SHOP, UUID(int=22), b, kind="digital"),  # a download is no split
    ]
    fake = MemoryDashboard(orders=orders, fulfilment=fulfilment)
    found = dashboard(uow_factory=fake, tenant_id=SHOP, first=None, last=None, now=NOW)
    assert (found.split_rate.met, found.split_rate.of) == (1, 3)
