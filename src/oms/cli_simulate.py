"""``oms simulate routing`` and ``oms simulate replenishment``: replay a generated history
through the real services on a fast clock: myopic against look-ahead routing
(``oms.services.routing_replay``); forecast-driven replenishment against a static min/max
at equal average stock (``oms.services.replenishment_replay``)."""

from __future__ import annotations

import csv
import dataclasses
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from oms.cli_support import fail as _fail
from oms.cli_support import guard as _guard

if TYPE_CHECKING:
    from oms.services.forecasting import ForecastEngine
    from oms.services.replenishment_world import TraceRow

__all__ = ["simulate_app"]

ENGINES = ("statsforecast", "weekday-mean")

simulate_app = typer.Typer(no_args_is_help=True, help="Replays of generated histories.")


@simulate_app.command("routing")
def simulate_routing(
    days: Annotated[int, typer.Option(help="Days of orders replayed (stock not replenished)")] = 14,
    orders_per_day: Annotated[float, typer.Option(help="Orders a day (Poisson)")] = 12.0,
    skus: Annotated[int, typer.Option(help="SKUs")] = 4,
    history_days: Annotated[int, typer.Option(help="Days of history forecast first")] = 56,
    weight: Annotated[str, typer.Option(help="The look-ahead's weight")] = "0.75",
    horizon_days: Annotated[int, typer.Option(help="The look-ahead's horizon")] = 7,
    seed: Annotated[int, typer.Option(help="Everything is drawn from it")] = 7,
    jobs: Annotated[int, typer.Option(help="Forecasting processes")] = 1,
) -> None:
    """Route the same generated orders as today and with the look-ahead, through the real
    intake on a throwaway SQLite database, and print what each cost."""
    from oms.adapters.db.engine import build_engine
    from oms.adapters.db.migrate import upgrade
    from oms.adapters.db.uow import SqlUnitOfWorkFactory
    from oms.adapters.forecasting.statsforecast_engine import StatsforecastEngine
    from oms.adapters.payments.registry import gateway_named
    from oms.config import Settings
    from oms.services.routing_replay import ReplaySettings, replay_routing

    try:
        amount = Decimal(weight)
    except InvalidOperation:
        _fail(f"--weight: not a number: {weight!r}", 2)
    wanted = ReplaySettings(
        days=days,
        history_days=history_days,
        orders_per_day=orders_per_day,
        skus=skus,
        seed=seed,
        weight=amount,
        horizon_days=horizon_days,
    )
    _guard(wanted.check)
    with tempfile.TemporaryDirectory(prefix="oms-simulate-") as folder:
        url = f"sqlite:///{Path(folder) / 'replay.db'}"
        engine = build_engine(Settings(database_url=url))
        try:
            upgrade(engine)
            figures = _guard(
                lambda: replay_routing(
                    uow_factory=SqlUnitOfWorkFactory(engine),
                    engine=StatsforecastEngine(n_jobs=jobs),
                    gateways=gateway_named,
                    settings=wanted,
                )
            )
        finally:
            engine.dispose()
    typer.echo(
        f"replayed {figures.orders} orders ({figures.units} units) over {days} days, "
        f"{skus} SKUs, seed {seed}; look-ahead weight {amount}, horizon {horizon_days} days"
    )
    typer.echo(f"{'routing':<12}{'shipping':>11}{'handling':>10}{'total':>11}"
               f"{'packages':>10}{'backordered':>13}{'kept back':>11}")  # fmt: skip
    for mode in ("myopic", "look-ahead"):
        typer.echo(
            f"{mode:<12}{figures.shipping[mode]:>11,.2f}{figures.handling[mode]:>10,.2f}"
            f"{figures.total(mode):>11,.2f}{figures.packages[mode]:>10}"
            f"{figures.backordered[mode]:>13}{figures.kept[mode]:>11}"
        )
    saved = figures.total("myopic") - figures.total("look-ahead")
    typer.echo(f"look-ahead saves {saved:,.2f} against myopic routing")


@simulate_app.command("replenishment")
def simulate_replenishment(
    skus: Annotated[int, typer.Option(help="SKUs (lumpy ones are not generated)")] = 20,
    locations: Annotated[int, typer.Option(help="Locations each SKU sells at")] = 3,
    history_days: Annotated[int, typer.Option(help="Days of history imported first")] = 365,
    days: Annotated[int, typer.Option(help="Days replayed after the history")] = 365,
    seed: Annotated[int, typer.Option(help="Everything is drawn from it")] = 7,
    engine: Annotated[
        str, typer.Option(help="statsforecast (the product's) or weekday-mean (cheap)")
    ] = "statsforecast",
    service_level: Annotated[float, typer.Option(help="The forecast policy's")] = 0.95,
    review_days: Annotated[int, typer.Option(help="Review period (days)")] = 7,
    lead_time_days: Annotated[
        int | None, typer.Option(help="One lead time for all (MOQ 1); default each supplier's")
    ] = None,
    jobs: Annotated[int, typer.Option(help="Forecasting processes")] = 1,
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="Write the day-by-day trace to this CSV file")
    ] = None,
) -> None:
    """Replay a generated history day by day through the real forecasting and replenishment
    use cases, then a static min/max at the same average stock, and print both."""
    from oms.adapters.memory.demand import MemoryDemandUow
    from oms.services.ports import UnitOfWorkFactory
    from oms.services.replenishment_replay import replay_replenishment
    from oms.services.replenishment_world import SUPPLIERS, ReplenishmentReplaySettings

    if engine not in ENGINES:
        _fail(f"--engine: one of {', '.join(ENGINES)}, not {engine!r}", 2)
    if jobs < 1:
        _fail("--jobs must be 1 or more", 2)
    wanted = ReplenishmentReplaySettings(
        skus=skus,
        locations=locations,
        history_days=history_days,
        days=days,
        seed=seed,
        service_level=service_level,
        review_period_days=review_days,
        lead_time_days=lead_time_days,
    )
    _guard(wanted.check)
    memory = MemoryDemandUow()
    found = _guard(
        lambda: replay_replenishment(
            uow_factory=cast(UnitOfWorkFactory, memory),
            feed=memory,
            engine=_engine(engine, jobs),
            settings=wanted,
            trace=csv_path is not None,
        )
    )
    if csv_path is not None:
        _write_trace(csv_path, found.trace)
    if lead_time_days is None:
        supply = "suppliers " + ", ".join(
            f"{name} ({lead} days, MOQ {moq}, packs of {pack})"
            for name, lead, moq, pack in SUPPLIERS
        )
    else:
        supply = f"lead time {lead_time_days} days"
    typer.echo(
        f"replayed {skus} SKUs x {locations} locations ({found.shelves} shelves) for {days} "
        f"days after {history_days} days of history, seed {seed}, engine {engine}; {supply}; "
        f"review {review_days} days, lost sales"
    )
    typer.echo(f"{'policy':<30}{'avg stock':>10}{'stock-out days':>16}{'fill rate':>11}"
               f"{'sold':>10}{'lost':>8}")  # fmt: skip
    rows = (
        (f"static min/max (k={found.static_k:.2f})", found.static),
        (f"forecast (s, S) at {service_level:.0%}", found.forecast),
    )
    for name, tally in rows:
        typer.echo(
            f"{name:<30}{found.average_stock(tally):>10,.0f}{tally.stockout_days:>16,}"
            f"{tally.fill_rate:>11.2%}{tally.sold:>10,}{tally.lost:>8,}"
        )
    share = found.fewer_stockout_days
    change = f"{share:.0%} fewer" if share >= 0 else f"{-share:.0%} more"
    typer.echo(
        f"stock-out days: {change} with the forecast policy at equal average stock; "
        f"{found.transferred:,} units transferred between locations"
    )


def _engine(name: str, jobs: int) -> ForecastEngine:
    if name == "weekday-mean":
        from oms.adapters.memory.forecasting import WeekdayMeanEngine

        return WeekdayMeanEngine()
    from oms.adapters.forecasting.statsforecast_engine import StatsforecastEngine

    return StatsforecastEngine(n_jobs=jobs)


def _write_trace(path: Path, rows: list[TraceRow]) -> None:
    from oms.services.replenishment_world import TraceRow

    names = [f.name for f in dataclasses.fields(TraceRow)]
    try:
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(names)
            writer.writerows(dataclasses.astuple(row) for row in rows)
    except OSError as error:
        _fail(f"--csv: cannot write {path}: {error.strerror}", 2)
