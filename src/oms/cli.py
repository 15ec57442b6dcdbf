"""The ``oms`` command: serve, worker, demo, db, tenant, apikey, location, carriers,
routing, check.

Tenants, API keys and locations are in ``oms.cli_admin``; what every command shares
(settings, the database, one-line errors) in ``oms.cli_support``.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer

from oms.cli_admin import apikey_app, location_app, tenant_app
from oms.cli_analytics import analytics_app
from oms.cli_channels import channels_app
from oms.cli_forecast import forecast_app, nightly_job
from oms.cli_imports import export_app, import_app
from oms.cli_simulate import simulate_app
from oms.cli_support import database as _database
from oms.cli_support import fail as _fail
from oms.cli_support import guard as _guard
from oms.cli_support import load_settings as _settings
from oms.cli_support import read_file as _read
from oms.cli_users import user_app

if TYPE_CHECKING:  # imported where used: a worker of `oms serve` imports this module
    # before it can answer its supervisor's health checks (oms.api.serving)
    from oms.domain.shipments import Shipment
    from oms.domain.tracking import TrackingEvent

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Order management system.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
carriers_app = typer.Typer(no_args_is_help=True, help="Carrier services and rate cards.")
routing_app = typer.Typer(no_args_is_help=True, help="Order routing (DOM).")
app.add_typer(db_app, name="db")
app.add_typer(tenant_app, name="tenant")
app.add_typer(apikey_app, name="apikey")
app.add_typer(location_app, name="location")
app.add_typer(user_app, name="user")
app.add_typer(carriers_app, name="carriers")
app.add_typer(routing_app, name="routing")
app.add_typer(channels_app, name="channels")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(forecast_app, name="forecast")
app.add_typer(analytics_app, name="analytics")
app.add_typer(simulate_app, name="simulate")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to OMS_DATABASE_URL."""
    from oms.adapters.db.migrate import upgrade

    with _database(_settings()) as uow:
        _guard(lambda: upgrade(uow.engine))
    typer.echo("database is up to date")


@carriers_app.command("import")
def carriers_import(
    path: Annotated[Path, typer.Argument(help="A rate card file (.csv, .yaml or .yml)")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv or yaml")] = None,
) -> None:
    """Create or replace carrier services from a rate card file."""
    from oms.services.carriers import import_rate_cards

    kind = fmt or ("csv" if path.suffix.lower() == ".csv" else "yaml")
    if kind not in ("csv", "yaml"):
        _fail("--format must be csv or yaml", 2)
    text = _read(path)
    with _database(_settings()) as uow:
        result = _guard(
            lambda: import_rate_cards(
                uow_factory=uow,
                principal=None,
                text=text,
                fmt=kind,  # type: ignore[arg-type]
            )
        )
    typer.echo(f"imported: {result.created} new, {result.updated} replaced carrier service(s)")


# The clock of the commands that play time forward: the current time unless told otherwise.
ClockOption = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="Pretend it is this time (ISO 8601, e.g. 2026-12-01T18:00:00Z); default now",
    ),
]


def _clock(at: str | None) -> datetime:
    """The time ``--at`` names (with its time zone), or the current time."""
    if at is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        _fail(f"--at: not an ISO 8601 time: {at!r}")
    if when.tzinfo is None:
        _fail("--at: give a time zone (e.g. Z)")
    return when.astimezone(UTC)


@carriers_app.command("simulate")
def carriers_simulate(
    at: ClockOption = None,
    seed: Annotated[int, typer.Option(help="Which realistic journeys parcels take")] = 1,
) -> None:
    """Play the table-rate carriers: send every shipment on its way the tracking events a
    real carrier would have sent by now (scans, out for delivery, delivered; a few
    exceptions), through the same path as signed carrier webhooks."""
    from oms.adapters.carriers.simulator import simulate_events
    from oms.services.tracking import simulate_carriers

    when = _clock(at)

    def journey(shipment: Shipment, now: datetime) -> list[TrackingEvent]:
        return simulate_events(
            tracking_number=shipment.tracking_number,
            shipped_at=shipment.created_at,
            deliver_by=shipment.deliver_by,
            now=now,
            seed=seed,
        )

    with _database(_settings()) as uow:
        report = _guard(lambda: simulate_carriers(uow_factory=uow, simulator=journey, now=when))
    typer.echo(
        f"{report.accepted} new tracking event(s), {report.duplicates} already known; "
        f"{report.status_changes} shipment(s) moved"
    )


@routing_app.command("simulate")
def routing_simulate(
    profile: Annotated[Path, typer.Option(help="Candidate routing profile (JSON or YAML)")],
    orders: Annotated[Path, typer.Option(help="Orders: CSV or JSON lines")],
    tenant: Annotated[str, typer.Option(help="Tenant id")],
) -> None:
    """Route orders under the current and a candidate profile; change nothing; compare."""
    import yaml

    from oms.adapters.geocoding.offline import OfflineGeocoder
    from oms.domain.routing_profile import RoutingProfile
    from oms.services.routing_profiles import get_routing_profile
    from oms.services.simulation import parse_orders, simulate

    try:
        tenant_id = UUID(tenant)
        raw = yaml.safe_load(_read(profile))
    except ValueError:
        _fail(f"--tenant {tenant!r} is not a tenant id", 2)
    except yaml.YAMLError as error:
        _fail(f"{profile}: not JSON or YAML ({str(error).splitlines()[0]})", 2)
    if not isinstance(raw, dict):
        _fail(f"{profile}: a routing profile is an object of settings", 2)
    candidate = _guard(lambda: RoutingProfile.from_dict(raw))
    order_list = _guard(lambda: parse_orders(_read(orders)))
    with _database(_settings()) as uow:
        current = _guard(lambda: get_routing_profile(uow_factory=uow, tenant_id=tenant_id))
        now_totals, new_totals = _guard(
            lambda: simulate(
                uow_factory=uow,
                tenant_id=tenant_id,
                orders=order_list,
                profiles=[current, candidate],
                geocoder=OfflineGeocoder(),
            )
        )
    rows = [
        ("orders", now_totals.orders, new_totals.orders),
        ("shipping cost", now_totals.shipping, new_totals.shipping),
        ("handling cost", now_totals.handling, new_totals.handling),
        ("total cost", now_totals.total_cost, new_totals.total_cost),
        (
            "packages per order",
            f"{now_totals.packages_per_order:.3f}",
            f"{new_totals.packages_per_order:.3f}",
        ),
        ("split rate", f"{now_totals.split_rate:.1%}", f"{new_totals.split_rate:.1%}"),
        ("late promises", now_totals.late_orders, new_totals.late_orders),
        ("backordered units", now_totals.backordered_units, new_totals.backordered_units),
    ]
    typer.echo(f"{'':22}{'current v' + str(current.version):>16}{'candidate':>16}")
    for name, before, after in rows:
        typer.echo(f"{name:22}{before!s:>16}{after!s:>16}")
    typer.echo("packages per location:")
    for code in sorted(set(now_totals.load) | set(new_totals.load)):
        typer.echo(f"  {code:20}{now_totals.load[code]:>16}{new_totals.load[code]:>16}")


@app.command("check")
def check() -> None:
    """Verify the books: on_hand = ledger sum, reserved = open allocations, every row;
    each customer's store-credit balance = the sum of its entries, never below zero."""
    from oms.services.checks import find_invariant_violations, find_store_credit_violations

    with _database(_settings()) as uow:
        violations = _guard(lambda: find_invariant_violations(uow_factory=uow))
        credit = _guard(lambda: find_store_credit_violations(uow_factory=uow))
    for v in violations:
        typer.echo(
            f"tenant {v.tenant_id} sku {v.sku} location {v.location_id}: "
            f"{v.field} is {v.stored}, expected {v.expected}",
            err=True,
        )
    for c in credit:
        typer.echo(
            f"tenant {c.tenant_id} customer {c.customer_id} store credit {c.currency}: "
            f"balance is {c.stored}, expected {c.expected} (the sum of its entries"
            f"{'; below zero' if c.negative else ''})",
            err=True,
        )
    if violations or credit:
        _fail(f"{len(violations) + len(credit)} invariant violation(s)")
    typer.echo(
        "ok: every inventory level balances with its ledger and allocations, "
        "every store-credit balance with its entries"
    )


@app.command("timers")
def timers() -> None:
    """Run what is due because time passed: expire cart holds, re-hold lapsed payments,
    cancel and restock store pickups nobody collected, route backorders whose stock is in."""
    from oms.adapters.payments.registry import gateway_named
    from oms.services.timers import run_timers

    with _database(_settings()) as uow:
        report = _guard(lambda: run_timers(uow_factory=uow, gateways=gateway_named))
    typer.echo(
        f"expired {report.carts_expired} cart reservation(s); put "
        f"{report.orders_put_on_payment_hold} order(s) back on payment_pending; cancelled "
        f"{report.pickups_expired} uncollected pickup(s); routed "
        f"{report.backorders_routed} backorder(s) whose stock is in"
    )


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
) -> None:
    """Serve the API (uvicorn) on OMS_DATABASE_URL."""
    from oms.api.serving import serve as serve_api

    settings = _settings()
    serve_api(
        "oms.api.app:create_app",
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        read_timeout=settings.http_read_timeout_seconds,
        max_header_bytes=settings.max_header_bytes,
    )


@app.command("worker")
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Stop when a round finds nothing due (else run on)")
    ] = False,
    batch_size: Annotated[
        int, typer.Option(min=1, max=5000, help="Outbox messages and deliveries per round")
    ] = 200,
    threads: Annotated[int, typer.Option(min=1, max=512, help="Sends at once")] = 32,
    idle_seconds: Annotated[
        float, typer.Option(min=0.01, max=60, help="Sleep after a round with nothing to do")
    ] = 0.2,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on this port (127.0.0.1)")
    ] = None,
    lease_seconds: Annotated[
        float,
        typer.Option(
            min=2,
            max=3600,
            help="How long a claimed delivery is this worker's; a killed worker's come due "
            "again after it",
        ),
    ] = 120,
    rollup_seconds: Annotated[
        float,
        typer.Option(
            min=0,
            max=86400,
            help="Catch the analytics rollups up this often (0: never; docs/analytics.md)",
        ),
    ] = 30,
    nightly_seconds: Annotated[
        float,
        typer.Option(
            min=0,
            max=86400,
            help="Check this often whether a tenant's nightly forecasts, rollups and "
            "replenishment are due (each tenant's nightly_hour, once a day; 0: never; "
            "docs/decisions.md)",
        ),
    ] = 60,
    stock_push_seconds: Annotated[
        float,
        typer.Option(
            min=0,
            max=3600,
            help="Push changed stock to the stores after this long, in one batch "
            "(0: never; docs/channels.md)",
        ),
    ] = 5,
) -> None:
    """Deliver the outbox: fan each event out to its subscribers (webhook endpoints, and
    the email and NATS sinks when configured) and send what is due, retrying on the
    schedule; every ``--rollup-seconds`` catch the analytics rollups up, every
    ``--stock-push-seconds`` queue the stock levels changed since for the stores that sell
    them. SIGTERM finishes the batch in progress, then stops."""
    import logging

    import orjson
    from prometheus_client import REGISTRY, start_http_server
    from psycopg.types.json import set_json_loads

    from oms.adapters.metrics import DeliveryMetrics
    from oms.adapters.payments.registry import gateway_named
    from oms.services.parcel_claims import claim_quiet_parcels
    from oms.services.rollups import refresh
    from oms.wiring import event_batch_renderer, event_renderer, event_sinks, stock_pushes
    from oms.worker.runner import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    # The worker reads a JSON document or more per event (payloads, the orders it renders):
    # orjson reads them in a fraction of the time (same values).
    set_json_loads(orjson.loads)
    settings = _settings()
    # The default registry: the email sink's counters (oms.adapters.email.metrics) are there.
    metrics = DeliveryMetrics(REGISTRY)
    if metrics_port is not None:
        start_http_server(metrics_port, addr="127.0.0.1", registry=REGISTRY)
    with _database(settings) as uow:
        runner = Worker(
            uow_factory=uow,
            sinks=event_sinks(
                settings, lambda: datetime.now(UTC), uow_factory=uow, max_connections=threads
            ),
            render=event_renderer(),
            render_many=event_batch_renderer(),
            batch_size=batch_size,
            threads=threads,
            idle_seconds=idle_seconds,
            observe=metrics.observe,
            lease=timedelta(seconds=lease_seconds),
            periodic=[
                *(
                    [(rollup_seconds, lambda: refresh(uow_factory=uow, now=datetime.now(UTC)))]
                    if rollup_seconds
                    else []
                ),
                *([(nightly_seconds, nightly_job(uow))] if nightly_seconds else []),
                *(
                    [(stock_push_seconds, stock_pushes(settings, uow, stock_push_seconds))]
                    if stock_push_seconds
                    else []
                ),
            ],
        )
        # Parcels not scanned for the tenant's claim_after_days open their claim (hourly).
        runner.add_periodic(
            3600,
            lambda: claim_quiet_parcels(
                uow_factory=uow, gateways=gateway_named, now=datetime.now(UTC)
            ),
        )
        runner.stop_on_signals()
        typer.echo(f"oms worker: delivering (batch {batch_size}, {threads} threads)")
        sys.stdout.flush()
        attempted = _guard(lambda: runner.run(once=once))
    typer.echo(f"oms worker: stopped after {attempted} delivery attempt(s)")


@app.command("demo")
def demo(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after")] = True,
    at: ClockOption = None,
    worker: Annotated[
        bool,
        typer.Option("--worker/--no-worker", help="Run `oms worker` beside the server"),
    ] = True,
) -> None:
    """Migrate, seed a demo tenant with locations, products, stock and orders, then serve
    (with a worker delivering events beside it). Its history (orders shipped and
    delivered, today's wave) is told back from ``--at``."""
    from oms.adapters.db.migrate import upgrade
    from oms.demo import seed_demo
    from oms.demo_users import DEMO_PASSWORD, seed_demo_users
    from oms.wiring import carrier_provider, password_hasher, pickup_code_key

    now = _clock(at)
    with _database(_settings()) as uow:
        _guard(lambda: upgrade(uow.engine))
        settings = _settings()
        seeded = _guard(
            lambda: seed_demo(
                uow_factory=uow,
                carrier_gateway=carrier_provider(settings),
                pickup_key=pickup_code_key(settings),
                now=now,
            )
        )
        logins = _guard(
            lambda: seed_demo_users(
                uow_factory=uow,
                hasher=password_hasher(settings),
                tenant_id=seeded.tenant_id,
                now=now,
            )
        )
    portal = f"http://{host}:{port}/app"
    for login in logins:
        typer.echo(
            f"portal: {portal}  {login.role.value}: {login.email} / password {DEMO_PASSWORD}"
        )
    typer.echo(
        f"demo tenant: {seeded.tenant_id}\n"
        f"demo API key (shown once): {seeded.api_key}\n"
        f"operator API key (shown once): {seeded.operator_key}\n"
        f"API: http://{host}:{port}/v1  docs: http://{host}:{port}/docs\n"
        f"order status page: http://{host}:{port}/status/{seeded.slug}\n"
        f"try: curl -H 'Authorization: Bearer {seeded.api_key}' http://{host}:{port}/v1/orders"
    )
    sys.stdout.flush()
    if serve_after:
        beside = _start_worker() if worker else None
        try:
            serve(host=host, port=port, workers=1, log_level="info")
        finally:
            if beside is not None:
                beside.terminate()  # SIGTERM: it finishes its batch
                beside.wait(timeout=60)


def _start_worker() -> subprocess.Popen[bytes]:
    """``oms worker`` in a process of its own, on the same settings."""
    return subprocess.Popen(
        [sys.executable, "-c", "from oms.cli import app; app()", "worker"],
    )
