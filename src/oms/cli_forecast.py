"""``oms import sales-history`` and ``oms forecast run``: demand history in, forecasts out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer

from oms.cli_imports import import_app  # `oms import sales-history` beside products, stock, orders
from oms.cli_support import database as _database
from oms.cli_support import fail as _fail
from oms.cli_support import guard as _guard
from oms.cli_support import load_settings as _settings
from oms.cli_support import read_file as _read

if TYPE_CHECKING:
    from oms.services.ports import UnitOfWorkFactory

__all__ = ["forecast_app", "nightly_job"]

forecast_app = typer.Typer(no_args_is_help=True, help="Demand forecasts.")

TenantOption = Annotated[str, typer.Option(help="Tenant id")]


def _tenant(tenant: str) -> UUID:
    try:
        return UUID(tenant)
    except ValueError:
        _fail(f"--tenant {tenant!r} is not a tenant id", 2)


def _moment(at: str) -> datetime:
    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        _fail(f"--at: not an ISO 8601 time: {at!r}", 2)
    if when.tzinfo is None:
        _fail("--at: give a time zone (e.g. Z)", 2)
    return when.astimezone(UTC)


@import_app.command("sales-history")
def import_sales_history(
    path: Annotated[
        Path,
        typer.Argument(
            help="CSV: date, sku, location, quantity[, price, channel, promo, stockout]"
        ),
    ],
    tenant: TenantOption,
) -> None:
    """Store a merchant's daily sales history (replacing the days it names)."""
    from oms.services.demand import import_sales_history as run_import

    tenant_id = _tenant(tenant)
    text = _read(path)
    with _database(_settings()) as uow:
        found = _guard(lambda: run_import(uow_factory=uow, tenant_id=tenant_id, text=text))
    typer.echo(
        f"imported {found.rows} day(s) of {found.skus} SKU(s) from {found.first} to {found.last}"
    )


@forecast_app.command("run")
def forecast_run(
    tenant: Annotated[
        str | None, typer.Option(help="Tenant id; default every tenant (the nightly run)")
    ] = None,
    sku: Annotated[str | None, typer.Option(help="Only this SKU (needs --tenant)")] = None,
    jobs: Annotated[int, typer.Option(help="Processes (-1: one per CPU)")] = -1,
    order_days: Annotated[
        int, typer.Option(help="Days of orders (today included) to add to the history first")
    ] = 3,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Pretend it is this time (ISO 8601 with a zone); default now"),
    ] = None,
) -> None:
    """Add the last days' orders to the demand history, then forecast every SKU (in total and
    per location) from it and store the forecasts; for one tenant or each in turn."""
    from oms.adapters.forecasting.statsforecast_engine import StatsforecastEngine
    from oms.services.common import utcnow
    from oms.services.demand import refresh_order_demand
    from oms.services.forecasting import ForecastRun, run_forecasts

    if sku is not None and tenant is None:
        _fail("--sku needs --tenant", 2)
    if order_days < 1:
        _fail("--order-days must be 1 or more", 2)
    now = utcnow() if at is None else _moment(at)
    engine = StatsforecastEngine(n_jobs=jobs)
    with _database(_settings()) as uow:
        if tenant is not None:
            tenants = [_tenant(tenant)]
        else:
            with uow(readonly=True) as read:
                tenants = read.tenants.list_ids()
        for tenant_id in tenants:

            def one(tenant_id: UUID = tenant_id) -> ForecastRun:
                refresh_order_demand(uow_factory=uow, tenant_id=tenant_id, now=now, days=order_days)
                return run_forecasts(
                    uow_factory=uow, engine=engine, tenant_id=tenant_id, now=now, sku=sku
                )

            run = _guard(one)
            models = ", ".join(f"{name} {count}" for name, count in run.models.most_common())
            typer.echo(
                f"tenant {tenant_id}: forecast {run.series} series; {run.beating_baseline} beat "
                f"seasonal-naive in their backtest; models: {models or 'none'}"
            )


def nightly_job(uow: UnitOfWorkFactory) -> Callable[[], object]:
    """``oms worker``'s nightly decisions (oms.services.nightly) on a thread beside its
    deliveries, on the wall clock."""
    from oms.adapters.forecasting.statsforecast_engine import StatsforecastEngine
    from oms.services.nightly import run_nightly
    from oms.worker.nightly import InBackground

    engine = StatsforecastEngine(n_jobs=1)
    return InBackground(
        lambda: run_nightly(uow_factory=uow, engine=engine, now=datetime.now(UTC)),
        name="oms-nightly",
    )
