"""What a return's calls cost the API's process, counted: Python function calls and CPU per
call, the ASGI app driven in process on PostgreSQL, every thread of it counted.

Run it from the project root::

    .venv/bin/python bench/returns_calls.py [--orders 220] [--counted 40] [--profile 30]
        [--stats FILE] [--database oms_bench_returns_calls]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

It re-creates the database, ships ``--orders`` discounted two-line orders exactly as
``bench/returns.py`` does (its ``build_world``), then walks each order, one call at a
time, through the five calls of that bench, sent straight to the app ``oms serve`` runs
(``create_app``, every middleware, the routes built as a served worker builds them; no
client library, no network; the headers an aiohttp client sends): ask to return one unit
of line 1 as ``defective``, receive it into stock, refund it twice with two
Idempotency-Keys (200, then 409), read it.

Three passes over distinct orders, after 20 orders to warm up:

- **timed** (the orders left): this process's CPU per call and step
  (``time.process_time``: the event loop, the worker thread, the driver; not PostgreSQL),
  and the event loop thread's own.
- **counted** (``--counted`` orders): the Python function calls per call and step, in
  every thread (a ``sys.setprofile`` hook counting ``call`` and ``c_call`` events: a
  coroutine's or generator's every resumption counts as a call). The count does not depend
  on the machine's load or speed, so it compares two versions of the code where the CPU
  figures drift.
- **profile** (``--profile`` orders, 0 for none): cProfile in every thread, by each
  thread's own CPU time: the 40 functions with the most own time and the 25 called most
  often, over all threads (``--stats``: the profile written for pstats).

Nothing is asserted about speed; the answers' statuses are checked (exit code 1 on a wrong
one).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio
import anyio.to_thread

from oms.adapters.db.engine import build_engine
from oms.adapters.db.migrate import upgrade
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import build_routes, create_app
from oms.config import Environment, Settings
from oms.services.tenants import create_tenant

sys.path.insert(0, str(Path(__file__).parent))
from benchkit import database_url, drop_database, recreate_database
from request_overhead import AsgiCaller
from returns import WAREHOUSE, build_world

STEPS = ("request", "receive", "refund", "refund_again", "read")
WARM_UP = 20
# What aiohttp sends with a JSON body (bench/returns.py's client), the body's length aside.
CLIENT_HEADERS = {
    "host": "127.0.0.1:8000",
    "user-agent": "Python/3.11 aiohttp/3.11",
    "accept": "*/*",
    "accept-encoding": "gzip, deflate",
}


class CallCounter:
    """Counts the function calls of every thread it is installed in (``sys.setprofile``)."""

    def __init__(self) -> None:
        self.calls = 0

    def hook(self, _frame: Any, event: str, _arg: Any) -> None:
        if event == "call" or event == "c_call":
            self.calls += 1


async def in_every_thread(run: Callable[[], None]) -> int:
    """Run ``run`` in this thread and in each of anyio's worker threads (the app runs its
    routes' functions there); how many worker threads ran it.

    The calls wait for one another at a barrier, so each one holds a thread of its own:
    as many as there are threads besides this one, which covers the idle workers.
    """
    run()
    workers = max(1, threading.active_count() - 1)
    barrier = threading.Barrier(workers, timeout=30)
    seen: set[int] = set()

    def each() -> None:
        run()
        seen.add(threading.get_ident())
        barrier.wait()

    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = max(limiter.total_tokens, workers)
    async with anyio.create_task_group() as group:
        for _ in range(workers):
            group.start_soon(anyio.to_thread.run_sync, each)
    return len(seen)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=220, help="all passes' orders together")
    parser.add_argument("--counted", type=int, default=40, help="orders counted")
    parser.add_argument("--profile", type=int, default=0, help="orders profiled (0: none)")
    parser.add_argument("--stats", help="also write the profile's pstats to this file")
    parser.add_argument("--database", default="oms_bench_returns_calls")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.orders < WARM_UP + args.counted + args.profile + 1:
        parser.error("--orders must leave orders for the CPU pass")
    url = database_url(args.pg_url, args.database)
    recreate_database(args.pg_url, args.database)
    try:
        return asyncio.run(_run(args, url))
    finally:
        drop_database(args.pg_url, args.database)


async def _run(args: argparse.Namespace, url: str) -> int:
    # TEST: the lifespan skips the geocoder's warm-up (no call here geocodes); the routes
    # are built below as a served worker's lifespan builds them.
    settings = Settings(database_url=url, environment=Environment.TEST)
    engine = build_engine(settings)
    upgrade(engine)
    tenant, key = create_tenant(uow_factory=SqlUnitOfWorkFactory(engine), name="calls")
    print(f"setup: shipping {args.orders} orders", flush=True)
    orders = build_world(url, tenant.id, args.orders, seed=20)
    app = create_app(settings, engine=engine)
    caller = AsgiCaller(app)
    auth = {**CLIENT_HEADERS, "authorization": f"Bearer {key.secret}"}
    cpu: dict[str, float] = defaultdict(float)
    loop_cpu: dict[str, float] = defaultdict(float)
    counted: dict[str, int] = defaultdict(int)
    wrong: list[str] = []
    counter = CallCounter()

    async def call(
        step: str, expect: int, method: str, path: str, body: Any = None, key: str | None = None
    ) -> Any:
        headers = dict(auth)
        raw = b""
        if body is not None:
            headers["content-type"] = "application/json"
            raw = json.dumps(body).encode()
        if key is not None:
            headers["idempotency-key"] = key
        calls_before = counter.calls
        loop_before, cpu_before = time.thread_time(), time.process_time()
        status, answer = await caller.call(method, path, headers, raw)
        cpu[step] += time.process_time() - cpu_before
        loop_cpu[step] += time.thread_time() - loop_before
        counted[step] += counter.calls - calls_before
        if status != expect:
            wrong.append(f"{step} {status}: {answer[:200]!r}")
        return json.loads(answer) if answer else None

    async def walk(order_id: UUID) -> None:
        created = await call(
            "request",
            201,
            "POST",
            f"/v1/orders/{order_id}/returns",
            {"lines": [{"line_no": 1, "quantity": 1, "reason": "defective"}]},
            key=f"rma-{order_id}",
        )
        return_id = created["id"]
        await call(
            "receive",
            200,
            "POST",
            f"/v1/returns/{return_id}/receive",
            {
                "location": WAREHOUSE,
                "lines": [{"line_no": 1, "quantity": 1, "disposition": "restock"}],
            },
        )
        for step, expect, k in (("refund", 200, "a"), ("refund_again", 409, "b")):
            await call(
                step, expect, "POST", f"/v1/returns/{return_id}/refund", key=f"{k}-{return_id}"
            )
        await call("read", 200, "GET", f"/v1/returns/{return_id}")

    queue = list(orders)
    to_warm, queue = queue[:WARM_UP], queue[WARM_UP:]
    to_count, queue = queue[: args.counted], queue[args.counted :]
    to_profile, to_time = queue[: args.profile], queue[args.profile :]
    profiles: dict[int, cProfile.Profile] = {}

    def start_profile() -> None:
        profiles.setdefault(threading.get_ident(), cProfile.Profile(time.thread_time)).enable()

    def stop_profile() -> None:
        profile = profiles.get(threading.get_ident())
        if profile is not None:
            profile.disable()

    async with app.router.lifespan_context(app):
        build_routes(app)
        limit = anyio.to_thread.current_default_thread_limiter().total_tokens
        for order_id in to_warm:
            await walk(order_id)
        # CPU first, with no hook in any thread.
        cpu.clear()
        loop_cpu.clear()
        for order_id in to_time:
            await walk(order_id)
        times, loop_times = dict(cpu), dict(loop_cpu)
        hooked = await in_every_thread(lambda: sys.setprofile(counter.hook))
        counted.clear()
        for order_id in to_count:
            await walk(order_id)
        await in_every_thread(lambda: sys.setprofile(None))
        calls = dict(counted)
        if to_profile:
            await in_every_thread(start_profile)
            for order_id in to_profile:
                await walk(order_id)
            await in_every_thread(stop_profile)
        anyio.to_thread.current_default_thread_limiter().total_tokens = limit
    engine.dispose()
    n_cpu, n_counted = len(to_time), len(to_count)
    print(
        f"\n{n_cpu} returns timed, {n_counted} counted ({hooked} worker threads hooked), "
        f"{len(to_profile)} profiled; in process on PostgreSQL ({WARM_UP} more to warm up)"
    )
    print(f"{'step':<14}{'CPU ms/call':>12}{'loop ms/call':>13}{'calls/call':>12}")
    for step in STEPS:
        print(
            f"{step:<14}{1000 * times[step] / n_cpu:>12.3f}"
            f"{1000 * loop_times[step] / n_cpu:>13.3f}{calls[step] / max(1, n_counted):>12.1f}"
        )
    total_calls = sum(calls.values()) / max(1, n_counted)
    print(
        f"{'all 5 calls':<14}{1000 * sum(times.values()) / n_cpu:>12.3f}"
        f"{1000 * sum(loop_times.values()) / n_cpu:>13.3f}{total_calls:>12.1f}"
    )
    if profiles:
        stats = pstats.Stats(*profiles.values())
        if args.stats:
            stats.dump_stats(args.stats)
        stats.sort_stats("tottime").print_stats(40)
        stats.sort_stats("ncalls").print_stats(25)
    for line in wrong[:10]:
        print(f"unexpected: {line}")
    print(json.dumps({"wrong_answers": len(wrong), "calls_per_return": total_calls}))
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
