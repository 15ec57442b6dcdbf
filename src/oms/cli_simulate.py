"""``oms simulate routing``: replay a generated history through the real services on a fast
clock, myopic against look-ahead routing (``oms.services.routing_replay``)."""

from __future__ import annotations

import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

from oms.cli_support import fail as _fail
from oms.cli_support import guard as _guard

__all__ = ["simulate_app"]

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
