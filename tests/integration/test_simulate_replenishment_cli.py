"""``oms simulate replenishment``: a small generated world replayed through the real
forecasting and replenishment use cases (the cheap weekday-mean engine), against a static
min/max; its figures and day-by-day trace agree with each other, a seeded run repeats
itself, orders keep the suppliers' terms, and ``bench/decisions.py`` runs the same code."""

from __future__ import annotations

import argparse
import csv
import importlib.util
import itertools
import re
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from oms.adapters.memory.demand import MemoryDemandUow
from oms.adapters.memory.forecasting import WeekdayMeanEngine
from oms.cli import app
from oms.domain.demand import DailySeries
from oms.services import demand_world, replenishment_replay, replenishment_world
from oms.services.forecasting import SeriesForecast
from oms.services.replenishment_world import ReplenishmentReplaySettings, replay_world

runner = CliRunner()
SMALL = ["--skus", "3", "--locations", "2", "--history-days", "84", "--days", "56",
         "--engine", "weekday-mean"]  # fmt: skip
ROW = re.compile(r"(static|forecast) .*?\s+([\d,]+)\s+([\d,]+)\s+([\d.]+)%\s+([\d,]+)\s+([\d,]+)$")
BENCH = Path(__file__).resolve().parents[2] / "bench" / "decisions.py"


def _run(*args: str) -> str:
    ran = runner.invoke(app, ["simulate", "replenishment", *args])
    assert ran.exit_code == 0, ran.output
    return ran.stdout


def _figures(output: str) -> dict[str, dict[str, float]]:
    """policy -> avg stock, stock-out days, fill rate, sold, lost, from the printed table."""
    found = {}
    for line in output.splitlines():
        match = ROW.match(line)
        if match:
            avg, out, fill, sold, lost = (float(g.replace(",", "")) for g in match.groups()[1:])
            found[match.group(1)] = {
                "avg": avg, "stockout_days": out, "fill": fill / 100, "sold": sold, "lost": lost,
            }  # fmt: skip
    return found


def _trace(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for key in row:
            if key not in ("policy", "day", "sku", "location"):
                row[key] = int(row[key])
    return rows


def test_a_small_world_is_replayed_and_its_figures_agree_with_its_trace(tmp_path: Path) -> None:
    out = _run(*SMALL, "--csv", str(tmp_path / "trace.csv"))
    figures = _figures(out)
    rows = _trace(tmp_path / "trace.csv")

    assert out.startswith("replayed 3 SKUs x 2 locations (6 shelves) for 56 days")
    assert set(figures) == {"static", "forecast"}
    assert len(rows) == 2 * 6 * 56
    for policy, printed in figures.items():
        mine = [r for r in rows if r["policy"] == policy]
        assert 0 <= printed["fill"] <= 1
        assert all(r["on_hand"] >= 0 and r["on_order"] >= 0 for r in mine)
        assert all(r["sold"] + r["lost"] == r["demand"] for r in mine)
        assert printed["sold"] == sum(r["sold"] for r in mine)
        assert printed["lost"] == sum(r["lost"] for r in mine)
        assert printed["stockout_days"] == sum(1 for r in mine if r["lost"] > 0)
        assert printed["avg"] == round(sum(r["on_hand"] for r in mine) / 56)
        demanded = sum(r["demand"] for r in mine)
        assert printed["fill"] == pytest.approx(printed["sold"] / demanded, abs=5e-5)
        by_shelf: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for r in mine:
            by_shelf[r["sku"], r["location"]].append(r)
        for days in by_shelf.values():  # each day starts where the one before ended
            for before, after in itertools.pairwise(days):
                assert after["on_hand"] == (
                    before["on_hand"] + after["received"] - after["sold"] + after["transferred"]
                )
    moves: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        moves[r["day"], r["sku"]] += r["transferred"]
    assert any(r["transferred"] for r in rows)  # this world has transfers
    assert set(moves.values()) == {0}  # a transfer moves stock, it makes none
    both = {p: sum(r["demand"] for r in rows if r["policy"] == p) for p in figures}
    assert both["static"] == both["forecast"]  # the same demand under both policies
    share = re.search(r"stock-out days: (\d+)% (fewer|more)", out)
    assert share is not None
    expected = 1 - figures["forecast"]["stockout_days"] / figures["static"]["stockout_days"]
    sign = 1 if share.group(2) == "fewer" else -1
    assert sign * int(share.group(1)) == round(100 * expected)


def test_more_stock_out_days_than_the_baseline_are_said_as_more() -> None:
    out = _run(*SMALL, "--seed", "6")  # a tiny world where the forecast policy does worse
    figures = _figures(out)

    assert figures["forecast"]["stockout_days"] > figures["static"]["stockout_days"]
    assert re.search(r"stock-out days: \d+% more with the forecast policy", out)


def test_a_seeded_run_repeats_itself_and_another_seed_does_not() -> None:
    first = _run(*SMALL, "--seed", "11")

    assert _run(*SMALL, "--seed", "11") == first
    assert _run(*SMALL, "--seed", "12") != first


def test_orders_keep_the_suppliers_moq_packs_and_lead_times(tmp_path: Path) -> None:
    _run(*SMALL, "--seed", "5", "--csv", str(tmp_path / "trace.csv"))
    rows = _trace(tmp_path / "trace.csv")
    world = replay_world(
        ReplenishmentReplaySettings(skus=3, locations=2, history_days=84, days=56, seed=5)
    )
    ordered = 0
    for r in rows:
        terms = world.terms[r["sku"]]
        if r["ordered"]:
            ordered += 1
            assert r["ordered"] >= terms.moq
            assert r["ordered"] % terms.pack_size == 0
    assert ordered > 0
    received = {(r["policy"], r["sku"], r["location"], r["day"]): r["received"] for r in rows}
    for r in rows:
        if r["ordered"]:
            lead = world.terms[r["sku"]].lead_time_days
            arrives = date.fromordinal(date.fromisoformat(r["day"]).toordinal() + lead)
            key = (r["policy"], r["sku"], r["location"], arrives.isoformat())
            if key in received:  # within the replay: it arrives a lead time later
                assert received[key] == r["ordered"]


class _CountingEngine:
    def __init__(self) -> None:
        self.runs = 0

    def forecast(self, series: list[DailySeries], *, horizon: int) -> list[SeriesForecast]:
        self.runs += 1
        return WeekdayMeanEngine().forecast(series, horizon=horizon)


def test_forecasts_are_remade_every_28_days_of_the_replay() -> None:
    memory, engine = MemoryDemandUow(), _CountingEngine()
    settings = ReplenishmentReplaySettings(skus=2, locations=1, history_days=70, days=57)

    found = replenishment_replay.replay_replenishment(
        uow_factory=memory,  # type: ignore[arg-type]
        feed=memory,
        engine=engine,
        settings=settings,
    )

    assert engine.runs == 3  # days 0, 28 and 56 of the replay
    assert found.forecast.demanded == found.static.demanded > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--skus", "0"], "#/skus: must be from 1 to 500"),
        (["--locations", "9"], "#/locations: must be from 1 to 8"),
        (["--history-days", "10"], "#/history_days"),
        (["--days", "0"], "#/days"),
        (["--service-level", "1.5"], "#/service_level"),
        (["--lead-time-days", "0"], "#/lead_time_days"),
        (["--engine", "magic"], "--engine: one of statsforecast, weekday-mean"),
        (["--jobs", "0"], "--jobs must be 1 or more"),
    ],
)
def test_bad_options_are_one_line_and_a_non_zero_exit(args: list[str], message: str) -> None:
    ran = runner.invoke(app, ["simulate", "replenishment", *args])

    assert ran.exit_code != 0
    assert message in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1


def test_an_unwritable_trace_file_is_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    ran = runner.invoke(
        app, ["simulate", "replenishment", *SMALL, "--csv", str(tmp_path / "no" / "t.csv")]
    )

    assert ran.exit_code == 2
    assert "--csv: cannot write" in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_decisions", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_decisions"] = module
    spec.loader.exec_module(module)
    return module


def test_the_bench_and_the_command_run_the_same_replay(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = _bench()
    assert bench.replay_replenishment is replenishment_replay.replay_replenishment
    assert bench.replay_world is replenishment_world.replay_world
    assert bench.generate is demand_world.generate
    monkeypatch.setattr(bench, "StatsforecastEngine", lambda **_: WeekdayMeanEngine())

    bench.replay(argparse.Namespace(replay_skus=2, seed=7, jobs=1, no_plots=True))
    printed = capsys.readouterr().out
    command = _run("--skus", "2", "--locations", "1", "--lead-time-days", "7", "--seed", "9",
                   "--engine", "weekday-mean")  # fmt: skip

    def rows(text: str) -> list[list[str]]:  # policy's k, avg stock, stock-out days, fill rate
        found = re.findall(r"^(static min/max \(k=[-\d.]+\)|forecast \(s, S\))(?: at \d+%)?\s+"
                           r"([\d,]+)\s+([\d,]+)\s+([\d.]+%)", text, re.M)  # fmt: skip
        return [list(f) for f in found]

    assert len(rows(printed)) == 2
    assert rows(printed) == rows(command)
