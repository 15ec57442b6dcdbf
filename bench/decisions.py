"""Forecasting and replenishment: accuracy, speed and a replay against static min/max.

Run it from the project root::

    .venv/bin/python bench/decisions.py [--only accuracy,real,speed,replay] [--skus 300]
        [--series 10000] [--jobs 2] [--replay-skus 40] [--seed 7] [--no-plots]

What it builds, from ``--seed`` alone, is two years of daily demand (730 days from
2024-01-01) per SKU and location in five classes (smooth, seasonal, promo, intermittent,
lumpy): ``oms.services.demand_world``, which ``oms simulate replenishment`` uses too.

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
* ``replay``: ``--replay-skus`` SKUs at one location, lead time and review period 7 days,
  lost sales: ``oms.services.replenishment_replay.replay_replenishment``, the code ``oms
  simulate replenishment`` runs (the first year is imported history, the second is played
  day by day through ``refresh_order_demand``, ``run_forecasts`` every 28 days on an
  injected clock and ``plan_sku``), against a static min/max (Odoo-style) whose k is
  bisected until its average stock equals the forecast policy's. Stock-out days (a SKU-day
  with unmet demand) and fill rate (units sold / units demanded) of both; a third run
  leaves the stock-out samples out (stock-outs read as sales) to show what censoring them
  is worth.

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
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from oms.adapters.forecasting.statsforecast_engine import StatsforecastEngine
from oms.adapters.memory.demand import MemoryDemandUow
from oms.domain.demand import DailySeries
from oms.services.demand_world import CLASSES, DAYS, SMOOTH_CLASSES, START, generate, series_of
from oms.services.forecasting import SeriesForecast
from oms.services.replenishment_replay import (
    ReplenishmentReplay,
    replay_forecast_policy,
    replay_replenishment,
)
from oms.services.replenishment_world import ReplenishmentReplaySettings, replay_world

IMG = Path(__file__).resolve().parents[1] / "docs" / "img"


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


def replay(args: argparse.Namespace) -> None:
    settings = ReplenishmentReplaySettings(
        skus=args.replay_skus,
        locations=1,
        seed=args.seed + 2,
        lead_time_days=LEAD,
        review_period_days=REVIEW,
    )
    engine = StatsforecastEngine(n_jobs=args.jobs)
    memory = MemoryDemandUow()
    started = time.perf_counter()
    found = replay_replenishment(
        uow_factory=memory, feed=memory, engine=engine, settings=settings, trace=True
    )
    took = time.perf_counter() - started
    memory = MemoryDemandUow()
    blind, _ = replay_forecast_policy(
        uow_factory=memory,
        feed=memory,
        engine=engine,
        world=replay_world(settings),
        censor_stockouts=False,
    )
    print(
        f"\n== replay: {found.shelves} SKUs x {settings.days} days, lead time {LEAD}, review "
        f"{REVIEW}, lost sales; forecast policy at 95% service level ({took:.0f} s)"
    )
    print(f"{'policy':<34}{'avg stock':>10}{'stock-out days':>16}{'fill rate':>11}")
    rows = (
        (f"static min/max (k={found.static_k:.2f})", found.static),
        ("forecast (s, S)", found.forecast),
        ("forecast, stock-outs not censored", blind),
    )
    for name, tally in rows:
        print(
            f"{name:<34}{found.average_stock(tally):>10.0f}{tally.stockout_days:>16}"
            f"{tally.fill_rate:>11.2%}"
        )
    print(
        f"stock-out days: {found.fewer_stockout_days:.0%} fewer with the forecast policy at "
        "equal stock (aim >= 30%)"
    )
    if not args.no_plots:
        _plot_replay(found)


def _plot_replay(found: ReplenishmentReplay) -> None:
    import matplotlib.pyplot as plt

    skus = replay_world(found.settings).skus
    name = next((s.name for s in skus if s.kind == "seasonal"), skus[0].name)
    stock = {
        policy: [r.on_hand for r in found.trace if r.policy == policy and r.sku == name]
        for policy in ("static", "forecast")
    }
    fig, ax = plt.subplots(figsize=(8, 3.6))
    label = f"static min/max (k={found.static_k:.2f})"
    ax.plot(stock["static"], color="tab:orange", lw=0.9, label=label)
    ax.plot(stock["forecast"], color="tab:blue", lw=0.9, label="forecast (s, S)")
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
