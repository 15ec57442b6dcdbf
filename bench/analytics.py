"""How fast the analytics reads are over the daily rollups of many order lines (PostgreSQL).

Run it from the project root::

    .venv/bin/python bench/analytics.py [--lines 10000000] [--calls 50] [--days 365]
        [--reuse [--rebuild]] [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--database oms_h_analytics_10m]

It seeds ``--database`` with orders of about ``--lines`` order lines
(``bench/seed_analytics.py``, generated on the server: 1-4 lines an order, two on average,
so ``lines / 2`` orders of 5 tenants over ``--days`` days, with their fulfilment orders,
shipments and timeline), builds the rollups with the code the worker and
``oms analytics rebuild`` use (``oms.services.rollups.rebuild``, timed), writes a year of
daily stock samples and flags their stock-out days as the rebuild does
(``flag_stockouts``), then times each analytics read ``--calls`` times (p50, p95, max in
ms): in-process use cases (``oms.services.analytics``, ``oms.services.stockouts``) for the
biggest tenant and for every tenant, and ``GET /v1/analytics/...`` and the portal's CSV
through the ASGI app (``TestClient``); last, a table of p95 per page against the 300 ms
aim, with the CPU time of the process per call beside it (``time.process_time``: the
Python side; the database server's is not in it). With ``--reuse`` a database already
seeded with as many lines, rollups and samples is kept as it is (``--rebuild``: rebuild
its rollups anyway). It asserts nothing about the figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from oms.adapters.db.engine import build_engine
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import create_app
from oms.config import Settings
from oms.domain.tenancy import ApiKeyScope
from oms.services import analytics
from oms.services.rollups import rebuild
from oms.services.stockouts import stockouts
from oms.services.tenants import create_api_key
from portal import _percentiles
from seed_analytics import seed_lines

AIM_MS = 300.0


def _seed_stock_days(url: str, days: int, now: datetime, uow: SqlUnitOfWorkFactory) -> None:
    """Daily stock samples as the worker would have written them (the seeder writes no
    inventory): every SKU ordered at each location, one day in twenty out, with server-side
    ``generate_series`` (fast); their stock-out days flagged as a rebuild flags them; and
    the size of what the analytics read."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM stock_days")
        conn.execute(
            """
            INSERT INTO stock_days (tenant_id, sku, location_id, day, low, close, updated_at)
            SELECT k.tenant_id, k.sku, k.location_id, d::date,
                   CASE WHEN random() < 0.05 THEN 0 ELSE 5 END, 5, %(now)s
            FROM (SELECT DISTINCT tenant_id, sku, location_id FROM analytics_facts
                  WHERE kind = 'routed') AS k,
                 generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d
            """,
            {"now": now, "first": (now - timedelta(days=days)).date(), "last": now.date()},
        )
        tenants = [row[0] for row in conn.execute("SELECT id FROM tenants")]
    started = time.perf_counter()
    for tenant_id in tenants:
        with uow() as work:
            work.rollups.flag_stockouts(tenant_id, (now - timedelta(days=days)).date())
            work.commit()
    print(f"stock-out days flagged in {time.perf_counter() - started:.1f} s")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE stock_days")
        facts = conn.execute("SELECT count(*) FROM analytics_facts").fetchone()
        samples = conn.execute("SELECT count(*) FROM stock_days").fetchone()
        lines = conn.execute("SELECT count(*) FROM order_lines").fetchone()
    print(
        f"order lines {lines[0] if lines else 0:,}; rollup rows {facts[0] if facts else 0:,}; "
        f"stock samples {samples[0] if samples else 0:,}"
    )


RESULTS: list[tuple[str, float, float, float]] = []


def timed(name: str, calls: int, call: Callable[[], Any]) -> float:
    call()
    samples = []
    cpu = time.process_time()
    for _ in range(calls):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    cpu_ms = (time.process_time() - cpu) * 1000 / calls
    p50, p95, worst = _percentiles(samples)
    mark = "" if p95 < AIM_MS else f"   (over the {AIM_MS:.0f} ms aim)"
    print(f"{name:<56} p50 {p50:7.1f}  p95 {p95:7.1f}  max {worst:7.1f} ms{mark}")
    RESULTS.append((name, p50, p95, cpu_ms))
    return p95


def _table() -> None:
    load = os.getloadavg()
    print(f"\n| page (load average {load[0]:.1f}) | p50 ms | p95 ms | client CPU ms/call | aim |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, p50, p95, cpu_ms in RESULTS:
        verdict = "met" if p95 < AIM_MS else "**missed**"
        print(f"| {name} | {p50:,.0f} | {p95:,.0f} | {cpu_ms:,.0f} | {verdict} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="oms_h_analytics_10m")
    parser.add_argument("--reuse", action="store_true", help="keep a seeded database")
    parser.add_argument("--rebuild", action="store_true", help="rebuild a reused one's rollups")
    args = parser.parse_args(argv)

    made = seed_lines(
        server_url=args.pg_url,
        database=args.database,
        lines=args.lines,
        days=args.days,
        reuse=args.reuse,
    )
    with psycopg.connect(made.url) as conn:
        lines = conn.execute("SELECT count(*) FROM order_lines").fetchone()
    print(f"{made.orders} orders, {lines[0] if lines else 0} order lines", end="")
    print(f" (seeded in {made.seconds:.0f} s)" if made.seconds else "")
    settings = Settings(database_url=made.url, api_key_cache_seconds=3600)
    engine = build_engine(settings)
    uow = SqlUnitOfWorkFactory(engine)
    now = datetime.now(UTC)
    with psycopg.connect(made.url) as conn:
        kept = conn.execute("SELECT count(*) FROM stock_days").fetchone()
    if not args.reuse or args.rebuild or not kept or not kept[0]:
        started = time.perf_counter()
        built = rebuild(uow_factory=uow, now=now)
        print(
            f"rollups rebuilt (oms.services.rollups.rebuild): {built.rows} rows for "
            f"{built.days} tenant-days in {time.perf_counter() - started:.1f} s "
            f"(load average {os.getloadavg()[0]:.1f})"
        )
        with psycopg.connect(made.url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE analytics_facts")
        _seed_stock_days(made.url, args.days, now, uow)
    else:
        print("rollups and stock samples kept (--reuse)")
    tenant = made.tenants[0]
    today = now.date()
    ranges = {
        "30 days": (today - timedelta(days=29), today),
        "a year": (today - timedelta(days=364), today),
    }
    print(f"\nin-process use cases ({args.calls} calls each)")
    for label, (first, last) in ranges.items():
        for who, tenant_id in (("one tenant", tenant), ("every tenant", None)):
            common: dict[str, Any] = {
                "uow_factory": uow,
                "tenant_id": tenant_id,
                "first": first,
                "last": last,
                "now": now,
            }
            timed(
                f"sales per day, {who}, {label}",
                args.calls,
                lambda c=common: analytics.sales(**c),
            )
            timed(
                f"sales per week by SKU, {who}, {label}",
                args.calls,
                lambda c=common: analytics.sales(period="week", by="sku", **c),
            )
            timed(
                f"sales per month by channel, {who}, {label}",
                args.calls,
                lambda c=common: analytics.sales(period="month", by="channel", **c),
            )
            timed(
                f"SKUs (cover, ABC/XYZ), {who}, {label}",
                args.calls,
                lambda c=common: analytics.skus(**c),
            )
            timed(
                f"fulfilment by carrier, {who}, {label}",
                args.calls,
                lambda c=common: analytics.fulfilment(by="carrier", **c),
            )
            timed(
                f"fulfilment by location, {who}, {label}",
                args.calls,
                lambda c=common: analytics.fulfilment(by="location", **c),
            )
            timed(
                f"stock-out days, {who}, {label}",
                args.calls,
                lambda c=common: stockouts(**c),
            )

    key = create_api_key(uow_factory=uow, scope=ApiKeyScope.TENANT, tenant_id=tenant, name="bench")
    headers = {"Authorization": f"Bearer {key.secret}"}
    first, last = ranges["a year"]
    year = {"from": first.isoformat(), "to": last.isoformat()}
    print(f"\nover HTTP, in-process ASGI, one tenant, a year ({args.calls} calls each)")
    with TestClient(create_app(settings, engine=engine)) as client:
        for path, params in (
            ("/v1/analytics/sales", {"period": "week"}),
            ("/v1/analytics/sales", {"period": "month", "by": "sku", "format": "csv"}),
            ("/v1/analytics/skus", {}),
            ("/v1/analytics/fulfilment", {"by": "service"}),
            ("/v1/analytics/stockouts", {}),
        ):

            def call(path: str = path, params: dict[str, str] = params) -> None:
                answer = client.get(path, params={**year, **params}, headers=headers)
                assert answer.status_code == 200, answer.text

            timed(f"GET {path} {params}", args.calls, call)
    engine.dispose()
    _table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
