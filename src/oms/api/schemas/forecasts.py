"""Demand forecasts as the API returns them (docs/decisions.md describes the method)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from oms.domain.forecasting import BASELINE, DemandForecast

__all__ = ["ForecastRead"]


class IntervalRead(BaseModel):
    low: float
    high: float


class ForecastPointRead(BaseModel):
    day: date
    mean: float = Field(description="Expected units that day")
    p80: IntervalRead = Field(description="80% prediction interval")
    p95: IntervalRead = Field(description="95% prediction interval")


class BacktestRead(BaseModel):
    mase: float | None = Field(
        description="Backtest mean absolute error over the seasonal-naive forecast's on the "
        "same days (below 1: better than the baseline); null with too little history"
    )
    baseline: str = Field(default=BASELINE)
    origins: int = Field(description="Rolling origins the backtest used")


class ForecastRead(BaseModel):
    sku: str
    location: str | None = Field(description="Location code; null: all locations together")
    model: str = Field(description="The model the backtest chose for this series")
    demand_class: str = Field(description="smooth, erratic, intermittent or lumpy")
    made_at: datetime
    history_end: date = Field(description="The last day of history the forecast saw")
    beats_baseline: bool = Field(
        description="False flags a forecast that did not beat seasonal-naive in its backtest"
    )
    backtest: BacktestRead
    points: list[ForecastPointRead]

    @classmethod
    def of(cls, f: DemandForecast) -> ForecastRead:
        return cls(
            sku=f.sku,
            location=f.location or None,
            model=f.model,
            demand_class=f.demand_class,
            made_at=f.made_at,
            history_end=f.history_end,
            beats_baseline=f.beats_baseline,
            backtest=BacktestRead(mase=f.backtest.mase, origins=f.backtest.origins),
            points=[
                ForecastPointRead(
                    day=p.day,
                    mean=p.mean,
                    p80=IntervalRead(low=p.lo80, high=p.hi80),
                    p95=IntervalRead(low=p.lo95, high=p.hi95),
                )
                for p in f.points
            ],
        )
