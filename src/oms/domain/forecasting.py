"""Demand forecasts as values: the daily points with their 80% and 95% intervals, the model
that made them and how it did in a rolling-origin backtest against the seasonal-naive
forecast (the same weekday last week).

``mase`` here is the forecast's mean absolute error over the backtest divided by the
seasonal-naive forecast's over the same days and origins: below 1 the model beat the
baseline; a forecast that does not is flagged (``beats_baseline`` False) and a planner should
treat it with suspicion. Censored days (stock-outs, promotions) are not scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

__all__ = [
    "BASELINE",
    "DEMAND_CLASSES",
    "Backtest",
    "DemandForecast",
    "ForecastPoint",
    "demand_class",
]

BASELINE = "seasonal_naive"

DEMAND_CLASSES = ("smooth", "erratic", "intermittent", "lumpy")
"""Syntetos-Boylan classes: by the average interval between demands (ADI, in days) and the
squared coefficient of variation of the demand sizes (CV²), cut at 1.32 and 0.49."""

_ADI_CUT = 1.32
_CV2_CUT = 0.49


def demand_class(quantities: Sequence[float]) -> str:
    """The Syntetos-Boylan class of a daily series: smooth and erratic demand comes most
    days; intermittent and lumpy demand comes on fewer than about three days in four."""
    sizes = [q for q in quantities if q > 0]
    if not sizes:
        return "intermittent"
    adi = len(quantities) / len(sizes)
    mean = sum(sizes) / len(sizes)
    cv2 = (sum((s - mean) ** 2 for s in sizes) / len(sizes)) / (mean * mean)
    if adi > _ADI_CUT:
        return "lumpy" if cv2 > _CV2_CUT else "intermittent"
    return "erratic" if cv2 > _CV2_CUT else "smooth"


@dataclass(frozen=True)
class Backtest:
    """How the chosen model did over ``origins`` rolling origins: ``mase`` against the
    seasonal-naive forecast (None when there was too little history or nothing to score)."""

    mase: float | None
    origins: int
    baseline: str = BASELINE

    @property
    def beats_baseline(self) -> bool:
        """True when the model's backtest error was below the seasonal-naive forecast's."""
        return self.mase is not None and self.mase < 1.0


@dataclass(frozen=True)
class ForecastPoint:
    """One day's expected demand and its 80% and 95% prediction intervals (never below 0)."""

    day: date
    mean: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float


@dataclass(frozen=True)
class DemandForecast:
    """The forecast of one SKU (at one location, or ``""``: all of them together), made at
    ``made_at`` from history up to ``history_end``. ``error_sd`` is the standard deviation
    of the backtest's daily errors: replenishment sizes safety stock from it."""

    sku: str
    location: str
    made_at: datetime
    history_end: date
    model: str
    demand_class: str
    points: tuple[ForecastPoint, ...]
    backtest: Backtest
    error_sd: float

    @property
    def beats_baseline(self) -> bool:
        """See ``Backtest.beats_baseline``."""
        return self.backtest.beats_baseline

    def demand_over(self, days: int, *, first: date | None = None) -> float:
        """Expected demand over ``days`` days from ``first`` (default the first forecast
        day); beyond the horizon the last week's average carries on."""
        start = first or (self.history_end + timedelta(days=1))
        by_day = {p.day: p.mean for p in self.points}
        tail = [p.mean for p in self.points[-7:]]
        carry = sum(tail) / len(tail) if tail else 0.0
        return sum(by_day.get(start + timedelta(days=i), carry) for i in range(days))
