"""Forecasting's pure parts and its use cases on the in-memory fakes: the sales-history
file, demand classes, daily series with censored days, the statsforecast engine on small
series (censored days imputed, not zeros; intervals nested; model by class), and
``run_forecasts`` / ``get_forecast`` storing and reading what an engine answers."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.adapters.forecasting.statsforecast_engine import StatsforecastEngine, impute_censored
from oms.adapters.memory.demand import MemoryDemandUow
from oms.adapters.memory.forecasting import WeekdayMeanEngine
from oms.domain.catalogue import Location, LocationKind
from oms.domain.demand import DailySeries, DemandDay, daily_series, parse_sales_history
from oms.domain.errors import InvalidRequest, NotFound
from oms.domain.forecasting import demand_class
from oms.services.demand import import_sales_history, refresh_order_demand
from oms.services.forecasting import get_forecast, run_forecasts

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
START = date(2025, 11, 1)


def _weekly(days: int, *, seed: int = 1, level: float = 20.0) -> list[float]:
    """Poisson demand with a strong weekly pattern (weekends double)."""
    rng = np.random.default_rng(seed)
    shape = [1.0, 0.8, 0.8, 0.9, 1.1, 2.0, 2.0]
    return [float(rng.poisson(level * shape[i % 7])) for i in range(days)]


# --- the sales-history file -------------------------------------------------------------


def test_a_sales_history_sums_rows_of_one_day_and_reads_the_optional_columns() -> None:
    text = (
        "date,sku,location,quantity,price,channel,promo\n"
        "2026-01-02,TEE,WH1,3,10.00,web,no\n"
        "2026-01-02,TEE,WH1,2,10.00,pos,yes\n"
        "2026-01-03,TEE,WH1,0,,,\n"
    )
    days = parse_sales_history(text)
    assert [(d.day.isoformat(), d.quantity, d.promo) for d in days] == [
        ("2026-01-02", 5, True),
        ("2026-01-03", 0, False),
    ]
    assert str(days[0].revenue) == "50.00"
    assert days[0].channel is None  # two channels that day


@pytest.mark.parametrize(
    ("row", "pointer"),
    [
        ("2026-13-01,TEE,WH1,1", "/rows/1/date"),
        ("2026-01-01,,WH1,1", "/rows/1/sku"),
        ("2026-01-01,TEE,,1", "/rows/1/location"),
        ("2026-01-01,TEE,WH1,-1", "/rows/1/quantity"),
        ("2026-01-01,TEE,WH1,1.5", "/rows/1/quantity"),
        ("2026-01-01,TEE,WH1,1,abc", "/rows/1/price"),
        ("2026-01-01,TEE,WH1,1,1,web,maybe", "/rows/1/promo"),
    ],
)
def test_a_bad_row_refuses_the_file_naming_the_field(row: str, pointer: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_sales_history("date,sku,location,quantity,price,channel,promo\n" + row + "\n")
    assert [e.pointer for e in refused.value.errors] == [pointer]


def test_a_file_without_the_required_columns_is_refused() -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_sales_history("day,sku,qty\n2026-01-01,TEE,1\n")
    assert "date" in refused.value.errors[0].detail
    assert "quantity" in refused.value.errors[0].detail


# --- classes and series ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantities", "expected"),
    [
        ([5, 6, 5, 4, 6, 5, 5], "smooth"),
        ([1, 20, 2, 30, 1, 15, 2], "erratic"),
        ([0, 0, 1, 0, 0, 1, 0, 0, 1], "intermittent"),
        ([0, 0, 1, 0, 0, 40, 0, 0, 2], "lumpy"),
        ([0, 0, 0], "intermittent"),
    ],
)
def test_demand_classes_follow_syntetos_boylan(quantities: list[float], expected: str) -> None:
    assert demand_class(quantities) == expected


def test_a_series_fills_missing_days_with_zero_and_sums_locations() -> None:
    days = [
        DemandDay(date(2026, 1, 1), "TEE", "WH1", 2),
        DemandDay(date(2026, 1, 1), "TEE", "WH2", 3, stockout=True),
        DemandDay(date(2026, 1, 3), "TEE", "WH1", 1),
    ]
    total = daily_series(days, sku="TEE", location="", last=date(2026, 1, 4))
    assert total is not None
    assert total.quantities == (5.0, 0.0, 1.0, 0.0)
    assert total.censored == (True, False, False, False)
    one = daily_series(days, sku="TEE", location="WH1")
    assert one is not None
    assert one.quantities == (2.0, 0.0, 1.0)
    assert daily_series(days, sku="OTHER", location="") is None


# --- the statsforecast engine --------------------------------------------------------------


def _series(values: list[float], censored: list[bool] | None = None) -> DailySeries:
    return DailySeries("TEE", "", START, tuple(values), tuple(censored or [False] * len(values)))


def test_a_weekly_pattern_is_forecast_by_a_smooth_model_that_beats_seasonal_naive() -> None:
    found = StatsforecastEngine(origins=2, step=14).forecast([_series(_weekly(140))], horizon=14)[0]
    assert found.model in ("AutoETS", "AutoTheta")
    assert found.demand_class == "smooth"
    assert found.backtest.origins == 2
    assert found.backtest.mase is not None
    assert found.backtest.mase < 1.0
    # the busy days of the pattern (every 7th day from day 5 and 6) stay the busy days
    weekend = found.mean[5] + found.mean[6]
    midweek = found.mean[1] + found.mean[2]
    assert weekend > 1.4 * midweek


def test_intermittent_demand_is_forecast_by_an_intermittent_model() -> None:
    rng = random.Random(3)
    values = [float(rng.choice([0, 0, 0, 0, 1, 2])) for _ in range(120)]
    found = StatsforecastEngine(origins=2, step=14).forecast([_series(values)], horizon=7)[0]
    assert found.model in ("CrostonOptimized", "TSB", "ADIDA")
    assert found.demand_class in ("intermittent", "lumpy")
    assert 0.0 < found.mean[0] < 2.0


def test_stock_out_days_are_not_learnt_as_zero_demand() -> None:
    values = _weekly(120, seed=5)
    censored = [False] * 120
    for i in range(100, 120):  # the last three weeks sold nothing: it was out of stock
        values[i], censored[i] = 0.0, True
    engine = StatsforecastEngine(origins=1, step=14)
    told = engine.forecast([_series(values, censored)], horizon=7)[0]
    untold = engine.forecast([_series(values)], horizon=7)[0]
    assert sum(told.mean) > 7 * 15  # about the usual week (level 20, shape mean ~1.2)
    assert sum(untold.mean) < sum(told.mean) / 2


def test_promotion_peaks_do_not_lift_the_forecast() -> None:
    values = _weekly(120, seed=7)
    censored = [False] * 120
    for i in range(110, 117):
        values[i], censored[i] = values[i] * 5, True
    engine = StatsforecastEngine(origins=1, step=14)
    told = engine.forecast([_series(values, censored)], horizon=7)[0]
    plain = _weekly(120, seed=7)
    baseline = engine.forecast([_series(plain)], horizon=7)[0]
    assert sum(told.mean) < 1.25 * sum(baseline.mean)


def test_intervals_are_nested_around_the_mean_and_never_negative() -> None:
    found = StatsforecastEngine(origins=2, step=14).forecast(
        [_series(_weekly(140, seed=2, level=3.0))], horizon=30
    )[0]
    for i in range(30):
        assert 0.0 <= found.lo95[i] <= found.lo80[i] <= found.mean[i]
        assert found.mean[i] <= found.hi80[i] <= found.hi95[i]
    assert found.error_sd > 0


def test_too_short_a_history_has_no_backtest_and_is_not_said_to_beat_the_baseline() -> None:
    found = StatsforecastEngine().forecast([_series(_weekly(30))], horizon=7)[0]
    assert found.backtest.origins == 0
    assert found.backtest.mase is None
    assert not found.backtest.beats_baseline


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 50), st.booleans()), min_size=1, max_size=60),
)
def test_imputation_keeps_uncensored_days_and_fills_censored_ones_from_real_days(
    days: list[tuple[int, bool]],
) -> None:
    y = np.array([float(q) for q, _ in days])
    censored = np.array([c for _, c in days])
    out = impute_censored(y, censored)
    assert np.array_equal(out[~censored], y[~censored])
    seen = y[~censored]
    if seen.size:
        assert np.all(out >= seen.min())
        assert np.all(out <= seen.max())


# --- the use cases on the fakes ----------------------------------------------------------


def _history(uow: MemoryDemandUow, tenant_id: object) -> None:
    uow.locations.known.append(
        Location(id=uuid4(), code="WH1", name="WH1", kind=LocationKind.WAREHOUSE)
    )
    lines = ["date,sku,location,quantity,promo"]
    for i, q in enumerate(_weekly(56, seed=9)):
        day = (NOW.date() - timedelta(days=56 - i)).isoformat()
        lines.append(f"{day},TEE,WH1,{int(q)},{'yes' if i == 50 else 'no'}")
    import_sales_history(uow_factory=uow, tenant_id=tenant_id, text="\n".join(lines))  # type: ignore[arg-type]


def test_running_forecasts_stores_one_per_sku_and_per_location_with_its_backtest() -> None:
    tenant_id = uuid4()
    uow = MemoryDemandUow()
    _history(uow, tenant_id)
    run = run_forecasts(
        uow_factory=uow, engine=WeekdayMeanEngine(), tenant_id=tenant_id, now=NOW, horizon=14
    )
    assert run.series == 2
    assert run.models["weekday_mean"] == 2
    total = get_forecast(uow_factory=uow, tenant_id=tenant_id, sku="TEE")
    at = get_forecast(uow_factory=uow, tenant_id=tenant_id, sku="TEE", location="WH1")
    assert total.location == ""
    assert at.location == "WH1"
    assert total.history_end == NOW.date() - timedelta(days=1)
    assert total.points[0].day == NOW.date()
    assert len(total.points) == 14
    assert total.backtest.origins == 2
    assert total.backtest.mase is not None
    assert total.beats_baseline == (total.backtest.mase < 1)


def test_a_sku_without_history_or_forecast_is_not_found() -> None:
    uow = MemoryDemandUow()
    with pytest.raises(NotFound):
        run_forecasts(
            uow_factory=uow, engine=WeekdayMeanEngine(), tenant_id=uuid4(), now=NOW, sku="NOPE"
        )
    with pytest.raises(NotFound):
        get_forecast(uow_factory=uow, tenant_id=uuid4(), sku="NOPE")


def test_history_naming_an_unknown_location_changes_nothing() -> None:
    uow = MemoryDemandUow()
    with pytest.raises(InvalidRequest) as refused:
        import_sales_history(
            uow_factory=uow,
            tenant_id=uuid4(),
            text="date,sku,location,quantity\n2026-01-01,TEE,ELSEWHERE,1\n",
        )
    assert "ELSEWHERE" in refused.value.errors[0].detail
    assert uow.demand.rows == {}


def test_order_demand_replaces_only_the_days_it_covers() -> None:
    tenant_id = uuid4()
    uow = MemoryDemandUow()
    today = NOW.date()
    old = DemandDay(today - timedelta(days=10), "TEE", "WH1", 4)
    uow.demand.put_days(tenant_id, [old], source="orders")
    uow.demand.order_days[tenant_id] = [DemandDay(today, "TEE", "WH1", 2)]
    stale = DemandDay(today - timedelta(days=1), "TEE", "WH1", 9)
    uow.demand.put_days(tenant_id, [stale], source="orders")
    assert refresh_order_demand(uow_factory=uow, tenant_id=tenant_id, now=NOW) == 1
    assert sorted((d.day, d.quantity) for d in uow.demand.days(tenant_id, ["TEE"])) == [
        (old.day, 4),
        (today, 2),
    ]


def test_the_fake_engine_leaves_censored_days_out_of_its_weekday_means() -> None:
    values = [10.0] * 28
    censored = [False] * 28
    values[21], censored[21] = 0.0, True  # a stock-out on the weekday of day 0
    found = WeekdayMeanEngine(origins=0).forecast([_series(values, censored)], horizon=7)[0]
    assert math.isclose(found.mean[0], 10.0)


def test_two_processes_answer_what_one_does_in_the_same_order() -> None:
    series = [_series(_weekly(70, seed=seed, level=2.0 + seed % 5)) for seed in range(60)]
    alone = StatsforecastEngine(origins=1, step=7, n_jobs=1).forecast(series, horizon=7)
    shared = StatsforecastEngine(origins=1, step=7, n_jobs=2).forecast(series, horizon=7)
    assert shared == alone
