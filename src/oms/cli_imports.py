"""``oms import`` and ``oms export``: a tenant's products, stock and orders as CSV files.

    oms import products|inventory|orders FILE.csv --tenant ID [--dry-run] [--currency EUR]
    oms export orders|inventory|shipments --tenant ID --since 2026-12-01 [--output FILE]

An import shows a progress bar (bytes of the file read), writes each refused row's problems
to ``FILE.csv.errors.csv`` beside it, prints one summary line, and exits 1 when any row was
refused (0 when every row was applied or already as the file says). docs/import.md.
"""

from __future__ import annotations

import gc
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from oms.cli_admin import tenant_id_of
from oms.cli_support import database, fail, guard, load_settings

__all__ = ["export_app", "import_app"]

import_app = typer.Typer(
    no_args_is_help=True, help="Import products, stock, orders or sales history (CSV)."
)
export_app = typer.Typer(no_args_is_help=True, help="Export orders, stock or shipments (CSV).")

Tenant = Annotated[str, typer.Option(help="Tenant id")]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Check every row as the import would; write nothing")
]
Currency = Annotated[
    str | None,
    typer.Option(help="Currency of prices in a file without a currency column (Shopify's)"),
]
BatchSize = Annotated[int, typer.Option(min=1, max=10_000, help="Rows per transaction")]
Since = Annotated[str, typer.Option(help="From this date or moment (ISO 8601, UTC)")]
Output = Annotated[Path | None, typer.Option(help="Write here instead of standard output")]


def _import(
    kind: str, path: Path, tenant: str, dry_run: bool, currency: str | None, batch_size: int
) -> None:
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from oms.adapters.csv_files import ErrorReport, error_report_path
    from oms.adapters.db.statistics import StatisticsKeeper
    from oms.adapters.payments.registry import gateway_named
    from oms.domain.orders import Actor
    from oms.services.csv_source import CsvSource
    from oms.services.import_rows import ImportKind
    from oms.services.imports import ImportRequest, import_rows

    tenant_id = tenant_id_of(tenant)
    try:
        source = CsvSource(path.open("rb"))
        size = path.stat().st_size
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}", 2)
    except UnicodeDecodeError:
        fail(f"{path}: not a UTF-8 CSV file", 2)
    request = ImportRequest(
        kind=ImportKind(kind),
        header=source.header,
        rows=source.rows(),
        dry_run=dry_run,
        currency=currency,
        reference=f"csv import {path.name}",
        batch_size=batch_size,
    )
    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        transient=True,
        disable=not sys.stderr.isatty(),
        console=None,
    )
    report_path = error_report_path(path)
    settings = load_settings()
    with (
        database(settings) as uow,
        # Planner statistics as an API worker keeps them (oms.adapters.db.statistics): a
        # first import fills tables whose plans were made while they were empty.
        StatisticsKeeper(uow.engine, interval=settings.db_analyze_seconds),
        ErrorReport(report_path) as report,
        progress,
    ):
        task = progress.add_task(f"{kind} {path.name}", total=size)
        # What exists now (modules, the tables, the engine) lives as long as this process:
        # out of the collector's sight, a full collection (set off by the rows' objects
        # every few batches) walks only the import's own objects (docs/performance.md,
        # "The inventory import's remaining cost per row"), as an API worker's does.
        gc.freeze()
        try:
            summary = guard(
                lambda: import_rows(
                    uow_factory=uow,
                    gateways=gateway_named,
                    tenant_id=tenant_id,
                    request=request,
                    actor=Actor("system", "csv-import"),
                    on_error=report.add,
                    on_progress=lambda _: progress.update(task, completed=source.position),
                )
            )
        except UnicodeDecodeError as error:
            fail(f"{path}: not UTF-8 after byte {error.start}", 2)
        finally:
            source.close()
    done = "checked (dry run, nothing written)" if dry_run else "imported"
    typer.echo(
        f"{kind} {done}: {summary.created} created, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {summary.skipped} skipped, {summary.failed} refused"
        + (f"; errors in {report_path}" if summary.error_count else "")
    )
    if summary.failed:
        raise typer.Exit(1)


@import_app.command("products")
def import_products(
    file: Path,
    tenant: Tenant,
    dry_run: DryRun = False,
    currency: Currency = None,
    batch_size: BatchSize = 500,
) -> None:
    """Products by SKU (our columns, or a Shopify products export as it is)."""
    _import("products", file, tenant, dry_run, currency, batch_size)


@import_app.command("inventory")
def import_inventory(
    file: Path, tenant: Tenant, dry_run: DryRun = False, batch_size: BatchSize = 500
) -> None:
    """Stock levels: on hand (a count) and safety stock per SKU and location."""
    _import("inventory", file, tenant, dry_run, None, batch_size)


@import_app.command("orders")
def import_orders(
    file: Path, tenant: Tenant, dry_run: DryRun = False, batch_size: BatchSize = 500
) -> None:
    """Orders (one row per line) through the intake, once per order_id (channel csv)."""
    _import("orders", file, tenant, dry_run, None, batch_size)


def _since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--since {text!r} is not a date (2026-12-01 or an ISO 8601 moment)", 2)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _export(kind: str, tenant: str, since: str, output: Path | None) -> None:
    from oms.adapters.csv_files import write_rows
    from oms.services.exports import ExportKind, export_rows

    tenant_id, moment = tenant_id_of(tenant), _since(since)
    with database(load_settings()) as uow:
        rows = export_rows(
            uow_factory=uow, tenant_id=tenant_id, kind=ExportKind(kind), since=moment
        )
        if output is None:
            count = guard(lambda: write_rows(sys.stdout, rows))
        else:
            with output.open("w", encoding="utf-8", newline="") as out:
                count = guard(lambda: write_rows(out, rows))
    if output is not None:
        typer.echo(f"{count} {kind} rows written to {output}", err=True)


@export_app.command("orders")
def export_orders(tenant: Tenant, since: Since, output: Output = None) -> None:
    """Orders placed since a date, one row per line (the orders import's columns)."""
    _export("orders", tenant, since, output)


@export_app.command("inventory")
def export_inventory(tenant: Tenant, since: Since, output: Output = None) -> None:
    """Stock levels changed since a date (the inventory import's columns and more)."""
    _export("inventory", tenant, since, output)


@export_app.command("shipments")
def export_shipments(tenant: Tenant, since: Since, output: Output = None) -> None:
    """Shipments made since a date, one row per SKU shipped."""
    _export("shipments", tenant, since, output)
