"""Shopify webhooks into the intake, next to plain ``POST /v1/orders`` on the same run.

Run it from the project root::

    .venv/bin/python bench/channels.py [--orders 2000] [--clients 32] [--workers 2]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

What it does, in one run on PostgreSQL:

1. Re-creates the database ``oms_bench_channels``, migrates it, creates a tenant, starts
   ``oms serve --workers N`` on a loopback port (bench/benchkit.py), and through the API
   makes 3 locations, ``--skus`` products and ample stock (as bench/intake.py does).
2. Connects a Shopify channel (``POST /v1/channels``), then warms up with ``--warmup``
   orders of each kind.
3. Measures three phases of ``--orders`` orders each, 3 lines per order, from ``--clients``
   concurrent keep-alive clients:
   - ``api``: ``POST /v1/orders`` with bench/intake.py's bodies (answers 201);
   - ``shopify pending``: ``orders/create`` webhooks, full-size payloads shaped as
     tests/fixtures/shopify/orders_create.json (each order with an email and phone
     numbers of its own), ``financial_status`` pending, signed with the channel's secret
     (answers 200);
   - ``shopify paid``: the same with ``financial_status`` paid (the payment is recorded in
     the intake's transaction through the ``manual`` gateway, which calls nothing outside
     the database, so the order is placed in a group and released there).
4. Checks that every measured order is stored once, stops the server.
5. Runs the CSV imports (``bench/imports.py`` in this process, its own database):
   ``--csv-products`` products, five inventory levels each, and ``--csv-orders`` orders
   unpaid and paid, printing rows/s (and per CPU second) of each; ``--csv-products 0``
   skips it.

It prints orders/s of each phase (2xx only, over the phase's wall time), p50/p99 latency,
errors, each Shopify phase's rate as a share of the API's, and the CPU per order of the
server's processes and of the PostgreSQL backends of its database (``/proc``), which a
loaded machine disturbs much less than the rates. It asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import copy
import hashlib
import hmac
import json
import os
import random
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import httpx
import psycopg
import uvloop

sys.path.insert(0, str(Path(__file__).parent))

import imports as csv_imports
from benchkit import (
    CpuMeter,
    CpuUse,
    KeepAlive,
    api_headers,
    database_url,
    free_port,
    percentile,
    recreate_database,
    run_oms,
    start_server,
    stop_server,
    wait_ready,
)
from intake import (
    SETUP_CONCURRENCY,
    PhaseResult,
    catalogue_bodies,
    order_bodies,
    post_all,
    require_all_created,
    send_all,
)

DB = "oms_bench_channels"
FIXTURE = Path(__file__).parent.parent / "tests" / "fixtures" / "shopify" / "orders_create.json"
SECRET = "bench-shopify-webhook-secret"
FIRST_ID = 6_000_000_000_000_000_000  # beyond a float's exact integers, as Shopify's are


def shopify_bodies(
    rng: random.Random, skus: Sequence[str], start: int, count: int, status: str
) -> list[bytes]:
    """Signed-ready orders/create bodies: the fixture's shape, bench SKUs, unique ids."""
    template = json.loads(FIXTURE.read_text())
    item = template["line_items"][0]
    bodies = []
    for n in range(count):
        order = copy.deepcopy(template)
        order_id = FIRST_ID + start + n
        order["id"] = order_id
        order["admin_graphql_api_id"] = f"gid://shopify/Order/{order_id}"
        order["name"] = f"#{start + n}"
        order["order_number"] = start + n
        order["financial_status"] = status
        order["email"] = order["contact_email"] = f"shopper{n}@example.com"
        # A number of its own per order, as its email (verification remembers numbers it
        # has read: one number for every order would be read once).
        number = (start + n) % 9_000_000  # the warm-up's too are distinct from the phases'
        order["customer"]["phone"] = f"+49151{20_000_000 + number}"
        for place in ("shipping_address", "billing_address"):
            order[place]["phone"] = f"+49 30 {12_000_000 + number}"
        lines = []
        for k, sku in enumerate(rng.sample(skus, 3)):
            line = copy.deepcopy(item)
            line["id"] = order_id * 10 + k
            line["sku"] = sku
            line["quantity"] = line["current_quantity"] = rng.randint(1, 3)
            lines.append(line)
        order["line_items"] = lines
        bodies.append(json.dumps(order).encode())
    return bodies


def signed(base: str, path: str, body: bytes, n: int) -> bytes:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Shop-Domain": "bench.myshopify.com",
        "X-Shopify-Webhook-Id": f"bench-{n}",
        "X-Shopify-API-Version": "2025-01",
    }
    return KeepAlive.request("POST", base, path, headers, body)


async def post_webhooks(
    base: str, path: str, bodies: Sequence[bytes], *, clients: int
) -> PhaseResult:
    """POST every signed body from ``clients`` keep-alive coroutines; 200 counts as done."""
    requests = [signed(base, path, body, n) for n, body in enumerate(bodies)]
    return await send_all(base, requests, clients=clients, done=200)


async def run(
    args: argparse.Namespace, base: str, api_key: str, meter: CpuMeter
) -> dict[str, tuple[PhaseResult, CpuUse | None]]:
    rng = random.Random(args.seed)
    skus = [f"SKU-{n:05d}" for n in range(args.skus)]
    locations, products, adjustments = catalogue_bodies(skus)
    for what, path, bodies in (
        ("locations", "/v1/locations", locations),
        ("products", "/v1/products", products),
        ("stock", "/v1/inventory/adjustments", adjustments),
    ):
        done = await post_all(base, api_key, path, bodies, clients=SETUP_CONCURRENCY)
        if what == "stock" and set(done.failures) == {"ConnectionError"}:
            # A loaded machine drops a few keep-alive connections: ample stock remains.
            print(f"stock: {len(bodies) - done.ok} of {len(bodies)} adjustments lost, going on")
            continue
        require_all_created(what, done, len(bodies))
    async with httpx.AsyncClient(base_url=base, headers=api_headers(api_key)) as http:
        answer = await http.post(
            "/v1/channels",
            json={
                "kind": "shopify",
                "name": "Bench shop",
                "shop_domain": "bench.myshopify.com",
                "access_token": "shpat_bench",
                "webhook_secret": SECRET,
            },
        )
        answer.raise_for_status()
        hook = answer.json()["webhook_path"]
    await post_all(
        base,
        api_key,
        "/v1/orders",
        order_bodies(rng, skus, "warmup", args.warmup),
        clients=args.clients,
    )
    await post_webhooks(
        base, hook, shopify_bodies(rng, skus, 10**9, args.warmup, "paid"), clients=args.clients
    )
    results: dict[str, tuple[PhaseResult, CpuUse | None]] = {}
    api = order_bodies(rng, skus, "order", args.orders)
    meter.start()
    done = await post_all(base, api_key, "/v1/orders", api, clients=args.clients)
    results["api"] = (done, meter.stop())
    for offset, status in ((0, "pending"), (args.orders, "paid")):
        bodies = shopify_bodies(rng, skus, offset, args.orders, status)
        meter.start()
        done = await post_webhooks(base, hook, bodies, clients=args.clients)
        results[f"shopify {status}"] = (done, meter.stop())
    return results


def stored_orders(url: str) -> Counter[str]:
    """Orders in the database by channel kind ("bench" for the API's, "shopify")."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT split_part(channel, ':', 1), count(*) FROM orders GROUP BY 1"
        ).fetchall()
    return Counter(dict(rows))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=2_000, help="measured orders per phase")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="oms serve --workers")
    parser.add_argument("--skus", type=int, default=500, help="products in the catalogue")
    parser.add_argument("--warmup", type=int, default=300, help="orders of each kind first")
    parser.add_argument("--seed", type=int, default=20_261_207, help="RNG seed")
    parser.add_argument("--database", default=DB, help="the bench's own database (re-created)")
    parser.add_argument(
        "--csv-products",
        type=int,
        default=4_000,
        help="then the CSV imports (bench/imports.py): products, 5 levels each; 0 to skip",
    )
    parser.add_argument("--csv-orders", type=int, default=2_000, help="orders in the CSV phase")
    parser.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="an existing database on the server, used to create the bench's own",
    )
    args = parser.parse_args(argv)
    if min(args.orders, args.clients, args.workers) < 1 or args.skus < 3:
        parser.error("--orders, --clients and --workers must be >= 1, --skus >= 3")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    url = database_url(args.pg_url, args.database)
    env = {**os.environ, "OMS_DATABASE_URL": url}
    recreate_database(args.pg_url, args.database)
    run_oms(["db", "upgrade"], env)
    tenant = json.loads(run_oms(["tenant", "create", "--name", "Bench merchant", "--json"], env))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(env, port, args.workers)
    try:
        asyncio.run(wait_ready(base, server, timeout=180))
        meter = CpuMeter(server_group=server.pid, database=args.database)
        results = uvloop.run(run(args, base, tenant["api_key"], meter))
    finally:
        stop_server(server)
    api_rate = results["api"][0].ok / results["api"][0].elapsed
    print(f"\n{args.orders} orders per phase, {args.clients} clients, {args.workers} workers")
    print(
        f"{'phase':<18}{'orders/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'vs api':>9}"
        f"{'CPU ms/order: server':>23}{'PostgreSQL':>12}"
    )
    for phase, (result, cpu) in results.items():
        rate = result.ok / result.elapsed if result.elapsed else 0.0
        latencies = sorted(result.latencies)
        per = 1000 / max(result.ok, 1)
        server_cpu = f"{cpu.server * per:>23.2f}{cpu.postgres * per:>12.2f}" if cpu else ""
        print(
            f"{phase:<18}{rate:>10.1f}{percentile(latencies, 50) * 1000:>9.0f}"
            f"{percentile(latencies, 99) * 1000:>9.0f}{sum(result.failures.values()):>8}"
            f"{rate / api_rate:>9.0%}{server_cpu}"
        )
    print(f"load average {os.getloadavg()[0]:.1f}")
    stored = stored_orders(url)
    expected = {"bench": args.warmup + args.orders, "shopify": args.warmup + 2 * args.orders}
    print(f"orders stored (warm-up included): {dict(stored)}, expected {expected}")
    if args.csv_products:
        # The store's other way in: its spreadsheets, through the same intake (docs/import.md).
        print("\nCSV imports on PostgreSQL (bench/imports.py, its own database):")
        csv_imports.main(
            [
                f"--products={args.csv_products}",
                f"--orders={args.csv_orders}",
                "--memory-rows=",
                "--sales=0",
                f"--pg-url={args.pg_url}",
            ]
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
