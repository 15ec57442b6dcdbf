"""Replenishment rules: safety stock from the forecast's error, reorder point and
order-up-to level from the forecast over lead time and review period, MOQ and packs; and the
suggestions use case on the in-memory fakes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.adapters.memory.demand import MemoryDemandUow
from oms.domain.catalogue import Location, LocationKind
from oms.domain.errors import InvalidRequest, NotFound
from oms.domain.forecasting import Backtest, DemandForecast, ForecastPoint
from oms.domain.inventory import StockLevel
from oms.domain.replenishment import SupplyTerms, plan_replenishment
from oms.services.replenishment import suggest_replenishment

END = date(2026, 3, 1)


def _forecast(
    daily: list[float], *, error_sd: float = 2.0, sku: str = "TEE", location: str = "WH1"
) -> DemandForecast:
    points = tuple(
        ForecastPoint(END + timedelta(days=i + 1), m, m, m, m, m) for i, m in enumerate(daily)
    )
    return DemandForecast(
        sku=sku,
        location=location,
        made_at=datetime(2026, 3, 2, tzinfo=UTC),
        history_end=END,
        model="AutoETS",
        demand_class="smooth",
        points=points,
        backtest=Backtest(mase=0.8, origins=3),
        error_sd=error_sd,
    )


def test_levels_follow_the_forecast_over_lead_time_and_review_period() -> None:
    daily = [10.0] * 7 + [20.0] * 21  # demand doubles after a week
    plan = plan_replenishment(
        forecast=_forecast(daily, error_sd=4.0),
        position=50,
        terms=SupplyTerms(lead_time_days=9, review_period_days=7, service_level=0.95),
    )
    # z(0.95) = 1.645; 1.645 * 4 * sqrt(9) = 19.7 -> 20
    assert plan.safety_stock == 20
    assert plan.demand_over_lead_time == 7 * 10 + 2 * 20
    assert plan.reorder_point == 110 + 20
    assert plan.order_up_to == 70 + 9 * 20 + 20
    assert plan.quantity == plan.order_up_to - 50
    assert "order 220" in plan.reason


@pytest.mark.parametrize(
    ("error_sd", "level", "expected"),
    [(0.0, 0.95, 0), (1.0, 0.95, 4), (2.0, 0.95, 7), (2.0, 0.99, 10), (2.0, 0.5, 0)],
)
def test_safety_stock_grows_with_forecast_error_and_service_level(
    error_sd: float, level: float, expected: int
) -> None:
    plan = plan_replenishment(
        forecast=_forecast([5.0] * 14, error_sd=error_sd),
        position=1000,
        terms=SupplyTerms(lead_time_days=4, service_level=level),
    )
    assert plan.safety_stock == expected
    assert plan.quantity == 0
    assert plan.reason.startswith("no order")


def test_an_order_is_raised_to_the_minimum_then_to_whole_packs() -> None:
    plan = plan_replenishment(
        forecast=_forecast([1.0] * 14, error_sd=0.0),
        position=2,
        terms=SupplyTerms(lead_time_days=3, review_period_days=2, moq=10, pack_size=4),
    )
    assert (plan.reorder_point, plan.order_up_to) == (3, 5)
    assert plan.quantity == 12  # 3 short, raised to 10, rounded up to 3 packs of 4
    assert "minimum order of 10" in plan.reason


def test_beyond_the_horizon_the_last_weeks_average_carries_on() -> None:
    plan = plan_replenishment(
        forecast=_forecast([2.0] * 7, error_sd=0.0),
        position=0,
        terms=SupplyTerms(lead_time_days=10, review_period_days=4),
    )
    assert plan.demand_over_lead_time == 20.0
    assert plan.order_up_to == 28


@pytest.mark.parametrize(
    ("terms", "pointer"),
    [
        ({"lead_time_days": 0}, "/lead_time_days"),
        ({"lead_time_days": 5, "review_period_days": -1}, "/review_period_days"),
        ({"lead_time_days": 5, "service_level": 1.0}, "/service_level"),
        ({"lead_time_days": 5, "service_level": 0.3}, "/service_level"),
        ({"lead_time_days": 5, "moq": 0}, "/moq"),
        ({"lead_time_days": 5, "pack_size": 0}, "/pack_size"),
    ],
)
def test_bad_terms_are_refused_naming_the_field(terms: dict[str, float], pointer: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        SupplyTerms(**terms)  # type: ignore[arg-type]
    assert [e.pointer for e in refused.value.errors] == [pointer]


@given(
    daily=st.lists(st.floats(0, 100), min_size=1, max_size=30),
    error_sd=st.floats(0, 50),
    position=st.integers(-50, 500),
    lead=st.integers(1, 40),
    review=st.integers(0, 30),
    moq=st.integers(1, 50),
    pack=st.integers(1, 24),
)
def test_an_order_is_whole_packs_at_least_the_minimum_and_reaches_the_order_up_to_level(
    daily: list[float],
    error_sd: float,
    position: int,
    lead: int,
    review: int,
    moq: int,
    pack: int,
) -> None:
    plan = plan_replenishment(
        forecast=_forecast(daily, error_sd=error_sd),
        position=position,
        terms=SupplyTerms(lead_time_days=lead, review_period_days=review, moq=moq, pack_size=pack),
    )
    assert plan.safety_stock >= 0
    assert plan.reorder_point <= plan.order_up_to
    if position <= plan.reorder_point:
        assert plan.quantity % pack == 0
        assert plan.quantity >= moq
        assert position + plan.quantity >= plan.order_up_to
        assert position + plan.quantity - plan.order_up_to < moq + pack
    else:
        assert plan.quantity == 0


def test_suggestions_take_stock_per_location_and_leave_out_skus_with_nothing_to_order() -> None:
    tenant_id = uuid4()
    uow = MemoryDemandUow()
    wh1 = Location(id=uuid4(), code="WH1", name="WH1", kind=LocationKind.WAREHOUSE)
    wh2 = Location(id=uuid4(), code="WH2", name="WH2", kind=LocationKind.WAREHOUSE)
    uow.locations.known += [wh1, wh2]
    uow.demand.put_forecasts(
        tenant_id,
        [_forecast([5.0] * 14, sku="LOW", error_sd=0), _forecast([5.0] * 14, sku="FULL")],
    )
    uow.inventory.stock += [
        StockLevel("LOW", wh1.id, on_hand=8, reserved=3),
        StockLevel("LOW", wh2.id, on_hand=500, reserved=0),  # another location's stock
        StockLevel("FULL", wh1.id, on_hand=400, reserved=0),
    ]
    terms = SupplyTerms(lead_time_days=2, review_period_days=2, supplier="Acme")
    found = suggest_replenishment(
        uow_factory=uow, tenant_id=tenant_id, terms=terms, today=END, location="WH1"
    )
    assert [(p.sku, p.position, p.quantity) for p in found.plans] == [("LOW", 5, 15)]
    every = suggest_replenishment(
        uow_factory=uow,
        tenant_id=tenant_id,
        terms=terms,
        today=END,
        location="WH1",
        include_no_order=True,
    )
    assert [p.sku for p in every.plans] == ["FULL", "LOW"]
    with pytest.raises(NotFound):
        suggest_replenishment(
            uow_factory=uow, tenant_id=tenant_id, terms=terms, today=END, location="NOPE"
        )
