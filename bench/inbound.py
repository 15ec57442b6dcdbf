"""Receiving-scan latency over HTTP on PostgreSQL: 8 receivers scanning cartons at once.

Run it from the project root::

    .venv/bin/python bench/inbound.py [--receivers 8] [--scans 200] [--shared]
        [--workers 2] [--database oms_bench_inbound]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

Setup, not timed: drops and re-creates the database (``--database``), runs ``oms db
upgrade``, creates a tenant and an operator key, starts ``oms serve --workers N`` on a free
loopback port. Through the API the operator creates a warehouse and grants it to the
tenant; the tenant creates 20 products and announces one inbound shipment per receiver (20
lines each), or with ``--shared`` a single one that every receiver scans.

Measured: ``--receivers`` coroutines (one keep-alive connection each), started together,
each posting ``--scans`` receipts (``POST /v1/inbound-shipments/{id}/receipts`` with the
operator key, one carton: 1-3 lines of 1-12 units, 1 in 20 of them damaged, every scan
with its own ``scan_id``). Every scan is a ``receipt`` movement per SKU, the line counts
under the shipment's row lock, the scan rows and an outbox event in one transaction.

It prints p50/p95/p99/max latency in milliseconds and scans per second, the CPU time per
scan of the server's processes and of the PostgreSQL backends serving the bench's database
(``/proc/<pid>/stat``, the server being on this machine; on a loaded machine the CPU says
more than the wall time) and how many of the receivers' keep-alive connections each worker
holds (the workers take them in turn, ``oms.api.connection_balance``; 5 / 3 would make one
worker's scans wait longer), then checks that every shipment's counts equal what was sent,
that on hand equals the good units and that ``oms check`` passes (exit code 1 otherwise).
Nothing is asserted about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from benchkit import (
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

BENCH_DB = "oms_bench_inbound"
WAREHOUSE = "WH-INBOUND"
SERVER_START_TIMEOUT = 180.0  # a loaded machine starts the server slowly
SKUS = [f"INB-{n:03d}" for n in range(20)]


async def _post(
    session: aiohttp.ClientSession, url: str, key: str, body: Any, *, tenant: str | None = None
) -> Any:
    headers = api_headers(key)
    if tenant is not None:
        headers["OMS-Tenant"] = tenant
    async with session.post(url, data=json_body(body), headers=headers) as response:
        text = await response.text()
        if response.status >= 300:
            raise RuntimeError(f"POST {url}: {response.status} {text[:300]}")
        return json.loads(text) if text else None


def _cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
        except OSError:
            continue  # gone meanwhile
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _is_worker(pid: int) -> bool:
    """Whether ``pid`` is an API worker (uvicorn spawns them through multiprocessing)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"spawn_main" in cmdline.read()
    except OSError:
        return False


def _session_pids(session: int) -> list[int]:
    """The processes of a session (``oms serve`` and its workers run in their own)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
            except OSError:
                continue
            if int(fields[3]) == session:
                found.append(int(entry))
    return found


def _connections_by_worker(port: int, workers: list[int]) -> list[int]:
    """How many established connections to ``port`` each of ``workers`` holds: the workers
    take them in turn (``oms.api.connection_balance``), and a worker that holds more of
    the receivers' keep-alive connections makes them wait longer."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            next(rows)
            for row in rows:
                fields = row.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    inodes.add(fields[9])
    held = []
    for pid in workers:
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            links = []
        held.append(sum(1 for link in links if link[8:-1] in inodes and link.startswith("socket:")))
    return held


def _backend_pids(pg_url: str, database: str) -> list[int]:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return [int(row[0]) for row in rows]


async def _setup(
    base: str, tenant_key: str, operator_key: str, tenant_id: str, n: int
) -> list[str]:
    async with aiohttp.ClientSession() as session:
        await _post(
            session, f"{base}/v1/locations", operator_key, {"code": WAREHOUSE, "name": "3PL"}
        )
        await _post(
            session,
            f"{base}/v1/locations/{WAREHOUSE}/grants",
            operator_key,
            {"tenant_id": tenant_id},
        )
        for sku in SKUS:
            await _post(
                session,
                f"{base}/v1/products",
                tenant_key,
                {"sku": sku, "name": sku, "price": "9.00", "currency": "EUR"},
            )
        ids = []
        for i in range(n):
            asn = await _post(
                session,
                f"{base}/v1/inbound-shipments",
                tenant_key,
                {
                    "location": WAREHOUSE,
                    "reference": f"ASN-{i}",
                    "lines": [{"sku": sku, "expected_quantity": 1000} for sku in SKUS],
                },
            )
            ids.append(asn["id"])
        return ids


async def _receiver(
    base: str,
    key: str,
    shipment_id: str,
    scans: int,
    seed: int,
    start: asyncio.Event,
    latencies: list[float],
    sent: dict[tuple[str, str], list[int]],
    connected: set[int],
) -> None:
    rng = random.Random(seed)
    url = f"{base}/v1/inbound-shipments/{shipment_id}/receipts"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
        await start.wait()
        for n in range(scans):
            lines = [
                {
                    "sku": sku,
                    "quantity": rng.randint(1, 12),
                    "condition": "damaged" if rng.random() < 0.05 else "good",
                }
                for sku in rng.sample(SKUS, rng.randint(1, 3))
            ]
            began = time.perf_counter()
            await _post(session, url, key, {"scan_id": f"r{seed}-{n}", "lines": lines})
            latencies.append((time.perf_counter() - began) * 1000)
            connected.add(seed)
            for line in lines:
                counts = sent.setdefault((shipment_id, line["sku"]), [0, 0])
                counts[0 if line["condition"] == "good" else 1] += line["quantity"]


async def _measure(
    base: str,
    key: str,
    shipments: list[str],
    receivers: int,
    scans: int,
    spread: Callable[[], list[int]],
) -> tuple[list[float], float, dict[tuple[str, str], list[int]], list[int]]:
    start = asyncio.Event()
    latencies: list[float] = []
    sent: dict[tuple[str, str], list[int]] = {}
    connected: set[int] = set()
    tasks = [
        asyncio.create_task(
            _receiver(
                base,
                key,
                shipments[i % len(shipments)],
                scans,
                i,
                start,
                latencies,
                sent,
                connected,
            )
        )
        for i in range(receivers)
    ]
    await asyncio.sleep(0.2)  # every session open before the start
    began = time.perf_counter()
    start.set()
    while len(connected) < receivers and not all(task.done() for task in tasks):
        await asyncio.sleep(0.005)  # until every receiver's connection is open
    held = spread()
    await asyncio.gather(*tasks)
    return latencies, time.perf_counter() - began, sent, held


async def _check(
    base: str, key: str, shipments: list[str], sent: dict[tuple[str, str], list[int]]
) -> list[str]:
    problems = []
    good_by_sku: dict[str, int] = {}
    async with aiohttp.ClientSession() as session:
        for shipment_id in set(shipments):
            async with session.get(
                f"{base}/v1/inbound-shipments/{shipment_id}", headers=api_headers(key)
            ) as response:
                shipment = await response.json()
            for line in shipment["lines"]:
                good, damaged = sent.get((shipment_id, line["sku"]), [0, 0])
                good_by_sku[line["sku"]] = good_by_sku.get(line["sku"], 0) + good
                if (line["received"], line["damaged"]) != (good + damaged, damaged):
                    problems.append(f"{shipment_id} {line['sku']}: {line} != {good}+{damaged}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--receivers", type=int, default=8)
    parser.add_argument("--scans", type=int, default=200, help="scans per receiver")
    parser.add_argument("--shared", action="store_true", help="all scan one shipment")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", default=BENCH_DB, help="dropped and re-created")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    recreate_database(args.pg_url, args.database)
    env = {**os.environ, "OMS_DATABASE_URL": database_url(args.pg_url, args.database)}
    run_oms(["db", "upgrade"], env)
    tenant = json.loads(run_oms(["tenant", "create", "--name", "Bench merchant", "--json"], env))
    operator = json.loads(run_oms(["apikey", "create", "--operator", "--json"], env))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(env, port, args.workers)
    try:
        asyncio.run(wait_ready(base, server, timeout=SERVER_START_TIMEOUT))
        shipments = asyncio.run(
            _setup(
                base,
                tenant["api_key"],
                operator["api_key"],
                tenant["tenant_id"],
                1 if args.shared else args.receivers,
            )
        )
        server_pids = _session_pids(server.pid)
        workers = [pid for pid in server_pids if pid != server.pid and _is_worker(pid)]
        backends = _backend_pids(args.pg_url, args.database)  # the pools are open after the setup
        cpu_before = (_cpu_seconds(server_pids), _cpu_seconds(backends))
        latencies, wall, sent, held = asyncio.run(
            _measure(
                base,
                operator["api_key"],
                shipments,
                args.receivers,
                args.scans,
                lambda: _connections_by_worker(port, workers),
            )
        )
        new_backends = [
            pid for pid in _backend_pids(args.pg_url, args.database) if pid not in backends
        ]
        server_cpu = _cpu_seconds(server_pids) - cpu_before[0]
        pg_cpu = _cpu_seconds(backends) - cpu_before[1] + _cpu_seconds(new_backends)
        problems = asyncio.run(_check(base, tenant["api_key"], shipments, sent))
    finally:
        stop_server(server)
    check = run_oms(["check"], env)
    latencies.sort()
    mode = "one shared shipment" if args.shared else "one shipment each"
    print(
        f"receiving scans: {args.receivers} receivers ({mode}), {len(latencies)} scans in "
        f"{wall:.2f} s = {len(latencies) / wall:.0f} scans/s, server workers {args.workers}"
    )
    print(
        "latency ms: "
        + "  ".join(f"p{p} {percentile(latencies, p):.1f}" for p in (50, 95, 99))
        + f"  max {latencies[-1]:.1f}"
    )
    per_scan = 1000 / len(latencies)
    print(
        f"CPU per scan: server {server_cpu * per_scan:.1f} ms + PostgreSQL "
        f"{pg_cpu * per_scan:.1f} ms (load average {os.getloadavg()[0]:.1f})"
    )
    print(
        "receivers' connections per worker: "
        + " / ".join(str(n) for n in held)
        + " (a fuller worker's scans wait longer)"
    )
    print(f"oms check: {check.strip() or 'ok'}")
    for problem in problems:
        print("MISMATCH", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
