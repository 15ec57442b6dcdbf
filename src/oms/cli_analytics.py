"""``oms analytics``: the daily rollups behind the dashboard and /v1/analytics
(docs/analytics.md). ``oms worker`` keeps them (``--rollup-seconds``); these commands
rebuild them (turning them on for a tenant) or catch them up by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer

from oms.cli_admin import tenant_id_of
from oms.cli_support import database, fail, guard, load_settings

__all__ = ["analytics_app"]

analytics_app = typer.Typer(no_args_is_help=True, help="Analytics' daily rollups.")


@analytics_app.command("rebuild")
def analytics_rebuild(
    since: Annotated[
        str | None,
        typer.Option(help="First day to count again, YYYY-MM-DD (default: the first order)"),
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (its id)")] = None,
) -> None:
    """Count every day's rollups again from the orders, shipments and timeline, from
    ``--since`` to today, and keep them from then on (idempotent: run it as often as you
    like)."""
    from oms.services.rollups import rebuild

    first: date | None = None
    if since is not None:
        try:
            first = date.fromisoformat(since)
        except ValueError:
            fail(f"--since: not a date (YYYY-MM-DD): {since}")
    tenant_ids = [tenant_id_of(tenant)] if tenant else None
    with database(load_settings()) as uow:
        report = guard(
            lambda: rebuild(
                uow_factory=uow, now=datetime.now(UTC), since=first, tenant_ids=tenant_ids
            )
        )
    typer.echo(
        f"rebuilt the rollups of {report.tenants} tenant(s): {report.days} day(s), "
        f"{report.rows} row(s)"
    )


@analytics_app.command("refresh")
def analytics_refresh() -> None:
    """Count again the days of the orders changed since the last refresh (what the worker
    does every ``--rollup-seconds``)."""
    from oms.services.rollups import refresh

    with database(load_settings()) as uow:
        days = guard(lambda: refresh(uow_factory=uow, now=datetime.now(UTC)))
    typer.echo(f"recounted {days} day(s)")
