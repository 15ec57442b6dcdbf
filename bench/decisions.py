"""Forecasting and replenishment: accuracy, speed and a replay against static min/max.

Run it from the project root::

    .venv/bin/python bench/decisions.py [--only accuracy,real,speed,replay] [--skus 300]
        [--series 10000] [--jobs 2] [--replay-skus 40] [--seed 7] [--no-plots]

What it builds, from ``--seed`` alone, is two years of daily demand (730 days from
2024-01-01) per SKU and location, in five classes:

* **smooth**: a level with a weekly pattern (weekends up to 1.6x), gamma-Poisson noise;
* **seasonal**: the same with a trend (-30% to +60% a year) and a yearly wave (amplitude
  0.25-0.5, peak anywhere in the year);
* **promo**: seasonal, plus five-day promotions about every two months lifting demand
  2-3x, flagged ``promo`` in the history;
* **intermittent**: a Poisson rate of 0.1-0.6 a day;
* **lumpy**: a demand on 10-30% of days, of 1-12 units.

Each SKU's demand is split over three locations (50/30/20%); a fifth of the series have a
stock-out spell of 5-12 days (sales 0 where there was demand, flagged ``stockout``).

Sections:

* ``accuracy``: ``--skus`` SKUs x 3 locations through ``StatsforecastEngine`` (the engine
  ``oms forecast run`` uses); per class the median backtest MASE against seasonal-naive
  (the rolling-origin backtest of the engine itself: 3 origins 28 days apart, each scored
  over 28 days, censored days not scored), the share that beat the baseline, the models.
* ``real``: the same engine on two public series statsmodels ships inside its package
  (no download): Mauna Loa CO2 (weekly, 1958-2001, season 52) and the euro-area
  electrical equipment index (monthly, 1995-2016, season 12).
* ``speed``: ``--series`` series of 730 days (the class mix above) forecast with
  ``--jobs`` processes; wall time, CPU time, the load average of the machine at the time,
  and the run's median MASE per class (quality at that speed).
* ``replay``: ``--replay-skus`` SKUs at one location; the first year is imported history,
  the second is played day by day through the real use cases (``refresh_order_demand``,
  ``run_forecasts`` every 28 days on an injected clock, ``plan_replenishment`` daily)
  with a lead time and review period of 7 days and lost sales; against a static min/max
  (Odoo-style: min = mean x lead time + k x sd x sqrt(lead time), max = min + mean x
  review period, from the first year, fixed) whose k is bisected until its average stock
  equals the forecast policy's. Stock-out days (a SKU-day with unmet demand) and fill
  rate (units sold / units demanded) of both. A day that ends with nothing on hand goes
  in as a stock sample at 0 (what the worker records), which ``refresh_order_demand``
  turns into censored demand; a third run leaves that out (stock-outs read as sales) to
  show what the censoring is worth.

Plots (PNG, matplotlib Agg) go to docs/img/decisions_*.png unless ``--no-plots``.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from oms.adapters.forecasting.statsforecast_engine import StatsforecastEngine
from oms.adapters.memory.demand import MemoryDemandUow
from oms.domain.catalogue import Location, LocationKind
from oms.domain.demand import DailySeries, DemandDay
from oms.domain.replenishment import SupplyTerms, plan_replenishment
from oms.services.demand import refresh_order_demand
from oms.services.forecasting import SeriesForecast, run_forecasts

START = date(2024, 1, 1)
DAYS = 730
CLASSES = ("smooth", "seasonal", "promo", "intermittent", "lumpy")
SMOOTH_CLASSES = ("smooth", "seasonal", "promo")
MIX = (0.25, 0.25, 0.15, 0.2, 0.15)
SHARES = (0.5, 0.3, 0.2)
IMG = Path(__file__).resolve().parents[1] / "docs" / "img"

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass
class Sku:
    """One generated SKU: its class and per-location true demand, sales and flags."""

    name: str
    kind: str
    demand: list[FloatArray]  # per location: what customers wanted
    promo: FloatArray  # bool per day
    stockout: list[FloatArray] = field(default_factory=list)  # bool per day, per location


def _rate(kind: str, rng: np.random.Generator, days: int) -> tuple[FloatArray, FloatArray]:
    """The expected demand per day of a SKU of ``kind`` and its promotion days."""
    t = np.arange(days, dtype=np.float64)
    dow = (START.weekday() + np.arange(days)) % 7
    weekly = np.array([0.85, 0.9, 0.9, 1.0, 1.15, 1.6, 1.3]) * rng.uniform(0.9, 1.1, 7)
    promo = np.zeros(days, dtype=bool)
    if kind == "intermittent":
        return np.full(days, rng.uniform(0.1, 0.6)), promo
    if kind == "lumpy":
        occurs = rng.random(days) < rng.uniform(0.1, 0.3)
        return occurs * rng.integers(1, 13, days).astype(np.float64), promo
    base = rng.uniform(8, 60)
    lam = base * weekly[dow]
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


def generate(n_skus: int, seed: int, days: int = DAYS, locations: int = 3) -> list[Sku]:
    """``n_skus`` SKUs in the class mix, each split over ``locations`` locations."""
    rng = np.random.default_rng(seed)
    kinds = rng.choice(CLASSES, size=n_skus, p=MIX)
    out = []
    for i, kind in enumerate(kinds):
        lam, promo = _rate(str(kind), rng, days)
        if kind == "lumpy":
            total = lam
        else:  # gamma-Poisson: a little more spread than Poisson, as real demand has
            total = rng.poisson(lam * rng.gamma(20, 1 / 20, days)).astype(np.float64)
        shares = SHARES[:locations] if locations > 1 else (1.0,)
        split = np.array([rng.multinomial(int(q), shares) for q in total], dtype=np.float64)
        sku = Sku(
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


def series_of(skus: list[Sku], days: int = DAYS) -> tuple[list[DailySeries], list[str]]:
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


# --- accuracy --------------------------------------------------------------------------


def accuracy(args: argparse.Namespace) -> None:
    skus = generate(args.skus, args.seed)
    series, kinds = series_of(skus)
    engine = StatsforecastEngine(n_jobs=args.jobs)
    started = time.perf_counter()
    found = engine.forecast(series, horizon=56)
    took = time.perf_counter() - started
    print(f"\n== accuracy: {len(series)} series ({args.skus} SKUs x 3 locations), {took:.1f} s")
    print(f"{'class':<13}{'series':>7}{'median MASE':>13}{'p25':>7}{'p75':>7}{'beat':>7}  models")
    by_class: dict[str, list[SeriesForecast]] = defaultdict(list)
    for kind, f in zip(kinds, found, strict=True):
        by_class[kind].append(f)
    mases: dict[str, list[float]] = {}
    for kind in CLASSES:
        got = by_class.get(kind, [])
        values = [f.backtest.mase for f in got if f.backtest.mase is not None]
        mases[kind] = values
        if not values:
            continue
        q = np.percentile(values, [25, 50, 75])
        beat = sum(1 for f in got if f.backtest.beats_baseline) / len(got)
        models = defaultdict(int)
        for f in got:
            models[f.model] += 1
        top = ", ".join(f"{m} {n}" for m, n in sorted(models.items(), key=lambda kv: -kv[1]))
        print(f"{kind:<13}{len(got):>7}{q[1]:>13.3f}{q[0]:>7.3f}{q[2]:>7.3f}{beat:>7.0%}  {top}")
    smooth = [v for k in SMOOTH_CLASSES for v in mases[k]]
    print(f"smooth classes together: median MASE {statistics.median(smooth):.3f} (aim < 0.9)")
    if not args.no_plots:
        _plot_mase(mases)
        _plot_example(args.seed)


def _plot_mase(mases: dict[str, list[float]]) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.boxplot([mases[k] for k in CLASSES], showfliers=False)
    ax.set_xticks(range(1, len(CLASSES) + 1), CLASSES)
    ax.axhline(1.0, color="grey", lw=1, ls="--", label="seasonal-naive")
    ax.axhline(0.9, color="tab:green", lw=1, ls=":", label="aim 0.9 (smooth classes)")
    ax.set_ylabel("backtest MASE vs seasonal-naive")
    ax.set_title("Forecast accuracy by demand class (lower is better)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(IMG / "decisions_mase.png", dpi=110)
    plt.close(fig)


def _plot_example(seed: int) -> None:
    """A seasonal SKU: the last 120 days of history, the 56-day forecast with its 80% and
    95% intervals, and what demand then was."""
    import matplotlib.pyplot as plt

    rng_seed = seed
    while True:
        [sku] = generate(1, rng_seed, days=DAYS + 56, locations=1)
        if sku.kind == "seasonal":
            break
        rng_seed += 1
    demand = sku.demand[0]
    history = DailySeries(sku.name, "", START, tuple(demand[:DAYS].tolist()), (False,) * DAYS)
    f = StatsforecastEngine().forecast([history], horizon=56)[0]
    x_hist = np.arange(DAYS - 120, DAYS)
    x_next = np.arange(DAYS, DAYS + 56)
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(x_hist, demand[DAYS - 120 : DAYS], color="black", lw=0.8, label="history")
    ax.plot(x_next, demand[DAYS:], color="grey", lw=0.8, label="actual (held out)")
    ax.fill_between(x_next, f.lo95, f.hi95, color="tab:blue", alpha=0.15, label="95%")
    ax.fill_between(x_next, f.lo80, f.hi80, color="tab:blue", alpha=0.3, label="80%")
    ax.plot(x_next, f.mean, color="tab:blue", lw=1.5, label=f"forecast ({f.model})")
    ax.set_xlabel("day")
    ax.set_ylabel("units")
    ax.set_title(f"A seasonal SKU: backtest MASE {f.backtest.mase}")
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    fig.tight_layout()
    fig.savefig(IMG / "decisions_forecast.png", dpi=110)
    plt.close(fig)


# --- real series ---------------------------------------------------------------------------


def real(_args: argparse.Namespace) -> None:
    from statsmodels.datasets import co2, elec_equip

    print("\n== public series shipped with statsmodels (no download)")
    weekly = co2.load_pandas().data["co2"].interpolate().to_numpy(dtype=np.float64)
    monthly = elec_equip.load().data.iloc[:, 0].to_numpy(dtype=np.float64)
    for name, values, season in (
        ("co2 (Mauna Loa, weekly)", weekly, 52),
        ("elec_equip (euro area, monthly)", monthly, 12),
    ):
        engine = StatsforecastEngine(
            season_length=season, step=season, fit_days=10**6, yearly=False
        )
        series = DailySeries(name, "", START, tuple(values.tolist()), (False,) * len(values))
        f = engine.forecast([series], horizon=season)[0]
        print(
            f"{name:<34} {len(values):>5} points, season {season:>2}, class "
            f"{f.demand_class}: model {f.model}, "
            f"MASE {f.backtest.mase} over {f.backtest.origins} origins"
        )


# --- speed -------------------------------------------------------------------------------


def speed(args: argparse.Namespace) -> None:
    skus = generate(math.ceil(args.series / 3), args.seed + 1)
    series, kinds = series_of(skus)
    series = series[: args.series]
    engine = StatsforecastEngine(n_jobs=args.jobs)
    load = os.getloadavg()[0]
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    found = engine.forecast(series, horizon=56)
    took = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    counts = {k: kinds[: args.series].count(k) for k in CLASSES}
    print(
        f"\n== speed: {len(series)} series of {DAYS} days, {args.jobs} processes: "
        f"{took:.1f} s wall ({len(series) / took:.0f} series/s), {cpu:.1f} s of CPU "
        f"(so {cpu / args.jobs:.1f} s on {args.jobs} idle cores); load average before "
        f"{load:.1f}, after {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; mix {counts}"
    )
    # The same run's backtests: quality at this speed (the selection rule is the same).
    by_class: dict[str, list[float]] = {}
    for kind, one in zip(kinds[: args.series], found, strict=True):
        if one.backtest.mase is not None:
            by_class.setdefault(kind, []).append(one.backtest.mase)
    print(
        "   median MASE vs seasonal-naive in this run: "
        + ", ".join(f"{kind} {statistics.median(v):.3f}" for kind, v in by_class.items())
    )


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the engine's workers)."""
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


# --- replay ------------------------------------------------------------------------------

LEAD, REVIEW = 7, 7
REFRESH = 28


@dataclass
class Outcome:
    stock_days: float = 0.0  # sum over SKU-days of units on hand at the end of the day
    stockout_days: int = 0
    demanded: float = 0.0
    sold: float = 0.0
    trace: dict[str, list[float]] = field(default_factory=dict)


def _replay_static(skus: list[Sku], k: float, keep: str | None = None) -> Outcome:
    out = Outcome()
    for sku in skus:
        demand = sku.demand[0]
        first_year = demand[:365]
        mu, sd = float(first_year.mean()), float(first_year.std())
        low = mu * LEAD + k * sd * math.sqrt(LEAD)
        high = low + mu * REVIEW
        _simulate(
            sku,
            out,
            lambda position, low=low, high=high: (
                math.ceil(high - position) if position <= low else 0
            ),
            keep,
        )
    return out


def _simulate(sku: Sku, out: Outcome, decide: Any, keep: str | None) -> None:
    demand = sku.demand[0]
    on_hand = math.ceil(float(demand[:365].mean()) * (LEAD + REVIEW))
    arriving: dict[int, int] = defaultdict(int)
    trace = []
    for day in range(365, DAYS):
        on_hand += arriving.pop(day, 0)
        want = float(demand[day])
        sold = min(on_hand, want)
        on_hand -= int(sold)
        out.demanded += want
        out.sold += sold
        out.stockout_days += int(want > sold)
        out.stock_days += on_hand
        trace.append(on_hand)
        position = on_hand + sum(arriving.values())
        quantity = decide(position)
        if quantity > 0:
            arriving[day + LEAD] += quantity
    if keep == sku.name:
        out.trace[sku.name] = trace


def _replay_forecast(
    skus: list[Sku],
    service_level: float,
    jobs: int,
    keep: str | None = None,
    censor: bool = True,
) -> Outcome:
    """The forecast policy through the real use cases: history imported, each day's sales
    added through ``refresh_order_demand``, forecasts every 28 days. A day that ends with
    nothing on hand is a stock sample at 0, as the worker records it (``stock_days``), and
    ``refresh_order_demand`` censors it (``censor``; False: the days count as sold)."""
    tenant = uuid4()
    uow = MemoryDemandUow()
    uow.locations.known.append(
        Location(id=uuid4(), code="WH", name="WH", kind=LocationKind.WAREHOUSE)
    )
    engine = StatsforecastEngine(n_jobs=jobs)
    terms = SupplyTerms(lead_time_days=LEAD, review_period_days=REVIEW, service_level=service_level)
    for sku in skus:
        history = [
            DemandDay(START + timedelta(days=i), sku.name, "WH", int(q), promo=bool(sku.promo[i]))
            for i, q in enumerate(sku.demand[0][:365])
        ]
        uow.demand.put_days(tenant, history, source="import")
    state = {
        sku.name: {"on_hand": math.ceil(float(sku.demand[0][:365].mean()) * (LEAD + REVIEW))}
        for sku in skus
    }
    arriving: dict[str, dict[int, int]] = {sku.name: defaultdict(int) for sku in skus}
    out = Outcome()
    traces: dict[str, list[float]] = defaultdict(list)
    forecasts: dict[str, Any] = {}
    for day in range(365, DAYS):
        today = START + timedelta(days=day)
        now = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
        if (day - 365) % REFRESH == 0:
            run_forecasts(uow_factory=uow, engine=engine, tenant_id=tenant, now=now)
            forecasts = {f.sku: f for f in uow.demand.forecasts(tenant, location="WH")}
        sales = []
        for sku in skus:
            s = state[sku.name]
            s["on_hand"] += arriving[sku.name].pop(day, 0)
            want = float(sku.demand[0][day])
            sold = min(s["on_hand"], want)
            s["on_hand"] -= int(sold)
            out.demanded += want
            out.sold += sold
            out.stockout_days += int(want > sold)
            out.stock_days += s["on_hand"]
            traces[sku.name].append(s["on_hand"])
            sales.append(DemandDay(today, sku.name, "WH", int(sold), promo=bool(sku.promo[day])))
            if censor and s["on_hand"] <= 0:
                uow.demand.out_days.setdefault(tenant, []).append((sku.name, "WH", today))
            position = s["on_hand"] + sum(arriving[sku.name].values())
            plan = plan_replenishment(
                forecast=forecasts[sku.name],
                position=position,
                terms=terms,
                today=today + timedelta(days=1),
            )
            if plan.quantity > 0:
                arriving[sku.name][day + LEAD] += plan.quantity
        uow.demand.order_days[tenant] = sales
        refresh_order_demand(uow_factory=uow, tenant_id=tenant, now=now, days=1)
    if keep:
        out.trace[keep] = traces[keep]
    return out


def replay(args: argparse.Namespace) -> None:
    skus = [
        s for s in generate(args.replay_skus * 3, args.seed + 2, locations=1) if s.kind != "lumpy"
    ][: args.replay_skus]
    keep = next((s.name for s in skus if s.kind == "seasonal"), skus[0].name)
    started = time.perf_counter()
    smart = _replay_forecast(skus, 0.95, args.jobs, keep)
    took = time.perf_counter() - started
    target = smart.stock_days
    low, high = 0.0, 10.0
    for _ in range(40):  # bisect k until the static policy holds as much stock on average
        mid = (low + high) / 2
        if _replay_static(skus, mid).stock_days < target:
            low = mid
        else:
            high = mid
    k = (low + high) / 2
    static = _replay_static(skus, k, keep)
    days = DAYS - 365
    print(
        f"\n== replay: {len(skus)} SKUs x {days} days, lead time {LEAD}, review {REVIEW}, "
        f"lost sales; forecast policy at 95% service level ({took:.0f} s)"
    )
    print(f"{'policy':<34}{'avg stock':>10}{'stock-out days':>16}{'fill rate':>11}")
    blind = _replay_forecast(skus, 0.95, args.jobs, censor=False)
    rows = (
        (f"static min/max (k={k:.2f})", static),
        ("forecast (s, S)", smart),
        ("forecast, stock-outs not censored", blind),
    )
    for name, o in rows:
        print(
            f"{name:<34}{o.stock_days / days:>10.0f}{o.stockout_days:>16}"
            f"{o.sold / o.demanded:>11.2%}"
        )
    fewer = 1 - smart.stockout_days / static.stockout_days if static.stockout_days else 0.0
    print(f"stock-out days: {fewer:.0%} fewer with the forecast policy at equal stock (aim >= 30%)")
    if not args.no_plots:
        _plot_replay(static, smart, keep, k)


def _plot_replay(static: Outcome, smart: Outcome, name: str, k: float) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(static.trace[name], color="tab:orange", lw=0.9, label=f"static min/max (k={k:.2f})")
    ax.plot(smart.trace[name], color="tab:blue", lw=0.9, label="forecast (s, S)")
    ax.set_xlabel("day of the replayed year")
    ax.set_ylabel("units on hand")
    ax.set_title(f"{name} (seasonal): stock on hand, equal average stock over all SKUs")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(IMG / "decisions_replay.png", dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="accuracy,real,speed,replay")
    parser.add_argument("--skus", type=int, default=300)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--replay-skus", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args()
    if not args.no_plots:
        import matplotlib

        matplotlib.use("Agg")
        IMG.mkdir(parents=True, exist_ok=True)
    sections = {"accuracy": accuracy, "real": real, "speed": speed, "replay": replay}
    for name in args.only.split(","):
        sections[name.strip()](args)


if __name__ == "__main__":
    main()
