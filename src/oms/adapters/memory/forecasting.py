"""The ``ForecastEngine`` port in memory: a plain-Python forecaster for use-case tests.

It forecasts each weekday as the mean of that weekday over the last four uncensored weeks
("weekday_mean"), backtests it the way the real engine does (rolling origins, censored days
not scored, error over the seasonal-naive forecast's) and takes its intervals from the
backtest errors' spread. Nothing about it is tuned: it exists so that the services can be
tested fast and without statsforecast.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from oms.domain.demand import DailySeries
from oms.domain.forecasting import Backtest, demand_class
from oms.services.forecasting import SeriesForecast

__all__ = ["WeekdayMeanEngine"]

_WEEK = 7


def _weekday_mean(y: Sequence[float], censored: Sequence[bool], h: int) -> list[float]:
    n = len(y)
    out = []
    for i in range(h):
        same = [
            y[j]
            for j in range(n - _WEEK + (i % _WEEK), -1, -_WEEK)
            if 0 <= j < n and not censored[j]
        ][:4]
        out.append(sum(same) / len(same) if same else 0.0)
    return out


@dataclass(frozen=True)
class WeekdayMeanEngine:
    """Weekday means, backtested over ``origins`` origins ``step`` days apart."""

    origins: int = 2
    step: int = 7

    def forecast(self, series: Sequence[DailySeries], *, horizon: int) -> list[SeriesForecast]:
        return [self._one(s, horizon) for s in series]

    def _one(self, series: DailySeries, horizon: int) -> SeriesForecast:
        y, censored = series.quantities, series.censored
        n = len(y)
        origins = min(self.origins, max(0, (n - 2 * _WEEK) // self.step))
        errors: list[float] = []
        model_abs = naive_abs = 0.0
        for k in range(origins):
            origin = n - (origins - k) * self.step
            guess = _weekday_mean(y[:origin], censored[:origin], self.step)
            for i in range(self.step):
                if censored[origin + i]:
                    continue
                actual = y[origin + i]
                errors.append(actual - guess[i])
                model_abs += abs(actual - guess[i])
                naive_abs += abs(actual - y[origin - _WEEK + (i % _WEEK)])
        mase = round(model_abs / naive_abs, 4) if naive_abs > 0 else None
        sd = statistics.pstdev(errors) if len(errors) > 1 else 0.0
        mean = _weekday_mean(y, censored, horizon)
        return SeriesForecast(
            model="weekday_mean",
            demand_class=demand_class(list(y)),
            mean=tuple(mean),
            lo80=tuple(max(0.0, m - 1.2816 * sd) for m in mean),
            hi80=tuple(m + 1.2816 * sd for m in mean),
            lo95=tuple(max(0.0, m - 1.96 * sd) for m in mean),
            hi95=tuple(m + 1.96 * sd for m in mean),
            backtest=Backtest(mase=mase, origins=origins),
            error_sd=sd,
        )
