"""Order-intake throughput over HTTP on PostgreSQL, next to pgbench on the same server.

Run it from the project root::

    .venv/bin/python bench/intake.py [--orders 10000] [--clients 32] [--workers 2]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--skip-pgbench]
        [--repeat 1]

What it does, in one run:

1. Drops and re-creates the database ``oms_bench_intake`` on the server of ``--pg-url`` and
   runs ``oms db upgrade`` on it (through ``OMS_DATABASE_URL``).
2. Creates a tenant with ``oms tenant create --json``, then starts
   ``oms serve --workers N --log-level warning`` on a free loopback port and waits for
   ``/readyz``.
3. Through the HTTP API: 3 locations, ``--skus`` products, and ample stock of every product at
   every location (``POST /v1/locations``, ``/v1/products``, ``/v1/inventory/adjustments``).
4. Warms up with ``--warmup`` orders and waits (up to 20 s) until the tables they wrote
   have planner statistics: ``oms serve`` analyzes a table without any within seconds,
   and a run measured before that would measure plans made blind. Then it places
   ``--orders`` orders (3 lines each, SKUs
   and quantities from a seeded RNG, a unique ``external_id`` each) with ``POST /v1/orders``
   from ``--clients`` concurrent clients, each one coroutine with one keep-alive connection.
   Every answer must be 201; anything else (or a transport error) is counted as an error and
   not as throughput. The number of measured orders in the database is checked against the
   201s. Warm-up failures are reported on their own line and do not stop the run (uvicorn
   restarts a worker that misses its 5 s health check, dropping that worker's connections).
   With ``--repeat R`` the measured phase runs R times (fresh orders each time, the same
   server and database): one line per run, then the full figures of the median run (by
   orders/s). The machine's speed drifts from minute to minute; one run says little.
5. Stops the server, then runs pgbench's TPC-B-like load on a scratch database of the same
   server (``pgbench -i -s 8``, then ``pgbench -c 8 -j 2 -T 20``), and drops that database.

It prints orders/second (201s only, over the wall time of the measured phase), p50/p95/p99
latency of the measured requests in milliseconds, errors, pgbench's tps and the ratio
orders/s : pgbench tps. It asserts nothing about the figures. The client runs on the same
machine as the server and PostgreSQL, so it competes with them for CPU; requests are
serialised before the clock starts to keep its share small.

On Linux it also prints where the CPU went during the measured phase, in CPU milliseconds
per order: the ``oms serve`` processes, the PostgreSQL backends of the intake database, this
client, and everything else on the machine (other work there makes the figures above noisy;
the per-order CPU figures much less so). The PostgreSQL figure counts the backends still
alive at the end: connections the pool opened and closed meanwhile (overflow beyond
``OMS_DB_POOL_SIZE``) are missed, so it is a lower bound.

Settings of the server come from the environment as usual (e.g. ``OMS_DB_POOL_SIZE``);
``OMS_DATABASE_URL`` is set by the script. Only loopback traffic; every phase is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import psycopg
import uvloop

from benchkit import (
    REQUEST_TIMEOUT,
    CpuMeter,
    CpuUse,
    KeepAlive,
    api_headers,
    database_url,
    drop_database,
    free_port,
    json_body,
    percentile,
    recreate_database,
    run_oms,
    start_server,
    stop_server,
    wait_ready,
)

INTAKE_DB = "oms_bench_intake"
PGBENCH_DB = "oms_bench_pgbench"
LOCATIONS = (("BENCH-A", 10), ("BENCH-B", 20), ("BENCH-C", 30))
STOCK_PER_LOCATION = 1_000_000
SETUP_CONCURRENCY = 16
PGBENCH_SCALE = 8
PGBENCH_ARGS = ("-c", "8", "-j", "2", "-T", "20")


@dataclass
class PhaseResult:
    """What one batch of requests gave: latencies of the 201s and every other outcome."""

    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    cpu: CpuUse | None = None
    warmup_failures: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> int:
        return len(self.latencies)


def count_orders(url: str, external_id_prefix: str) -> int:
    """Orders of the bench channel whose external id starts with ``external_id_prefix``."""
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT count(*) FROM orders WHERE channel = 'bench' AND external_id LIKE %s",
            (external_id_prefix + "%",),
        ).fetchone()
    return int(row[0]) if row else 0


# The tables an order intake writes: measuring starts once each has planner statistics.
INTAKE_TABLES = (
    "orders",
    "order_lines",
    "allocations",
    "order_holds",
    "order_events",
    "outbox",
    "customers",
)
STATISTICS_WAIT = 20.0


def wait_for_statistics(url: str, timeout: float = STATISTICS_WAIT) -> list[str]:
    """Wait until the warm-up's tables have been analyzed (by the server's statistics
    keeper, or autovacuum): the tables still without statistics after ``timeout``."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        while True:
            missing = [
                str(name)
                for (name,) in conn.execute(
                    "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s)"
                    " AND last_analyze IS NULL AND last_autoanalyze IS NULL",
                    (list(INTAKE_TABLES),),
                )
            ]
            if not missing or time.monotonic() > deadline:
                return sorted(missing)
            time.sleep(0.2)


async def post_all(
    base: str,
    api_key: str,
    path: str,
    bodies: Sequence[bytes],
    *,
    clients: int,
) -> PhaseResult:
    """POST every body to ``path`` from ``clients`` coroutines, one keep-alive connection each.

    A request counts as done only when it answers 201 and its body has been read.
    """
    headers = api_headers(api_key)
    requests = [KeepAlive.request("POST", base, path, headers, body) for body in bodies]
    return await send_all(base, requests, clients=clients, done=201)


async def send_all(base: str, requests: Sequence[bytes], *, clients: int, done: int) -> PhaseResult:
    """Send every ready-made request from ``clients`` coroutines, one keep-alive connection
    each; a request counts as done when it answers ``done`` and its body has been read."""
    result = PhaseResult()
    next_index = iter(range(len(requests)))

    async def client() -> None:
        connection: KeepAlive | None = None
        try:
            for i in next_index:
                started = time.perf_counter()
                try:
                    if connection is None or connection.closed:
                        connection = await KeepAlive.open(base)
                    async with asyncio.timeout(REQUEST_TIMEOUT):
                        status, _ = await connection.send(requests[i])
                except (OSError, TimeoutError) as error:
                    result.failures[type(error).__name__] += 1
                    if connection is not None:
                        connection.close()
                    connection = None
                    continue
                if status == done:
                    result.latencies.append(time.perf_counter() - started)
                else:
                    result.failures[f"HTTP {status}"] += 1
        finally:
            if connection is not None:
                connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    result.elapsed = time.perf_counter() - started
    return result


def catalogue_bodies(skus: Sequence[str]) -> tuple[list[bytes], list[bytes], list[bytes]]:
    locations = [
        json_body({"code": code, "name": f"Bench location {code}", "priority": priority})
        for code, priority in LOCATIONS
    ]
    products = [
        json_body(
            {
                "sku": sku,
                "name": f"Bench product {sku}",
                "price": f"{5 + n % 50}.99",
                "currency": "EUR",
                "weight_grams": 100 + n % 900,
            }
        )
        for n, sku in enumerate(skus)
    ]
    adjustments = [
        json_body(
            {
                "sku": sku,
                "location": code,
                "set_on_hand": STOCK_PER_LOCATION,
                "reason": "bench opening stock",
            }
        )
        for sku in skus
        for code, _ in LOCATIONS
    ]
    return locations, products, adjustments


def order_bodies(rng: random.Random, skus: Sequence[str], prefix: str, count: int) -> list[bytes]:
    bodies = []
    for n in range(count):
        bodies.append(
            json_body(
                {
                    "channel": "bench",
                    "external_id": f"{prefix}-{n}",
                    "currency": "EUR",
                    "customer": {"email": f"customer{n}@example.com", "name": f"Customer {n}"},
                    "shipping_address": {
                        "name": f"Customer {n}",
                        "line1": f"{1 + n % 200} Bench Street",
                        "city": "Rotterdam",
                        "postal_code": "3011AA",
                        "country": "NL",
                    },
                    "lines": [
                        {"sku": sku, "quantity": rng.randint(1, 3)} for sku in rng.sample(skus, 3)
                    ],
                }
            )
        )
    return bodies


def require_all_created(what: str, result: PhaseResult, expected: int) -> None:
    if result.ok != expected:
        raise RuntimeError(f"{what}: {result.ok}/{expected} answered 201, {dict(result.failures)}")


async def run_intake(
    args: argparse.Namespace, base: str, api_key: str, meter: CpuMeter, statistics_url: str
) -> list[PhaseResult]:
    rng = random.Random(args.seed)
    skus = [f"SKU-{n:05d}" for n in range(args.skus)]
    locations, products, adjustments = catalogue_bodies(skus)
    setup = {"clients": SETUP_CONCURRENCY}
    for what, path, bodies in (
        ("locations", "/v1/locations", locations),
        ("products", "/v1/products", products),
        ("stock", "/v1/inventory/adjustments", adjustments),
    ):
        require_all_created(what, await post_all(base, api_key, path, bodies, **setup), len(bodies))
    warmup = order_bodies(rng, skus, "warmup", args.warmup)
    warmed = await post_all(base, api_key, "/v1/orders", warmup, clients=args.clients)
    # Without statistics the server plans blind (docs/performance.md, item 11): the
    # measured runs start once the tables the warm-up wrote have them, as they soon would.
    missing = await asyncio.to_thread(wait_for_statistics, statistics_url)
    if missing:
        print(f"no planner statistics after {STATISTICS_WAIT:.0f} s for: {', '.join(missing)}")
    results = []
    for run in range(args.repeat):
        measured = order_bodies(rng, skus, f"order-{run}", args.orders)
        meter.start()
        result = await post_all(base, api_key, "/v1/orders", measured, clients=args.clients)
        result.cpu = meter.stop()
        result.warmup_failures = warmed.failures
        results.append(result)
    return results


def run_pgbench(server_url: str) -> float:
    """TPC-B-like tps of a scratch database on the same server (dropped afterwards)."""
    recreate_database(server_url, PGBENCH_DB)
    try:
        url = database_url(server_url, PGBENCH_DB)
        init = ["pgbench", "-i", "-q", "-s", str(PGBENCH_SCALE), url]
        subprocess.run(init, check=True, capture_output=True, timeout=300)
        done = subprocess.run(
            ["pgbench", *PGBENCH_ARGS, url],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        drop_database(server_url, PGBENCH_DB)
    found = re.search(r"^tps = ([\d.]+)", done.stdout, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"no tps in pgbench output:\n{done.stdout}")
    return float(found.group(1))


def rate_of(result: PhaseResult) -> float:
    return result.ok / result.elapsed if result.elapsed else 0.0


def print_table(args: argparse.Namespace, result: PhaseResult, tps: float | None) -> None:
    latencies = sorted(result.latencies)
    rate = rate_of(result)

    def failures(found: Counter[str]) -> str:
        return f"{sum(found.values())}" + (f"  {dict(found)}" if found else "")

    rows = [
        ("orders placed (201)", f"{result.ok} of {args.orders}"),
        ("errors", failures(result.failures)),
        ("warm-up errors", failures(result.warmup_failures)),
        ("wall time s", f"{result.elapsed:.2f}"),
        ("orders/s", f"{rate:.1f}"),
        ("p50 ms", f"{percentile(latencies, 50) * 1000:.1f}"),
        ("p95 ms", f"{percentile(latencies, 95) * 1000:.1f}"),
        ("p99 ms", f"{percentile(latencies, 99) * 1000:.1f}"),
        ("pgbench tps", "skipped" if tps is None else f"{tps:.1f}"),
        ("ratio orders/s : tps", "n/a" if not tps else f"{rate / tps:.3f}"),
    ]
    cpu = result.cpu
    if cpu is not None and result.ok:
        per_order = 1000 / result.ok
        rows += [
            ("cpu ms/order oms serve", f"{cpu.server * per_order:.2f}"),
            (
                "cpu ms/order postgres",
                f"{cpu.postgres * per_order:.2f}  (intake db backends still open: a lower bound)",
            ),
            ("cpu ms/order bench client", f"{cpu.client * per_order:.2f}"),
            ("cpu ms/order other work", f"{cpu.other * per_order:.2f}  (rest of the machine)"),
        ]
    width = max(len(name) for name, _ in rows)
    print(
        f"\nintake: {args.orders} orders x 3 lines, {args.clients} clients, "
        f"oms serve --workers {args.workers}, {args.skus} SKUs at {len(LOCATIONS)} locations"
    )
    print(f"pgbench: -i -s {PGBENCH_SCALE}; {' '.join(PGBENCH_ARGS)}\n")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=10_000, help="measured orders")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="oms serve --workers")
    parser.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="an existing database on the server, used to create and drop the others",
    )
    parser.add_argument("--skip-pgbench", action="store_true", help="leave pgbench out")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measured runs of --orders each, one after the other on the same server; "
        "each is printed, then the median run",
    )
    parser.add_argument("--skus", type=int, default=500, help="products in the catalogue")
    parser.add_argument("--warmup", type=int, default=500, help="orders before measuring")
    parser.add_argument("--seed", type=int, default=20_240_601, help="RNG seed for the orders")
    args = parser.parse_args(argv)
    if min(args.orders, args.clients, args.workers, args.repeat) < 1 or args.skus < 3:
        parser.error("--orders, --clients, --workers and --repeat must be >= 1, --skus >= 3")
    host = urlsplit(args.pg_url).hostname
    if host not in {"127.0.0.1", "localhost", "::1"}:
        parser.error("--pg-url must point at a loopback server")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    intake_url = database_url(args.pg_url, INTAKE_DB)
    env = {**os.environ, "OMS_DATABASE_URL": intake_url}
    recreate_database(args.pg_url, INTAKE_DB)
    run_oms(["db", "upgrade"], env)
    tenant = json.loads(run_oms(["tenant", "create", "--name", "Bench merchant", "--json"], env))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(env, port, args.workers)
    try:
        asyncio.run(wait_ready(base, server))
        meter = CpuMeter(server_group=server.pid, database=INTAKE_DB)
        results = uvloop.run(run_intake(args, base, tenant["api_key"], meter, intake_url))
    finally:
        stop_server(server)
    for run, result in enumerate(results):
        stored = count_orders(intake_url, f"order-{run}-")
        if stored != result.ok:
            result.failures[f"{stored} orders stored for {result.ok} 201s"] += 1
    tps = None if args.skip_pgbench else run_pgbench(args.pg_url)
    if len(results) > 1:
        print_runs(results)
    print_table(args, sorted(results, key=rate_of)[len(results) // 2], tps)
    return 0


def print_runs(results: Sequence[PhaseResult]) -> None:
    """One line per measured run: the machine's speed drifts, so one run says little."""
    print(f"\n{len(results)} runs (the median run follows):")
    for run, result in enumerate(results, 1):
        latencies = sorted(result.latencies)
        cpu = result.cpu
        per_order = 1000 / result.ok if result.ok else 0.0
        where = (
            ""
            if cpu is None
            else f", cpu ms/order server {cpu.server * per_order:.2f}"
            f" postgres {cpu.postgres * per_order:.2f}"
        )
        print(
            f"  run {run}: {rate_of(result):.1f} orders/s, p50/p95/p99 "
            f"{percentile(latencies, 50) * 1000:.0f}/{percentile(latencies, 95) * 1000:.0f}/"
            f"{percentile(latencies, 99) * 1000:.0f} ms, errors {sum(result.failures.values())}"
            f"{where}"
        )


if __name__ == "__main__":
    sys.exit(main())
