"""CSV import rates on PostgreSQL, memory while streaming, and the till's latency.

Rates are printed per wall second and per CPU second (this process plus its PostgreSQL
backends, from /proc): the second says what the import costs when the machine is shared.

    .venv/bin/python bench/imports.py [--products 20000] [--locations 5] [--orders 2000]
                                      [--sales 500] [--memory-rows 50000,200000]
                                      [--big-mb 0] [--only-inventory]

Creates its own database (``oms_bench_imports``) on the loopback PostgreSQL server and
prints, each measured in this process through ``oms.services.imports`` (what ``oms import``
runs, without the progress bar):

* products rows/s: a new catalogue, then the same file again (every row unchanged);
* inventory rows/s: a level per product and location set (each made by its count), the
  same file again, then a file of other counts (each an existing level changed);
* orders/s: orders of one to three lines placed through the intake, then the file again;
* memory: the import's peak Python allocation (tracemalloc, which slows it several
  times) and the process's peak resident size for inventory files of growing size: flat
  when the import streams; ``--big-mb N`` also streams an N MB inventory file through the
  reader and row parser (no database, no tracemalloc) and prints the peak resident size
  before and after;
* point of sale: p50/p99 of ``POST /v1/orders`` till sales (channel pos, store_location)
  through the ASGI app in this process, one at a time.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import itertools
import json
import logging
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

from benchkit import CpuMeter, database_url, percentile, recreate_database, run_oms

DB = "oms_bench_imports"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--locations", type=int, default=5)
    parser.add_argument("--orders", type=int, default=2_000)
    parser.add_argument("--sales", type=int, default=500, help="till sales timed")
    parser.add_argument("--memory-rows", default="50000,200000", help="inventory file sizes")
    parser.add_argument("--big-mb", type=int, default=0, help="also stream a file this big")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--only-pos", action="store_true", help="measure the till only")
    parser.add_argument(
        "--only-inventory", action="store_true", help="products and inventory phases only"
    )
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--profile", default="", help="write a cProfile of the first inventory import here"
    )
    parser.add_argument(
        "--profile-orders",
        default="",
        help="write cProfiles of the orders imports placed here (PATH.unpaid, PATH.paid)",
    )
    parser.add_argument(
        "--batch-times", action="store_true", help="print each orders batch's milliseconds"
    )
    parser.add_argument(
        "--database", "--db", default=DB, help="the database the bench creates (and keeps)"
    )
    return parser.parse_args(argv)


def csv_bytes(header: str, rows: Iterator[str]) -> bytes:
    return (header + "\n" + "".join(rows)).encode()


def product_rows(count: int) -> Iterator[str]:
    for n in range(count):
        yield f"SKU-{n:06d},Product {n},{10 + n % 90}.50,EUR,physical,{100 + n % 900},cat{n % 7}\n"


def inventory_rows(count: int, skus: int, codes: list[str], rng: random.Random) -> Iterator[str]:
    for n in range(count):
        yield f"SKU-{n % skus:06d},{codes[(n // skus) % len(codes)]},{rng.randint(50, 500)}\n"


ADDRESS = "ada@example.com,Ada L,Ada L,Heidestrasse 17,Koeln,51147,DE,true"


def order_rows(
    count: int, skus: int, rng: random.Random, prefix: str, *, paid: bool
) -> Iterator[str]:
    address = ADDRESS if paid else ADDRESS.removesuffix("true") + "false"
    for n in range(count):
        for line in range(rng.randint(1, 3)):
            sku = f"SKU-{rng.randrange(skus):06d}"
            tail = address if line == 0 else ",,,,,,,"
            yield f"{prefix}{n},EUR,{sku},{rng.randint(1, 2)},{tail}\n"


def main(argv: Sequence[str] | None = None) -> int:
    with contextlib.ExitStack() as stack:
        return measure(parse_args(argv), stack)


def measure(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    url = database_url(args.pg_url, args.database)
    recreate_database(args.pg_url, args.database)
    env = {**os.environ, "OMS_DATABASE_URL": url}
    run_oms(["db", "upgrade"], env)
    tenant = json.loads(run_oms(["tenant", "create", "--name", "bench imports", "--json"], env))
    os.environ["OMS_DATABASE_URL"] = url

    from starlette.testclient import TestClient

    from oms.adapters.db.statistics import StatisticsKeeper
    from oms.adapters.payments.registry import gateway_named
    from oms.api.app import create_app
    from oms.config import Settings
    from oms.domain.orders import Actor
    from oms.domain.tenancy import ApiKeyScope, Principal
    from oms.services.catalogue import NewLocation, create_location
    from oms.services.csv_source import CsvSource
    from oms.services.import_rows import ImportKind
    from oms.services.imports import ImportRequest, ImportSummary, import_rows

    app = create_app()
    uow_factory = app.state.oms.uow_factory
    # Planner statistics kept for the whole run, as the API's workers keep them (and
    # `oms import` while it runs: oms.adapters.db.statistics), by a keeper in this process
    # (its CPU counts here, its backend's only while it analyzes during a phase).
    logging.getLogger("oms.adapters.db.statistics").setLevel(logging.ERROR)
    stack.enter_context(
        StatisticsKeeper(uow_factory.engine, interval=Settings().db_analyze_seconds)
    )
    tenant_id = uuid.UUID(tenant["tenant_id"])
    actor = Actor("system", "bench")
    principal = Principal(key_id=uuid.uuid4(), scope=ApiKeyScope.TENANT, tenant_id=tenant_id)
    codes = [f"WH-{n}" for n in range(1, args.locations + 1)]
    for code in [*codes, "STORE-1"]:
        create_location(
            uow_factory=uow_factory, principal=principal, command=NewLocation(code, code)
        )
    rng = random.Random(1)
    # As `oms import` does before it reads the file (and an API worker once started): what
    # exists now lives for the whole run, out of the collector's full collections.
    gc.freeze()

    cpu_of: dict[int, tuple[float, float]] = {}
    profiled = False

    def run(kind: ImportKind, data: bytes, profile: str = "") -> tuple[ImportSummary, float]:
        nonlocal profiled
        source = CsvSource(io.BytesIO(data))
        profiler = None
        if args.profile and kind is ImportKind.INVENTORY and not profiled:
            profiled = True
            profile = args.profile
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
        meter = CpuMeter(server_group=-1, database=args.database)
        meter.start()
        began = time.perf_counter()
        batch_ends = [began]
        summary = import_rows(
            uow_factory=uow_factory,
            gateways=gateway_named,
            tenant_id=tenant_id,
            request=ImportRequest(
                kind=kind, header=source.header, rows=source.rows(), batch_size=args.batch_size
            ),
            actor=actor,
            on_progress=lambda _: batch_ends.append(time.perf_counter()),
        )
        wall = time.perf_counter() - began
        if args.batch_times and kind is ImportKind.ORDERS:
            took = [f"{1000 * (b - a):.0f}" for a, b in itertools.pairwise(batch_ends)]
            print(f"  batches (ms): {' '.join(took)}")
        used = meter.stop()
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        # CPU seconds of this process and its PostgreSQL backends: on a shared, loaded
        # machine the wall clock says more about the neighbours than about the import.
        cpu_of[id(summary)] = (0.0, 0.0) if used is None else (used.client, used.postgres)
        return summary, wall

    def analyze() -> None:
        # As the statistics keeper (or autovacuum) would have by now: without it the
        # planner takes the fresh tables for empty and scans them for every batch. Only
        # the tables with rows, as they do: statistics of an empty table (the orders'
        # before the orders phases) make the plans of its foreign-key checks read the
        # whole tenant once it fills, and the keeper then analyzes it again only after
        # autovacuum_naptime (docs/performance.md, "Paid CSV orders...").
        with uow_factory.engine.begin() as conn:
            filled = conn.exec_driver_sql(
                "SELECT quote_ident(relname) FROM pg_class WHERE relkind = 'r' AND "
                "relnamespace = current_schema()::regnamespace AND pg_relation_size(oid) > 0"
            ).scalars()
            conn.exec_driver_sql(f"ANALYZE {', '.join(filled)}")

    def report(label: str, summary: ImportSummary, seconds: float, unit: str = "rows") -> None:
        count = summary.created + summary.updated + summary.unchanged + summary.failed
        if unit == "orders":
            count = args.orders
        client, postgres = cpu_of.get(id(summary), (0.0, 0.0))
        cpu = client + postgres
        per_cpu = (
            f"{count / cpu:>9,.0f} {unit}/cpu-s ({1e6 * client / count:.0f} + "
            f"{1e6 * postgres / count:.0f} us CPU a {unit[:-1]}: oms + PostgreSQL)"
            if cpu and count
            else ""
        )
        print(
            f"{label:30} {count / seconds:>8,.0f} {unit}/s {per_cpu} ({count} in {seconds:.2f} s; "
            f"{summary.created} created, {summary.updated} updated, "
            f"{summary.unchanged} unchanged, {summary.failed} refused)"
        )

    def profiled_orders(phase: str) -> str:
        return f"{args.profile_orders}.{phase}" if args.profile_orders else ""

    if args.only_pos:
        header = "sku,name,price,currency,kind,weight_grams,category"
        run(ImportKind.PRODUCTS, csv_bytes(header, product_rows(50)))
        pos_latency(TestClient(app), tenant["api_key"], args)
        return 0
    products = csv_bytes(
        "sku,name,price,currency,kind,weight_grams,category", product_rows(args.products)
    )
    report("products, new", *run(ImportKind.PRODUCTS, products))
    analyze()
    report("products, same file again", *run(ImportKind.PRODUCTS, products))

    rows = args.products * args.locations
    stock = csv_bytes("sku,location,on_hand", inventory_rows(rows, args.products, codes, rng))
    analyze()
    report("inventory, levels set", *run(ImportKind.INVENTORY, stock))
    analyze()
    report("inventory, same file again", *run(ImportKind.INVENTORY, stock))
    # Every level again with another count: existing levels changed (the first file made them).
    counts = csv_bytes("sku,location,on_hand", inventory_rows(rows, args.products, codes, rng))
    report("inventory, levels changed", *run(ImportKind.INVENTORY, counts))
    if args.only_inventory:
        return 0

    header = (
        "order_id,currency,sku,quantity,email,customer_name,ship_name,ship_line1,"
        "ship_city,ship_postal_code,ship_country,paid"
    )
    # Both go through the intake in groups (as the API places them): a paid row's payment
    # goes through the manual gateway, which only records (orders.md#groups).
    orders = csv_bytes(header, order_rows(args.orders, args.products, rng, "U-", paid=False))
    placed = run(ImportKind.ORDERS, orders, profiled_orders("unpaid"))
    report("orders unpaid, placed", *placed, unit="orders")
    report("orders unpaid, same file again", *run(ImportKind.ORDERS, orders), unit="orders")
    orders = csv_bytes(header, order_rows(args.orders, args.products, rng, "P-", paid=True))
    placed = run(ImportKind.ORDERS, orders, profiled_orders("paid"))
    report("orders paid, placed", *placed, unit="orders")

    sizes = [int(n) for n in args.memory_rows.split(",") if n.strip()]
    if sizes:
        print("memory (inventory import, tracemalloc peak / process max RSS):")
    for size in sizes:
        data = csv_bytes("sku,location,on_hand", inventory_rows(size, args.products, codes, rng))
        path = Path(tempfile.mkdtemp()) / f"inventory-{size}.csv"
        path.write_bytes(data)
        del data
        gc.collect()
        tracemalloc.start()
        with path.open("rb") as raw:
            source = CsvSource(raw)
            began = time.perf_counter()
            import_rows(
                uow_factory=uow_factory,
                gateways=gateway_named,
                tenant_id=tenant_id,
                request=ImportRequest(
                    kind=ImportKind.INVENTORY,
                    header=source.header,
                    rows=source.rows(),
                    batch_size=args.batch_size,
                ),
                actor=actor,
            )
            seconds = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        mb = path.stat().st_size / 1e6
        print(
            f"  {size:>9,} rows ({mb:7.1f} MB): peak {peak / 1e6:6.1f} MB, max RSS {rss:6.0f} MB"
            f", {size / seconds:,.0f} rows/s"
        )
        path.unlink()
    if args.big_mb:
        stream_big_file(args.big_mb, args.products, codes)

    if args.sales:
        pos_latency(TestClient(app), tenant["api_key"], args)
    return 0


def stream_big_file(megabytes: int, skus: int, codes: list[str]) -> None:
    """Read and parse an N MB inventory file (no database): memory stays flat."""
    from oms.services.csv_source import CsvSource
    from oms.services.import_rows import RowProblem, inventory_row

    path = Path(tempfile.mkdtemp()) / f"big-{megabytes}.csv"
    rng = random.Random(2)
    with path.open("w", encoding="utf-8") as out:
        out.write("sku,location,on_hand\n")
        written, n = 0, 0
        while written < megabytes * 1_000_000:
            chunk = "".join(inventory_rows(10_000, skus, codes, rng))
            out.write(chunk)
            written += len(chunk)
            n += 10_000
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    began = time.perf_counter()
    parsed = 0
    with path.open("rb") as raw:
        source = CsvSource(raw)
        header = source.header
        for number, cells in source.rows():
            try:
                inventory_row(number, dict(zip(header, cells, strict=False)))
            except RowProblem:
                continue
            parsed += 1
    seconds = time.perf_counter() - began
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  {parsed:>9,} rows ({megabytes} MB, read and parsed only, no tracemalloc): "
        f"max RSS {before:.0f} MB before, {rss:.0f} MB after, {parsed / seconds:,.0f} rows/s"
    )
    path.unlink()


def pos_latency(client: object, api_key: str, args: argparse.Namespace) -> None:
    """Till sales one after another through the app: p50 and p99 in milliseconds."""
    from starlette.testclient import TestClient

    assert isinstance(client, TestClient)
    headers = {"Authorization": f"Bearer {api_key}"}
    for n in range(50):
        sku = f"SKU-{n:06d}"
        answer = client.post(
            "/v1/inventory/adjustments",
            headers=headers,
            json={"sku": sku, "location": "STORE-1", "set_on_hand": 10_000, "reason": "bench"},
        )
        assert answer.status_code == 201, answer.text
    rng = random.Random(3)

    def sale(receipt: str) -> float:
        lines = [
            {"sku": f"SKU-{rng.randrange(50):06d}", "quantity": 1} for _ in range(rng.randint(1, 3))
        ]
        lines = list({line["sku"]: line for line in lines}.values())
        body = {
            "currency": "EUR",
            "channel": "pos",
            "external_id": receipt,
            "store_location": "STORE-1",
            "lines": lines,
        }
        began = time.perf_counter()
        answer = client.post("/v1/orders", headers=headers, json=body)
        took = time.perf_counter() - began
        assert answer.status_code == 201, answer.text
        return took

    for n in range(30):
        sale(f"warm-{n}")
    meter = CpuMeter(server_group=-1, database=args.database)
    meter.start()
    times = sorted(sale(f"R-{n}") for n in range(args.sales))
    used = meter.stop()
    cpu = (
        ""
        if used is None
        else (
            f"; CPU per sale {1000 * used.client / args.sales:.1f} ms oms"
            f" + {1000 * used.postgres / args.sales:.1f} ms PostgreSQL"
        )
    )
    print(
        f"point of sale ({args.sales} till sales, 1-3 lines): "
        f"p50 {1000 * percentile(times, 50):.1f} ms, p99 {1000 * percentile(times, 99):.1f} ms"
        f"{cpu}"
    )


if __name__ == "__main__":
    sys.exit(main())
