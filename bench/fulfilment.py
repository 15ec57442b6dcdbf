"""Warehouse throughput over HTTP on PostgreSQL: shipments per second out of one location.

Run it from the project root::

    .venv/bin/python bench/fulfilment.py [--orders 1000] [--wave-size 50] [--clients 8]
        [--workers 2] [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

Setup, not timed:

1. Drops and re-creates the database ``oms_bench_fulfilment`` on the server of ``--pg-url``
   and runs ``oms db upgrade`` on it (through ``OMS_DATABASE_URL``).
2. ``oms tenant create --json`` and ``oms apikey create --operator --json``, then starts
   ``oms serve --workers N --log-level warning`` on a free loopback port and waits for
   ``/readyz``.
3. Through the HTTP API: the operator imports an ``acme/ground`` rate card (the one of
   ``tests/integration/test_routing.py``); the tenant creates one warehouse near Cologne
   (coordinates, address, three box sizes), ``--skus`` products with EAN-13 barcodes,
   weights and dimensions, a bin per product and ample stock of each.
4. ``--orders`` orders of 1-3 lines (1-3 units each; SKUs, quantities and German
   destinations from a seeded RNG), paid by card (``{"gateway": "test", "token":
   "tok_approve"}``: authorised at intake, captured when shipped), so each is released at
   intake as one open fulfilment order at the warehouse. That is checked before measuring.

Measured phase, until no open fulfilment order is left:

* One wave coordinator creates a wave of ``--wave-size`` orders
  (``POST /v1/locations/{code}/pick-waves``), confirms it picked in full
  (``POST /v1/pick-waves/{id}/confirm``) and puts its fulfilment orders on a shared queue.
  The queue holds at most one wave, so the coordinator works about one wave ahead of the
  packers, as a floor supervisor releasing the next wave would.
* ``--clients`` pack stations (coroutines, one keep-alive connection each) take fulfilment
  orders from the queue: each packs all its units in one package, scanning its SKUs once
  per unit (``POST /v1/fulfillment-orders/{id}/packages``; the box is chosen by the
  server), then buys the label and ships it (``POST /v1/fulfillment-orders/{id}/shipments``:
  label, stock out, payment capture in one request).

It prints the wall time of the measured phase, shipments/second (201s only), how much of
that time the wave coordinator was busy and the pack stations idle (the wave steps run one
at a time, so a busy coordinator and idle packers mean waves bound the rate), p50/p95/p99
latency per step (wave create, confirm, pack, ship) in milliseconds, every non-2xx answer
or transport error by step and status (with the first body of each kind), and then checks
that every order shipped exactly once (shipments in the database), that the warehouse's
``on_hand`` of every SKU fell by exactly the units shipped with nothing left reserved, that
every fulfilment order is shipped, and that ``oms check`` passes. The exit code is 1 when a
check fails. Nothing is asserted about speed: the client, the server and PostgreSQL share
the machine, so the figures are noisy.

On Linux it also prints CPU milliseconds per shipment during the measured phase: the
``oms serve`` processes, the PostgreSQL backends of the bench database (those still open at
the end: a lower bound), this client, and the rest of the machine.

Settings of the server come from the environment as usual (e.g. ``OMS_DB_POOL_SIZE``);
``OMS_DATABASE_URL`` is set by the script. Only loopback traffic; every phase is bounded
(``--timeout`` for the measured one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
import psycopg

from benchkit import (
    OMS,
    REQUEST_TIMEOUT,
    CpuMeter,
    CpuUse,
    api_headers,
    database_url,
    free_port,
    json_body,
    percentile,
    recreate_database,
    run_oms,
    start_server,
    stop_server,
    wait_ready,
)

T = TypeVar("T")

BENCH_DB = "oms_bench_fulfilment"
WAREHOUSE = "WH-BENCH"
STOCK_PER_SKU = 100_000
SERVER_START_TIMEOUT = 120.0  # twice benchkit's default
SETUP_TIMEOUT = 900.0
SETUP_CONCURRENCY = 8
MAX_WAVE_FAILURES = 5
STEPS = ("wave create", "confirm", "pack", "ship")

# The acme ground card of tests/integration/test_routing.py.
RATES = """
- carrier: acme
  code: ground
  name: Acme Ground
  currency: EUR
  zones:
    distance_bands:
      - {up_to_km: 15, zone: local}
      - {up_to_km: 300, zone: near}
      - {up_to_km: .inf, zone: far}
  prices:
    - {zone: local, transit_days: 1, per_kg_over: "0.50",
       breaks: [{up_to_grams: 5000, price: "4.00"}]}
    - {zone: near, transit_days: 1, per_kg_over: "0.50",
       breaks: [{up_to_grams: 5000, price: "5.00"}]}
    - {zone: far, transit_days: 3, per_kg_over: "1.00",
       breaks: [{up_to_grams: 5000, price: "14.00"}]}
"""
BOXES = [
    {"code": "S", "length_mm": 300, "width_mm": 200, "height_mm": 150, "max_weight_grams": 5000},
    {"code": "M", "length_mm": 400, "width_mm": 300, "height_mm": 250, "max_weight_grams": 15000},
    {"code": "L", "length_mm": 600, "width_mm": 400, "height_mm": 400, "max_weight_grams": 30000},
]
# (city, postal code, latitude, longitude): local, near and far from the warehouse.
DESTINATIONS = (
    ("Koeln", "50667", 50.94, 6.96),
    ("Bonn", "53111", 50.73, 7.10),
    ("Duesseldorf", "40213", 51.23, 6.78),
    ("Dortmund", "44135", 51.51, 7.47),
    ("Frankfurt am Main", "60311", 50.11, 8.68),
    ("Hamburg", "20095", 53.55, 9.99),
    ("Muenchen", "80331", 48.14, 11.58),
    ("Berlin", "10117", 52.52, 13.40),
)


# --- time limits -------------------------------------------------------------------------------


async def bounded(what: str, awaitable: Awaitable[T], seconds: float) -> T:
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        raise RuntimeError(f"{what}: not done after {seconds:.0f}s") from None


# --- HTTP --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int  # 0 for a transport error or a timeout
    body: Any
    seconds: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def new_session(api_key: str) -> aiohttp.ClientSession:
    """One keep-alive connection, the key on every request."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=1),
        headers=api_headers(api_key),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
    )


async def call(
    session: aiohttp.ClientSession, method: str, url: str, body: bytes | None = None
) -> Answer:
    """One request; the answer's JSON (else its text) once fully read, and how long it took."""
    started = time.perf_counter()
    try:
        async with session.request(method, url, data=body) as response:
            raw = await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as error:
        return Answer(0, type(error).__name__, time.perf_counter() - started)
    seconds = time.perf_counter() - started
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")[:500]
    return Answer(status, parsed, seconds)


async def require(
    session: aiohttp.ClientSession, method: str, url: str, body: Any = None, *, status: int
) -> Any:
    answer = await call(session, method, url, None if body is None else json_body(body))
    if answer.status != status:
        raise RuntimeError(f"{method} {url}: {answer.status} (wanted {status}): {answer.body}")
    return answer.body


async def post_each(base: str, api_key: str, path: str, bodies: Sequence[bytes]) -> list[Answer]:
    """POST every body to ``path`` from ``SETUP_CONCURRENCY`` clients; answers in order."""
    answers: list[Answer | None] = [None] * len(bodies)
    next_index = iter(range(len(bodies)))

    async def client() -> None:
        async with new_session(api_key) as session:
            for i in next_index:
                answers[i] = await call(session, "POST", base + path, bodies[i])

    await asyncio.gather(*(client() for _ in range(SETUP_CONCURRENCY)))
    return [a for a in answers if a is not None]


async def walk(session: aiohttp.ClientSession, url: str) -> list[dict[str, Any]]:
    """Every item of a paged list."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = await require(
            session, "GET", url + ("" if cursor is None else f"&cursor={cursor}"), status=200
        )
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


# --- the world ---------------------------------------------------------------------------------


def ean13(serial: int) -> str:
    """A valid EAN-13 in a made-up company prefix."""
    body = f"400638{serial:06d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def products(count: int) -> list[dict[str, Any]]:
    return [
        {
            "sku": f"FB-{n:03d}",
            "name": f"Bench product {n}",
            "price": f"{9 + n % 40}.95",
            "currency": "EUR",
            "weight_grams": 150 + (n * 97) % 750,
            "barcode": ean13(n),
            "length_mm": 80 + (n * 37) % 120,
            "width_mm": 60 + (n * 23) % 90,
            "height_mm": 30 + (n * 13) % 70,
        }
        for n in range(count)
    ]


def order_bodies(rng: random.Random, skus: Sequence[str], count: int) -> list[dict[str, Any]]:
    bodies = []
    for n in range(count):
        city, postal_code, lat, lon = rng.choice(DESTINATIONS)
        lines = rng.sample(list(skus), rng.randint(1, 3))
        bodies.append(
            {
                "channel": "bench",
                "external_id": f"fulfilment-{n}",
                "currency": "EUR",
                "customer": {"email": f"customer{n}@example.com", "name": f"Customer {n}"},
                "shipping_address": {
                    "name": f"Customer {n}",
                    "line1": f"Benchstrasse {1 + n % 200}",
                    "city": city,
                    "postal_code": postal_code,
                    "country": "DE",
                    "latitude": lat,
                    "longitude": lon,
                },
                "lines": [{"sku": sku, "quantity": rng.randint(1, 3)} for sku in lines],
                "payment": {"gateway": "test", "token": "tok_approve"},
            }
        )
    return bodies


@dataclass(frozen=True)
class World:
    skus: list[str]
    ordered_units: Counter[str]
    on_hand_before: dict[str, int]


async def build_world(
    args: argparse.Namespace, base: str, api_key: str, operator_key: str
) -> World:
    """Rate cards, the warehouse, products, stock and the paid orders; every answer checked."""
    async with new_session(operator_key) as operator:
        await require(
            operator,
            "POST",
            f"{base}/v1/carrier-services/import",
            {"format": "yaml", "document": RATES},
            status=200,
        )
    catalogue = products(args.skus)
    skus = [p["sku"] for p in catalogue]
    async with new_session(api_key) as session:
        await require(
            session,
            "POST",
            f"{base}/v1/locations",
            {
                "code": WAREHOUSE,
                "name": "Bench warehouse",
                "kind": "warehouse",
                "latitude": 50.88,
                "longitude": 7.06,
                "address": {
                    "line1": "Lagerstrasse 1",
                    "city": "Koeln",
                    "postal_code": "51105",
                    "country": "DE",
                },
                "boxes": BOXES,
            },
            status=201,
        )
        for product in catalogue:
            await require(session, "POST", f"{base}/v1/products", product, status=201)
            await require(
                session,
                "POST",
                f"{base}/v1/inventory/adjustments",
                {
                    "sku": product["sku"],
                    "location": WAREHOUSE,
                    "set_on_hand": STOCK_PER_SKU,
                    "reason": "bench opening stock",
                },
                status=201,
            )
        bins = [
            {"sku": sku, "bin": f"A-{n // 10 + 1:02d}-{n % 10 + 1:02d}"}
            for n, sku in enumerate(skus)
        ]
        await require(
            session, "PUT", f"{base}/v1/locations/{WAREHOUSE}/bins", {"bins": bins}, status=200
        )
        on_hand_before = await on_hand_at_warehouse(session, base, skus)

    bodies = order_bodies(random.Random(args.seed), skus, args.orders)
    answers = await post_each(base, api_key, "/v1/orders", [json_body(b) for b in bodies])
    refused = [a for a in answers if a.status != 201]
    if refused:
        raise RuntimeError(
            f"orders: {len(refused)} of {len(bodies)} not 201, e.g. "
            f"{refused[0].status}: {refused[0].body}"
        )
    ordered: Counter[str] = Counter()
    for body in bodies:
        for line in body["lines"]:
            ordered[line["sku"]] += line["quantity"]

    async with new_session(api_key) as session:
        open_fos = await walk(
            session, f"{base}/v1/fulfillment-orders?location={WAREHOUSE}&status=open&limit=200"
        )
    if len(open_fos) != args.orders or {fo["location"] for fo in open_fos} != {WAREHOUSE}:
        raise RuntimeError(
            f"{len(open_fos)} open fulfilment orders at {WAREHOUSE} for {args.orders} orders"
        )
    return World(skus=skus, ordered_units=ordered, on_hand_before=on_hand_before)


async def on_hand_at_warehouse(
    session: aiohttp.ClientSession, base: str, skus: Sequence[str], *, reserved: bool = False
) -> dict[str, int]:
    """Each SKU's ``on_hand`` (or ``reserved``) at the warehouse."""
    found = {}
    for sku in skus:
        stock = await require(session, "GET", f"{base}/v1/inventory/{sku}", status=200)
        row = next(loc for loc in stock["locations"] if loc["location"] == WAREHOUSE)
        found[sku] = row["reserved" if reserved else "on_hand"]
    return found


# --- the measured phase ------------------------------------------------------------------------


@dataclass
class FlowResult:
    """Latencies of the 2xx answers per step, and everything else that happened."""

    elapsed: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: Counter[str] = field(default_factory=Counter)
    failure_samples: dict[str, str] = field(default_factory=dict)
    waves: int = 0
    wave_orders: list[int] = field(default_factory=list)
    shipped_units: Counter[str] = field(default_factory=Counter)
    shipments: int = 0
    packer_idle: float = 0.0
    cpu: CpuUse | None = None

    def record(self, step: str, answer: Answer) -> bool:
        if answer.ok:
            self.latencies[step].append(answer.seconds)
            return True
        kind = f"{step}: " + (str(answer.body) if answer.status == 0 else f"HTTP {answer.status}")
        self.failures[kind] += 1
        self.failure_samples.setdefault(kind, json.dumps(answer.body)[:600])
        return False


@dataclass(frozen=True)
class Work:
    fo_id: str
    scans: list[str]


async def coordinate_waves(
    args: argparse.Namespace,
    base: str,
    api_key: str,
    queue: asyncio.Queue[Work | None],
    result: FlowResult,
) -> None:
    """Create and confirm waves until none can be made; then tell every packer to stop."""
    wave_url = f"{base}/v1/locations/{WAREHOUSE}/pick-waves"
    open_url = f"{base}/v1/fulfillment-orders?location={WAREHOUSE}&status=open&limit=1"
    failures_in_a_row = 0
    try:
        async with new_session(api_key) as session:
            while failures_in_a_row < MAX_WAVE_FAILURES:
                created = await call(
                    session, "POST", wave_url, json_body({"max_orders": args.wave_size})
                )
                if created.status == 409:
                    # Nothing to pick, or a conflict: only the first ends the run.
                    left = await call(session, "GET", open_url)
                    if left.ok and not [fo for fo in left.body["items"] if fo["wave_id"] is None]:
                        return
                if not result.record("wave create", created):
                    failures_in_a_row += 1
                    await asyncio.sleep(0.2)
                    continue
                wave = created.body
                result.waves += 1
                result.wave_orders.append(len(wave["fulfillment_order_ids"]))
                confirmed = await call(
                    session, "POST", f"{base}/v1/pick-waves/{wave['id']}/confirm"
                )
                if not result.record("confirm", confirmed):
                    failures_in_a_row += 1
                    continue
                failures_in_a_row = 0
                for fo in confirmed.body["fulfillment_orders"]:
                    scans = [
                        line["sku"]
                        for line in fo["lines"]
                        for _ in range(line["picked"] - line["packed"])
                    ]
                    await queue.put(Work(fo["id"], scans))
    finally:
        for _ in range(args.clients):
            await queue.put(None)


async def pack_and_ship(
    base: str, api_key: str, queue: asyncio.Queue[Work | None], result: FlowResult
) -> None:
    """A pack station: pack each fulfilment order taken from the queue in one box, ship it."""
    async with new_session(api_key) as session:
        while True:
            waited = time.perf_counter()
            work = await queue.get()
            result.packer_idle += time.perf_counter() - waited
            if work is None:
                return
            fo_url = f"{base}/v1/fulfillment-orders/{work.fo_id}"
            packed = await call(
                session, "POST", f"{fo_url}/packages", json_body({"scans": work.scans})
            )
            if not result.record("pack", packed):
                continue
            shipped = await call(session, "POST", f"{fo_url}/shipments")
            if result.record("ship", shipped) and shipped.status == 201:
                result.shipments += 1
                for item in shipped.body["contents"]:
                    result.shipped_units[item["sku"]] += item["quantity"]


async def run_flow(
    args: argparse.Namespace, base: str, api_key: str, meter: CpuMeter
) -> FlowResult:
    result = FlowResult()
    queue: asyncio.Queue[Work | None] = asyncio.Queue(maxsize=args.wave_size)
    meter.start()
    started = time.perf_counter()
    tasks = [
        coordinate_waves(args, base, api_key, queue, result),
        *(pack_and_ship(base, api_key, queue, result) for _ in range(args.clients)),
    ]
    await bounded("measured phase", asyncio.gather(*tasks), args.timeout)
    result.elapsed = time.perf_counter() - started
    result.cpu = meter.stop()
    return result


# --- checks and report -------------------------------------------------------------------------


@dataclass
class Checks:
    lines: list[tuple[str, bool, str]] = field(default_factory=list)

    def add(self, name: str, passed: bool, detail: str) -> None:
        self.lines.append((name, passed, detail))

    @property
    def passed(self) -> bool:
        return all(ok for _, ok, _ in self.lines)


def database_counts(url: str) -> tuple[int, dict[str, int]]:
    """Shipments in the database, and fulfilment orders by status."""
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute("SELECT count(*) FROM shipments").fetchone()
        statuses = conn.execute(
            "SELECT status, count(*) FROM fulfillment_orders GROUP BY status ORDER BY status"
        ).fetchall()
    return (int(row[0]) if row else 0), {str(s): int(n) for s, n in statuses}


async def check_stock(
    base: str, api_key: str, world: World, result: FlowResult, checks: Checks
) -> None:
    async with new_session(api_key) as session:
        after = await on_hand_at_warehouse(session, base, world.skus)
        reserved = await on_hand_at_warehouse(session, base, world.skus, reserved=True)
    fell = Counter({sku: world.on_hand_before[sku] - after[sku] for sku in world.skus})
    wrong = [
        f"{sku}: fell {fell[sku]}, shipped {result.shipped_units[sku]}, "
        f"ordered {world.ordered_units[sku]}"
        for sku in world.skus
        if not fell[sku] == result.shipped_units[sku] == world.ordered_units[sku]
    ]
    units = sum(fell.values())
    checks.add(
        "on_hand fell by the units shipped",
        not wrong,
        f"{units} units over {len(world.skus)} SKUs" if not wrong else "; ".join(wrong[:5]),
    )
    still = {sku: n for sku, n in reserved.items() if n}
    checks.add("nothing left reserved", not still, "0 units" if not still else str(still))


def oms_check(env: dict[str, str], checks: Checks) -> None:
    done = subprocess.run(
        [OMS, "check"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    said = (done.stdout + done.stderr).strip().splitlines()
    checks.add("oms check", done.returncode == 0, said[-1] if said else f"exit {done.returncode}")


def print_report(args: argparse.Namespace, result: FlowResult, checks: Checks) -> None:
    rate = result.shipments / result.elapsed if result.elapsed else 0.0
    spent = result.elapsed or float("nan")
    busy = sum(sum(result.latencies.get(step, [])) for step in STEPS[:2]) / spent
    idle = result.packer_idle / (spent * args.clients)
    mean_wave = sum(result.wave_orders) / len(result.wave_orders) if result.wave_orders else 0
    print(
        f"\nfulfilment: {args.orders} orders (1-3 lines) at one warehouse, waves of "
        f"{args.wave_size}, {args.clients} pack stations, oms serve --workers {args.workers}\n"
    )
    rows = [
        ("shipments (201)", f"{result.shipments} of {args.orders}"),
        ("waves", f"{result.waves} (mean {mean_wave:.1f} fulfilment orders)"),
        ("errors", str(sum(result.failures.values()))),
        ("wall time s", f"{result.elapsed:.2f}"),
        ("shipments/s", f"{rate:.1f}"),
        ("wave coordinator busy", f"{busy:.0%} of the wall time (wave create + confirm)"),
        ("pack stations idle", f"{idle:.0%} of their time (waiting for a picked wave)"),
    ]
    cpu = result.cpu
    if cpu is not None and result.shipments:
        per = 1000 / result.shipments
        rows += [
            ("cpu ms/shipment oms serve", f"{cpu.server * per:.1f}"),
            ("cpu ms/shipment postgres", f"{cpu.postgres * per:.1f}  (backends still open)"),
            ("cpu ms/shipment bench client", f"{cpu.client * per:.1f}"),
            ("cpu ms/shipment other work", f"{cpu.other * per:.1f}  (rest of the machine)"),
        ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")

    print(f"\n{'latency ms':<12}{'count':>7}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}")
    for step in STEPS:
        values = sorted(result.latencies.get(step, []))
        figures = [percentile(values, p) * 1000 for p in (50, 95, 99, 100)]
        print(f"{step:<12}{len(values):>7}" + "".join(f"{f:>9.1f}" for f in figures))

    if result.failures:
        print("\nerrors by step and status (first answer of each kind):")
        for kind, count in result.failures.most_common():
            print(f"  {count:>5}  {kind}  {result.failure_samples[kind]}")

    print("\nchecks:")
    for name, passed, detail in checks.lines:
        print(f"  {'ok  ' if passed else 'FAIL'}  {name}: {detail}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=1000, help="paid orders to ship")
    parser.add_argument("--wave-size", type=int, default=50, help="fulfilment orders per wave")
    parser.add_argument("--clients", type=int, default=8, help="concurrent pack stations")
    parser.add_argument("--workers", type=int, default=2, help="oms serve --workers")
    parser.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="an existing database on the server, used to create the bench database",
    )
    parser.add_argument("--skus", type=int, default=12, help="products in the catalogue")
    parser.add_argument("--seed", type=int, default=20_240_601, help="RNG seed for the orders")
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds the measured phase may take"
    )
    args = parser.parse_args(argv)
    if args.orders < 1 or args.clients < 1 or args.workers < 1 or args.skus < 3:
        parser.error("--orders, --clients and --workers must be >= 1, --skus >= 3")
    if not 1 <= args.wave_size <= 500:
        parser.error("--wave-size must be 1 to 500")
    if urlsplit(args.pg_url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        parser.error("--pg-url must point at a loopback server")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    bench_url = database_url(args.pg_url, BENCH_DB)
    env = {**os.environ, "OMS_DATABASE_URL": bench_url}
    recreate_database(args.pg_url, BENCH_DB)
    run_oms(["db", "upgrade"], env)
    tenant = json.loads(run_oms(["tenant", "create", "--name", "Bench warehouse", "--json"], env))
    operator = json.loads(run_oms(["apikey", "create", "--operator", "--json"], env))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(env, port, args.workers)
    checks = Checks()
    try:
        asyncio.run(wait_ready(base, server, timeout=SERVER_START_TIMEOUT))
        key = tenant["api_key"]
        world = asyncio.run(
            bounded("setup", build_world(args, base, key, operator["api_key"]), SETUP_TIMEOUT)
        )
        print(f"setup done: {args.orders} open fulfilment orders at {WAREHOUSE}", flush=True)
        result = asyncio.run(
            run_flow(args, base, key, CpuMeter(server_group=server.pid, database=BENCH_DB))
        )
        asyncio.run(bounded("stock check", check_stock(base, key, world, result, checks), 120))
    finally:
        stop_server(server)
    stored, statuses = database_counts(bench_url)
    checks.add(
        "one shipment per order",
        stored == result.shipments == args.orders,
        f"{stored} in the database, {result.shipments} answered 201",
    )
    checks.add(
        "every fulfilment order shipped", statuses == {"shipped": args.orders}, json.dumps(statuses)
    )
    oms_check(env, checks)
    print_report(args, result, checks)
    return 0 if checks.passed else 1


if __name__ == "__main__":
    sys.exit(main())
