"""The ``ForecastEngine`` on statsforecast: per series, candidates chosen by rolling-origin
backtest against the seasonal-naive forecast.

Per series:

1. **Censored days** (stock-outs, promotions) are imputed from the same weekday of the
   nearest uncensored weeks, so the models neither learn zeros nor promotion peaks, and
   they are left out of every error the backtest scores.
2. **Class** (Syntetos-Boylan, ``oms.domain.forecasting.demand_class``): smooth and erratic
   series try AutoETS and AutoTheta with a weekly season; intermittent and lumpy ones try
   CrostonOptimized, TSB and ADIDA.
3. **Yearly season**: with at least 400 days of history, a day-of-year profile (monthly
   ratios to a linear trend, interpolated between mid-months) divides the series before
   the weekly models see it and multiplies their forecasts after, when it moves demand by
   more than 20% over the year.
4. **Backtest**: ``origins`` origins ``step`` days apart, ending at the last day; parameters
   are fitted once on the history before the first origin (at most ``fit_days`` days) and
   run forward from each origin (statsforecast's ``forward``, its ``refit=False``), the way
   ``cross_validation(refit=False)`` does. The candidate with the lowest absolute error
   wins; ``mase`` is its error over the seasonal-naive forecast's.
5. **Intervals**: empirical quantiles of the winner's backtest errors per week of the
   horizon (split-conformal), widened by the square root of time beyond the backtested
   weeks, never below zero.

Series run in parallel over ``n_jobs`` processes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from multiprocessing import get_context
from typing import Any

import numpy as np
from statsforecast.models import ADIDA, TSB, AutoETS, AutoTheta, CrostonOptimized

from oms.domain.demand import DailySeries
from oms.domain.forecasting import Backtest, demand_class
from oms.services.forecasting import SeriesForecast

__all__ = ["StatsforecastEngine"]

_YEARLY_MIN_DAYS = 400
_YEARLY_MIN_SWING = 0.2

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


@dataclass(frozen=True)
class StatsforecastEngine:
    """``origins`` backtest origins ``step`` days apart, each scored over ``step`` days;
    parameters fitted on at most ``fit_days`` days; ``n_jobs`` processes (-1: one per CPU).
    ``season_length`` is the short season in periods (7: a week of days) and ``yearly``
    whether a yearly profile is tried (daily series only); ``ets_model`` and
    ``theta_model`` narrow AutoETS's and AutoTheta's searches (their cost grows with it)."""

    origins: int = 3
    step: int = 28
    fit_days: int = 182
    n_jobs: int = 1
    season_length: int = 7
    yearly: bool = True
    ets_model: str = "ANA"
    theta_model: str = "OTM"

    def forecast(self, series: Sequence[DailySeries], *, horizon: int) -> list[SeriesForecast]:
        jobs = (os.cpu_count() or 1) if self.n_jobs < 0 else self.n_jobs
        if jobs <= 1 or len(series) < 50:
            return [self.one(s, horizon) for s in series]
        chunk = max(1, math.ceil(len(series) / (jobs * 8)))
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
            return list(pool.map(self._one_packed, [(s, horizon) for s in series], chunksize=chunk))

    def _fit(self, name: str, y: FloatArray) -> Any:
        if name == "AutoETS":
            return AutoETS(season_length=self.season_length, model=self.ets_model).fit(y)
        if name == "AutoTheta":
            return AutoTheta(season_length=self.season_length, model=self.theta_model).fit(y)
        return None  # the intermittent models are refitted at each origin: microseconds

    def _one_packed(self, job: tuple[DailySeries, int]) -> SeriesForecast:
        return self.one(*job)

    def one(self, series: DailySeries, horizon: int) -> SeriesForecast:
        """The forecast of one series."""
        y = np.asarray(series.quantities, dtype=np.float64)
        censored = np.asarray(series.censored, dtype=bool)
        season_length = self.season_length
        y = impute_censored(y, censored, season_length)
        kind = demand_class(y[-365:].tolist())
        smooth = kind in ("smooth", "erratic")
        n = len(y)
        origins = min(self.origins, max(0, (n - 5 * season_length) // self.step))
        cut = n - origins * self.step
        yearly = smooth and self.yearly
        profile = _yearly_profile(y[:cut], series.start.toordinal()) if yearly else None
        season = (
            _season_at(profile, series.start.toordinal(), n + horizon)
            if profile is not None
            else np.ones(n + horizon)
        )
        z = y / season[:n]
        names = ["AutoETS", "AutoTheta"] if smooth else ["CrostonOptimized", "TSB", "ADIDA"]
        train = z[max(0, cut - self.fit_days) : cut]
        fitted = {name: self._fit(name, train) for name in names}
        mask = ~censored
        errors: dict[str, list[FloatArray]] = {name: [] for name in names}
        naive_abs = 0.0
        for k in range(origins):
            origin = cut + k * self.step
            actual = y[origin : origin + self.step]
            keep = mask[origin : origin + self.step]
            naive = _seasonal_naive(y[:origin], self.step, season_length)
            naive_abs += float(np.abs(actual - naive)[keep].sum())
            for name in names:
                guess = _run(name, fitted[name], z[:origin], self.step)
                guess = guess * season[origin : origin + self.step]
                errors[name].append(np.where(keep, actual - guess, np.nan))
        if origins:
            scores = {name: float(np.nansum(np.abs(np.stack(e)))) for name, e in errors.items()}
            best = min(names, key=lambda name: scores[name])
            mase = scores[best] / naive_abs if naive_abs > 0 else None
            residuals = np.stack(errors[best])
        else:
            best, mase = names[0], None
            residuals = (y[season_length:] - y[:-season_length])[None, :]
        mean = _run(best, fitted[best], z, horizon) * season[n:]
        mean = np.clip(mean, 0.0, None)
        bounds = _interval_bounds(mean, residuals, season_length)
        valid = residuals[~np.isnan(residuals)]
        return SeriesForecast(
            model=best,
            demand_class=kind,
            mean=tuple(mean.tolist()),
            lo80=bounds[0],
            hi80=bounds[1],
            lo95=bounds[2],
            hi95=bounds[3],
            backtest=Backtest(mase=None if mase is None else round(mase, 4), origins=origins),
            error_sd=float(valid.std()) if valid.size > 1 else 0.0,
        )


def impute_censored(y: FloatArray, censored: BoolArray, season_length: int = 7) -> FloatArray:
    """``y`` with each censored day replaced by the median of the same weekday in up to four
    uncensored weeks either side (the series' uncensored mean if there are none)."""
    if not censored.any():
        return y
    out = y.copy()
    fallback = float(y[~censored].mean()) if (~censored).any() else 0.0
    n = len(y)
    for i in np.flatnonzero(censored):
        near = [
            y[j]
            for k in range(1, 5)
            for j in (i - k * season_length, i + k * season_length)
            if 0 <= j < n and not censored[j]
        ]
        out[i] = float(np.median(near)) if near else fallback
    return out


def _yearly_profile(y: FloatArray, start_ordinal: int) -> FloatArray | None:
    """Twelve monthly factors (mean 1) of demand over a linear trend, or None if the history
    is too short or the year moves demand by less than 20%."""
    n = len(y)
    if n < _YEARLY_MIN_DAYS or y.mean() <= 0:
        return None
    t = np.arange(n, dtype=np.float64)
    slope, intercept = np.polyfit(t, y, 1)
    trend = np.clip(intercept + slope * t, 1e-9, None)
    months = _months(start_ordinal, n)
    ratio = y / trend
    factors = np.array(
        [ratio[months == m].mean() if (months == m).any() else 1.0 for m in range(12)]
    )
    factors = factors / factors.mean()
    if factors.max() - factors.min() < _YEARLY_MIN_SWING or factors.min() <= 0:
        return None
    return np.asarray(factors, dtype=np.float64)


def _days(start_ordinal: int, n: int) -> np.ndarray[Any, np.dtype[np.datetime64]]:
    start = np.datetime64(date.fromordinal(start_ordinal), "D")
    return start + np.arange(n)


def _months(start_ordinal: int, n: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    days = _days(start_ordinal, n)
    return (days.astype("datetime64[M]").astype(np.int64) % 12).astype(np.int64)


def _season_at(factors: FloatArray, start_ordinal: int, n: int) -> FloatArray:
    """The yearly factor of each of ``n`` days from the start, interpolated between the
    middles of the months (circularly, so December flows into January)."""
    days = _days(start_ordinal, n)
    day_of_year = (days - days.astype("datetime64[Y]")).astype(np.float64) + 1
    mids = np.arange(12) * (365.25 / 12) + 15.2
    xs = np.concatenate([mids - 365.25, mids, mids + 365.25])
    ys = np.concatenate([factors, factors, factors])
    return np.asarray(np.interp(day_of_year, xs, ys), dtype=np.float64)


def _run(name: str, fitted: Any, y: FloatArray, h: int) -> FloatArray:
    """``h`` days ahead of ``y`` by the model ``name`` (the smooth ones with the parameters
    fitted before the first origin)."""
    if fitted is not None:
        return np.asarray(fitted.forward(y=y, h=h)["mean"], dtype=np.float64)
    model = (
        CrostonOptimized()
        if name == "CrostonOptimized"
        else TSB(alpha_d=0.1, alpha_p=0.1)
        if name == "TSB"
        else ADIDA()
    )
    return np.asarray(model.forecast(y=y, h=h)["mean"], dtype=np.float64)


def _seasonal_naive(y: FloatArray, h: int, season_length: int) -> FloatArray:
    """The same period of the last season (the same weekday last week), repeated."""
    last = y[-season_length:]
    return np.array([last[i % season_length] for i in range(h)], dtype=np.float64)


_QUANTILES = (10.0, 90.0, 2.5, 97.5)


def _interval_bounds(mean: FloatArray, residuals: FloatArray, week: int) -> list[tuple[float, ...]]:
    """lo80, hi80, lo95, hi95: the mean plus the backtest errors' quantiles of the same week
    of the horizon (the last backtested week's, widened by sqrt of time, beyond)."""
    horizon = len(mean)
    weeks = max(1, math.ceil(residuals.shape[1] / week))
    per_week = []
    for w in range(weeks):
        chunk = residuals[:, w * week : (w + 1) * week]
        valid = chunk[~np.isnan(chunk)]
        if valid.size == 0:
            valid = residuals[~np.isnan(residuals)] if (~np.isnan(residuals)).any() else np.zeros(1)
        per_week.append(np.percentile(valid, _QUANTILES))
    out: list[list[float]] = [[], [], [], []]
    for i in range(horizon):
        w = i // week
        q = per_week[min(w, weeks - 1)]
        if w >= weeks:
            q = q * math.sqrt((w + 1) / weeks)
        m = float(mean[i])
        out[0].append(max(0.0, min(m, m + q[0])))
        out[1].append(max(m, m + q[1]))
        out[2].append(max(0.0, min(m, m + q[2])))
        out[3].append(max(m, m + q[3]))
    return [tuple(b) for b in out]
