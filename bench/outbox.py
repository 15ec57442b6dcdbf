"""Events out on PostgreSQL: how fast `oms worker` delivers webhooks, and whether it keeps up
with order intake.

    python bench/outbox.py                      # both phases
    python bench/outbox.py --phase a --events 20000
    python bench/outbox.py --phase b --rate 500 --seconds 20

(a) delivery alone: a pre-filled outbox of ``--events`` messages, one webhook endpoint on a
    loopback receiver, ``--workers`` `oms worker` processes; deliveries/s, the backlog over
    time, p50/p99 from fan-out to delivery and from event to delivery.
(b) with intake: `oms serve` takes orders paced at ``--rate`` a second (bench/intake.py's
    client) for ``--seconds`` while the workers deliver every order event to a webhook
    endpoint and, unless ``--no-email``, customer email to an SMTP server on loopback (a
    process of its own: aiosmtpd, discarding what it accepts); the backlog over time and
    p50/p99 event -> delivery, over every delivery (webhook and email).

Each phase uses a scratch database on the server (``--server-url``), dropped afterwards.
The receiver (bench/receiver.py) is a process of its own that answers 200 at once and
verifies every request's signature with the ``standardwebhooks`` library; it prints how
many arrived and verified. The CPU the workers, the PostgreSQL backends and the receiver
used while delivering is printed per delivery (the workers' start-up, printed apart, is
not in it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from uuid import UUID

import psycopg

from benchkit import (
    OMS,
    CpuMeter,
    CpuUse,
    KeepAlive,
    api_headers,
    database_url,
    drop_database,
    free_port,
    percentile,
    recreate_database,
    run_oms,
    start_server,
    stop_server,
    wait_ready,
)
from intake import catalogue_bodies, order_bodies, post_all, require_all_created

DB = "oms_bench_outbox"
SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def start_receiver(port: int, secret: str) -> subprocess.Popen[str]:
    """bench/receiver.py on ``port``, verifying with ``secret``; returns once it listens."""
    receiver = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("receiver.py")),
            "--port",
            str(port),
            "--secret",
            secret,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert receiver.stdout is not None
    if receiver.stdout.readline().strip() != "ready":
        raise SystemExit("the receiver did not start")
    return receiver


def stop_receiver(receiver: subprocess.Popen[str]) -> dict[str, float]:
    """Stop the receiver; what it counted."""
    receiver.send_signal(signal.SIGTERM)
    out, _ = receiver.communicate(timeout=30)
    counts: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    print(
        f"receiver: {counts['received']:.0f} requests, {counts['verified']:.0f} verified with "
        f"standardwebhooks, {counts['refused']:.0f} refused; {counts['cpu_seconds']:.1f} s CPU"
    )
    return counts


def start_smtp_server(port: int) -> subprocess.Popen[bytes]:
    """aiosmtpd on 127.0.0.1:``port``, accepting and discarding every message."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError("the SMTP server did not start")


def start_workers(
    env: dict[str, str], count: int, batch: int, threads: int
) -> list[subprocess.Popen[bytes]]:
    """``count`` workers in one process group (the first one's); returns once every one
    has started delivering, and prints how long that took."""
    if not count:
        return []
    started = time.perf_counter()
    workers: list[subprocess.Popen[bytes]] = []
    for _ in range(count):
        workers.append(
            subprocess.Popen(
                [
                    OMS,
                    "worker",
                    "--batch-size",
                    str(batch),
                    "--threads",
                    str(threads),
                    "--idle-seconds",
                    "0.05",
                ],
                env=env,
                stdout=subprocess.PIPE,
                process_group=workers[0].pid if workers else 0,
            )
        )
    for worker in workers:
        assert worker.stdout is not None
        worker.stdout.readline()  # "oms worker: delivering ..."
    print(f"  {count} workers started in {time.perf_counter() - started:.1f} s")
    return workers


def stop_workers(workers: Sequence[subprocess.Popen[bytes]]) -> None:
    if not workers:
        return
    os.killpg(workers[0].pid, signal.SIGTERM)
    for worker in workers:
        worker.communicate(timeout=60)


def print_cpu(cpu: CpuUse | None, receiver: dict[str, float], deliveries: int) -> None:
    if cpu is None or not deliveries:
        return
    per = 1e6 / deliveries
    print(
        f"CPU per delivery: workers {cpu.server * per:.0f} us, PostgreSQL {cpu.postgres * per:.0f}"
        f" us, receiver {receiver['cpu_seconds'] * per:.0f} us (whole run)"
    )


def create_endpoint(url: str, tenant_id: UUID, receiver: str) -> str:
    from oms.adapters.db.engine import build_engine
    from oms.adapters.db.uow import SqlUnitOfWorkFactory
    from oms.adapters.webhooks.addresses import AddressGuard
    from oms.config import Settings
    from oms.services.webhook_endpoints import create_endpoint as create

    engine = build_engine(Settings(database_url=url))
    made = create(
        uow_factory=SqlUnitOfWorkFactory(engine),
        tenant_id=tenant_id,
        url=receiver,
        event_types=["*"],
        description="bench",
        check=AddressGuard(allow_private=True),
    )
    engine.dispose()
    return made.secret


def counts(conn: psycopg.Connection) -> tuple[int, int, int]:
    """(outbox not fanned out, deliveries pending, deliveries delivered)."""
    waiting = conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()
    pending, delivered = conn.execute(
        "SELECT count(*) FILTER (WHERE status = 'pending'), "
        "count(*) FILTER (WHERE status = 'delivered') FROM event_deliveries"
    ).fetchone()  # type: ignore[misc]
    return int(waiting[0]), int(pending), int(delivered)  # type: ignore[index]


_LATENCIES = (
    "SELECT extract(epoch FROM d.delivered_at - o.created_at), "
    "extract(epoch FROM d.delivered_at - d.created_at) "
    "FROM event_deliveries d JOIN outbox o ON o.tenant_id = d.tenant_id AND o.id = d.event_id "
    "WHERE d.status = 'delivered' AND o.created_at >= %s"
)


def latencies(conn: psycopg.Connection, since: object) -> tuple[list[float], list[float]]:
    """Seconds from event to delivery and from fan-out to delivery, sorted (events created
    since ``since``)."""
    rows = conn.execute(_LATENCIES, (since,)).fetchall()
    return sorted(float(r[0]) for r in rows), sorted(float(r[1]) for r in rows)


def print_figures(name: str, event: list[float], fanned: list[float]) -> None:
    print(
        f"{name}: event->delivery p50 {percentile(event, 50):.3f} s, "
        f"p99 {percentile(event, 99):.3f} s; fan-out->delivery "
        f"p50 {percentile(fanned, 50):.3f} s, p99 {percentile(fanned, 99):.3f} s"
    )


def show(started: float, waiting: int, pending: int, delivered: int) -> None:
    print(
        f"  t={time.perf_counter() - started:5.1f}s outbox {waiting:6d} "
        f"pending {pending:6d} delivered {delivered:6d}"
    )


def setup(args: argparse.Namespace) -> tuple[str, dict[str, str], UUID, str]:
    recreate_database(args.server_url, DB)
    url = database_url(args.server_url, DB)
    env = {
        **os.environ,
        "OMS_DATABASE_URL": url,
        "OMS_WEBHOOK_ALLOW_PRIVATE": "1",
        "OMS_DB_POOL_SIZE": "8",
    }
    run_oms(["db", "upgrade"], env)
    created = json.loads(run_oms(["tenant", "create", "--name", "Bench", "--json"], env))
    return url, env, UUID(created["tenant_id"]), created["api_key"]


async def phase_a(args: argparse.Namespace) -> None:
    url, env, tenant_id, _ = setup(args)
    port = free_port()
    secret = create_endpoint(url, tenant_id, f"http://127.0.0.1:{port}/hooks")
    receiver = start_receiver(port, secret)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            endpoint = conn.execute("SELECT id FROM webhook_endpoints").fetchone()[0]  # type: ignore[index]
            conn.execute(
                "INSERT INTO outbox (tenant_id, id, topic, aggregate_id, payload, created_at) "
                "SELECT %s, gen_random_uuid(), 'webhook_endpoint.disabled', %s, '{}'::json, now() "
                "FROM generate_series(1, %s)",
                (tenant_id, endpoint, args.events),
            )
            conn.execute("ANALYZE")
            print(
                f"(a) {args.events} events waiting; {args.workers} workers, "
                f"batch {args.batch}, {args.threads} threads"
            )
            workers = start_workers(env, args.workers, args.batch, args.threads)
            meter = CpuMeter(workers[0].pid, DB)
            meter.start()
            started = time.perf_counter()
            while True:
                await asyncio.sleep(1.0)
                waiting, pending, delivered = counts(conn)
                show(started, waiting, pending, delivered)
                if delivered >= args.events:
                    break
            cpu = meter.stop()
            stop_workers(workers)
            workers = []
            first, last = conn.execute(
                "SELECT extract(epoch FROM min(created_at)), "
                "extract(epoch FROM max(delivered_at)) FROM event_deliveries"
            ).fetchone()  # type: ignore[misc]
            span = float(last) - float(first)
            print(
                f"(a) {args.events / span:,.0f} deliveries/s (fan-out included; from the first "
                f"delivery made to the last delivered, {span:.1f} s)"
            )
            print_figures("(a)", *latencies(conn, "-infinity"))
        print_cpu(cpu, stop_receiver(receiver), args.events)
    finally:
        if workers:
            stop_workers(workers)
        if receiver.poll() is None:
            receiver.kill()
        if not args.keep_database:
            drop_database(args.server_url, DB)


async def paced_orders(
    base: str, api_key: str, bodies: Sequence[bytes], rate: float, clients: int
) -> int:
    """POST ``bodies`` at ``rate`` a second; the number answered 201."""
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    ok = 0
    headers = api_headers(api_key)

    async def client() -> None:
        nonlocal ok
        connection = await KeepAlive.open(base)
        try:
            while (body := await queue.get()) is not None:
                status, _ = await connection.send(
                    KeepAlive.request("POST", base, "/v1/orders", headers, body)
                )
                ok += status == 201
        finally:
            connection.close()

    tasks = [asyncio.create_task(client()) for _ in range(clients)]
    started = time.perf_counter()
    for n, body in enumerate(bodies):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(body)
    for _ in tasks:
        queue.put_nowait(None)
    await asyncio.gather(*tasks)
    return ok


async def phase_b(args: argparse.Namespace) -> None:
    url, env, _tenant_id, api_key = setup(args)
    port, hook_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    receiver: subprocess.Popen[str] | None = None
    smtp: subprocess.Popen[bytes] | None = None
    if args.email:
        smtp_port = free_port()
        smtp = start_smtp_server(smtp_port)
        env = {**env, "OMS_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}?timeout=10"}
    server = start_server(env, port, args.serve_workers)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        await wait_ready(base, server)
        skus = [f"SKU-{n:04d}" for n in range(200)]
        for what, path, bodies in zip(
            ("locations", "products", "stock"),
            ("/v1/locations", "/v1/products", "/v1/inventory/adjustments"),
            catalogue_bodies(skus),
            strict=True,
        ):
            require_all_created(
                what, await post_all(base, api_key, path, bodies, clients=8), len(bodies)
            )
        hook = json.dumps({"url": f"http://127.0.0.1:{hook_port}/hooks", "event_types": ["*"]})
        made = await post_all(base, api_key, "/v1/webhook-endpoints", [hook.encode()], clients=1)
        require_all_created("webhook endpoint", made, 1)
        with psycopg.connect(url, autocommit=True) as conn:
            secret = conn.execute("SELECT secret FROM webhook_endpoints").fetchone()[0]  # type: ignore[index]
            receiver = start_receiver(hook_port, secret)
            conn.execute("UPDATE outbox SET published_at = now()")  # the set-up's own events
            since = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
            workers = start_workers(env, args.workers, args.batch, args.threads)
            # --workers 0: intake alone (what the machine does without delivering)
            meter = CpuMeter(workers[0].pid if workers else -1, DB)
            serve_meter = CpuMeter(server.pid, DB)
            meter.start()
            serve_meter.start()
            count = int(args.rate * args.seconds)
            bodies = order_bodies(random.Random(1), skus, "paced", count)
            print(
                f"(b) {count} orders at {args.rate:g}/s for {args.seconds:g} s; "
                f"{args.workers} workers; oms serve --workers {args.serve_workers}; "
                f"email {'on' if args.email else 'off'}"
            )
            started = time.perf_counter()
            posting = asyncio.create_task(
                paced_orders(base, api_key, bodies, args.rate, args.clients)
            )
            posting.add_done_callback(lambda _: ended.append(time.perf_counter()))
            ended: list[float] = []
            peak = 0
            while True:
                await asyncio.sleep(1.0)
                waiting, pending, delivered = counts(conn)
                peak = max(peak, waiting + pending)
                show(started, waiting, pending, delivered)
                if posting.done() and ((waiting == 0 and pending == 0) or not workers):
                    break
            cpu, serve_cpu = meter.stop(), serve_meter.stop()
            placed = await posting
            print(
                f"(b) {placed} orders placed in {ended[0] - started:.1f} s "
                f"({placed / (ended[0] - started):,.0f}/s); all delivered after "
                f"{time.perf_counter() - started:.1f} s; peak backlog {peak}"
            )
            print_figures("(b)", *latencies(conn, since))
            total = conn.execute(
                "SELECT count(*) FROM event_deliveries WHERE status = 'delivered'"
            ).fetchone()[0]  # type: ignore[index]
            by_sink = conn.execute(
                "SELECT sink_kind, status, count(*) FROM event_deliveries "
                "GROUP BY sink_kind, status ORDER BY 1, 2"
            ).fetchall()
            print("(b) deliveries: " + ", ".join(f"{k} {st} {n}" for k, st, n in by_sink))
        stop_workers(workers)
        workers = []
        print_cpu(cpu, stop_receiver(receiver), int(total))
        if serve_cpu is not None:
            print(
                f"CPU: oms serve {serve_cpu.server:.1f} s, PostgreSQL {serve_cpu.postgres:.1f} s, "
                f"this client {serve_cpu.client:.1f} s, the rest {serve_cpu.other:.1f} s"
            )
    finally:
        if workers:
            stop_workers(workers)
        stop_server(server)
        if receiver is not None and receiver.poll() is None:
            receiver.kill()
        if smtp is not None:
            smtp.kill()
        if not args.keep_database:
            drop_database(args.server_url, DB)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server-url", default=SERVER)
    parser.add_argument("--phase", choices=["a", "b", "both"], default="both")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=128)
    parser.add_argument("--serve-workers", type=int, default=2)
    parser.add_argument(
        "--email",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="(b): customer email on, to an SMTP server on loopback",
    )
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help=f"leave the scratch database {DB} (e.g. --workers 0 fills an outbox to profile)",
    )
    args = parser.parse_args(argv)
    if args.phase in ("a", "both"):
        asyncio.run(phase_a(args))
    if args.phase in ("b", "both"):
        asyncio.run(phase_b(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
