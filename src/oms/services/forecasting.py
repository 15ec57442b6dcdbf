"""Demand forecasts: run them for a tenant's SKUs (``oms forecast run``, nightly in the
worker) and read the latest one (``GET /v1/forecasts/{sku}``).

The numbers come from a ``ForecastEngine`` (``oms.adapters.forecasting.statsforecast_engine``
chooses per series among AutoETS, AutoTheta, Croston, TSB and ADIDA by rolling-origin
backtest; ``oms.adapters.memory.forecasting`` is a small fake for tests). This module reads
the history, hands the engine whole series, and stores what it answers. docs/decisions.md
describes the method.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from oms.domain.demand import ALL_LOCATIONS, DailySeries, DemandDay, daily_series
from oms.domain.errors import NotFound
from oms.domain.forecasting import Backtest, DemandForecast, ForecastPoint
from oms.services.ports import UnitOfWorkFactory

__all__ = [
    "DEFAULT_HORIZON",
    "ForecastEngine",
    "ForecastRun",
    "SeriesForecast",
    "get_forecast",
    "run_forecasts",
]

DEFAULT_HORIZON = 56
"""Days forecast ahead: long enough for a lead time plus a review period of a few weeks."""

_BATCH_SKUS = 500


@dataclass(frozen=True)
class SeriesForecast:
    """What an engine answers for one series: the chosen model, the horizon's daily means
    and 80%/95% bounds (from the first day after the series), and its backtest."""

    model: str
    demand_class: str
    mean: tuple[float, ...]
    lo80: tuple[float, ...]
    hi80: tuple[float, ...]
    lo95: tuple[float, ...]
    hi95: tuple[float, ...]
    backtest: Backtest
    error_sd: float


class ForecastEngine(Protocol):
    """Forecasts many daily series at once.

    For each series (every day from its start, censored days marked: their values are not
    ordinary demand and must be neither trained on as zeros nor scored) answer, in the same
    order, ``horizon`` daily points with 80% and 95% intervals, the model chosen and its
    rolling-origin backtest against the seasonal-naive forecast."""

    def forecast(self, series: Sequence[DailySeries], *, horizon: int) -> list[SeriesForecast]: ...


@dataclass
class ForecastRun:
    """What a run did: series forecast, how many beat the seasonal-naive baseline in their
    backtest, and the models chosen."""

    series: int = 0
    beating_baseline: int = 0
    models: Counter[str] = field(default_factory=Counter)


def _as_forecast(series: DailySeries, found: SeriesForecast, now: datetime) -> DemandForecast:
    first = series.end + timedelta(days=1)
    points = tuple(
        ForecastPoint(
            day=first + timedelta(days=i),
            mean=round(found.mean[i], 4),
            lo80=round(found.lo80[i], 4),
            hi80=round(found.hi80[i], 4),
            lo95=round(found.lo95[i], 4),
            hi95=round(found.hi95[i], 4),
        )
        for i in range(len(found.mean))
    )
    return DemandForecast(
        sku=series.sku,
        location=series.location,
        made_at=now,
        history_end=series.end,
        model=found.model,
        demand_class=found.demand_class,
        points=points,
        backtest=found.backtest,
        error_sd=round(found.error_sd, 4),
    )


def _series_of(mine: Sequence[DemandDay], sku: str, last_day: datetime) -> list[DailySeries]:
    """The SKU's series (from its days ``mine``) over all locations, then one per location
    that has demand."""
    last = last_day.date()
    by_location: dict[str, list[DemandDay]] = defaultdict(list)
    for d in mine:
        by_location[d.location].append(d)
    found = [daily_series(mine, sku=sku, location=ALL_LOCATIONS, last=last)]
    found += [
        daily_series(by_location[key], sku=sku, location=key, last=last)
        for key in sorted(by_location)
        if key != ALL_LOCATIONS
    ]
    return [s for s in found if s is not None and s.end <= last]


def run_forecasts(
    *,
    uow_factory: UnitOfWorkFactory,
    engine: ForecastEngine,
    tenant_id: UUID,
    now: datetime,
    sku: str | None = None,
    horizon: int = DEFAULT_HORIZON,
) -> ForecastRun:
    """Forecast every SKU of the tenant (or one), in total and per location, from history up
    to yesterday (UTC), and store the forecasts; a batch of SKUs per transaction."""
    yesterday = now - timedelta(days=1)
    with uow_factory(readonly=True) as uow:
        skus = [sku] if sku is not None else uow.demand.skus(tenant_id)
    run = ForecastRun()
    for start in range(0, len(skus), _BATCH_SKUS):
        batch = skus[start : start + _BATCH_SKUS]
        by_sku: dict[str, list[DemandDay]] = defaultdict(list)
        with uow_factory(readonly=True) as uow:
            for day in uow.demand.days(tenant_id, batch):
                by_sku[day.sku].append(day)
        series = [s for one in batch for s in _series_of(by_sku[one], one, yesterday)]
        if not series:
            continue
        found = engine.forecast(series, horizon=horizon)
        forecasts = [_as_forecast(s, f, now) for s, f in zip(series, found, strict=True)]
        with uow_factory() as uow:
            uow.demand.put_forecasts(tenant_id, forecasts)
            uow.commit()
        run.series += len(forecasts)
        run.beating_baseline += sum(1 for f in forecasts if f.beats_baseline)
        run.models.update(f.model for f in forecasts)
    if sku is not None and run.series == 0:
        raise NotFound(f"no demand history for SKU {sku!r}")
    return run


def get_forecast(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, sku: str, location: str | None = None
) -> DemandForecast:
    """The latest forecast of ``sku`` (at the location with code ``location``, or over all
    locations); NotFound if none was made."""
    key = location or ALL_LOCATIONS
    with uow_factory(readonly=True) as uow:
        found = uow.demand.forecast(tenant_id, sku, key)
    if found is None:
        where = f" at {location}" if location else ""
        raise NotFound(f"no forecast for SKU {sku!r}{where}: run `oms forecast run`")
    return found
