"""A generated world of daily demand, for benchmarks and simulations: two years (by
default) per SKU and location, drawn from a seed alone, in five classes:

* **smooth**: a level with a weekly pattern (weekends up to 1.6x), gamma-Poisson noise;
* **seasonal**: the same with a trend (-30% to +60% a year) and a yearly wave (amplitude
  0.25-0.5, peak anywhere in the year);
* **promo**: seasonal, plus five-day promotions about every two months lifting demand
  2-3x, flagged ``promo``;
* **intermittent**: a Poisson rate of 0.1-0.6 a day;
* **lumpy**: a demand on 10-30% of days, of 1-12 units.

Each SKU's demand is split over its locations (50/30/20% over three); a fifth of the
series have a stock-out spell of 5-12 days (``stockout``: sales 0 where there was demand,
as a merchant's imported history would show it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from oms.domain.demand import DailySeries

__all__ = [
    "CLASSES",
    "DAYS",
    "SMOOTH_CLASSES",
    "START",
    "GeneratedSku",
    "generate",
    "location_shares",
    "series_of",
]

START = date(2024, 1, 1)
DAYS = 730
CLASSES = ("smooth", "seasonal", "promo", "intermittent", "lumpy")
SMOOTH_CLASSES = ("smooth", "seasonal", "promo")
MIX = (0.25, 0.25, 0.15, 0.2, 0.15)
SHARES = (0.5, 0.3, 0.2)
MAX_LOCATIONS = 8

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


@dataclass
class GeneratedSku:
    """One generated SKU: its class and per-location demand (what customers wanted), its
    promotion days and, per location, the days of an imported history's stock-out spell."""

    name: str
    kind: str
    demand: list[FloatArray]
    promo: BoolArray
    stockout: list[BoolArray] = field(default_factory=list)


def location_shares(locations: int) -> tuple[float, ...]:
    """How a SKU's demand splits over ``locations`` locations (the first the biggest)."""
    if not 1 <= locations <= MAX_LOCATIONS:
        raise ValueError(f"locations must be 1 to {MAX_LOCATIONS}")
    if locations == 1:
        return (1.0,)
    if locations == len(SHARES):
        return SHARES
    weights = [1 / (j + 1) for j in range(locations)]
    return tuple(w / sum(weights) for w in weights)


def _rate(kind: str, rng: np.random.Generator, days: int) -> tuple[FloatArray, BoolArray]:
    """The expected demand per day of a SKU of ``kind`` and its promotion days."""
    t = np.arange(days, dtype=np.float64)
    dow = (START.weekday() + np.arange(days)) % 7
    weekly = np.array([0.85, 0.9, 0.9, 1.0, 1.15, 1.6, 1.3]) * rng.uniform(0.9, 1.1, 7)
    promo = np.zeros(days, dtype=bool)
    if kind == "intermittent":
        return np.full(days, rng.uniform(0.1, 0.6)), promo
    if kind == "lumpy":
        occurs = rng.random(days) < rng.uniform(0.1, 0.3)
        sizes = occurs * rng.integers(1, 13, days).astype(np.float64)
        return np.asarray(sizes, dtype=np.float64), promo
    base = rng.uniform(8, 60)
    lam: FloatArray = base * weekly[dow]
    if kind in ("seasonal", "promo"):
        growth = rng.uniform(-0.3, 0.6)
        amplitude = rng.uniform(0.25, 0.5)
        phase = rng.uniform(0, 365.25)
        lam = (
            lam
            * (1 + growth * t / 365)
            * (1 + amplitude * np.sin(2 * np.pi * (t - phase) / 365.25))
        )
    if kind == "promo":
        for start in range(int(rng.integers(10, 50)), days - 5, int(rng.integers(50, 70))):
            promo[start : start + 5] = True
        lam = np.where(promo, lam * rng.uniform(2, 3), lam)
    return np.clip(lam, 0.05, None), promo


def generate(n_skus: int, seed: int, days: int = DAYS, locations: int = 3) -> list[GeneratedSku]:
    """``n_skus`` SKUs in the class mix, each split over ``locations`` locations."""
    rng = np.random.default_rng(seed)
    shares = location_shares(locations)
    kinds = rng.choice(CLASSES, size=n_skus, p=MIX)
    out = []
    for i, kind in enumerate(kinds):
        lam, promo = _rate(str(kind), rng, days)
        if kind == "lumpy":
            total = lam
        else:  # gamma-Poisson: a little more spread than Poisson, as real demand has
            total = rng.poisson(lam * rng.gamma(20, 1 / 20, days)).astype(np.float64)
        split = np.array([rng.multinomial(int(q), shares) for q in total], dtype=np.float64)
        sku = GeneratedSku(
            f"SKU-{i:05d}", str(kind), [split[:, j].copy() for j in range(len(shares))], promo
        )
        for _ in shares:
            out_of_stock = np.zeros(days, dtype=bool)
            if rng.random() < 0.2:
                start = int(rng.integers(60, days - 40))
                out_of_stock[start : start + int(rng.integers(5, 13))] = True
            sku.stockout.append(out_of_stock)
        out.append(sku)
    return out


def series_of(skus: list[GeneratedSku], days: int = DAYS) -> tuple[list[DailySeries], list[str]]:
    """Every SKU x location as the history a merchant would import: sales (0 on stock-out
    days) and the censored flags; with each series' class."""
    series, kinds = [], []
    for sku in skus:
        for j, demand in enumerate(sku.demand):
            sold = np.where(sku.stockout[j], 0.0, demand)[:days]
            censored = (sku.stockout[j] | sku.promo)[:days]
            series.append(
                DailySeries(
                    sku.name, f"L{j}", START, tuple(sold.tolist()), tuple(censored.tolist())
                )
            )
            kinds.append(sku.kind)
    return series, kinds
