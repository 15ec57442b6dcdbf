"""What the HTTP framework path costs around cheap authenticated calls: CPU and SQL
statements per call of a few reads, sent straight to the ASGI app ``oms serve`` runs (no
HTTP client, no network), on PostgreSQL.

Run it from the project root::

    .venv/bin/python bench/request_overhead.py [--calls 2000] [--profile]
        [--database oms_bench_request_overhead]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

It re-creates the database, ships three orders as ``bench/returns.py`` does (its
``build_world``) and asks to return one unit of the first, then calls each route below
``--calls`` times, one call at a time, through ``create_app``'s app with its lifespan run
(every middleware; the routes built before the first call, as ``oms serve`` builds
them): a return, an order, a SKU's stock, an unknown return (404), the liveness probe,
a call without a key (401) and a path no route has (404). The first tenth of the calls
warm up and are not counted. It prints this process's CPU per call
(``time.process_time``: the app, its worker thread and the driver; not PostgreSQL) and
SQL statements per call, and the event loop thread's own share of that CPU
(``time.thread_time`` around the calls: the framework's part, the route's function
excepted, which runs in a worker thread). ``--profile`` runs pyinstrument, sampling by
the event loop thread's CPU time, over the counted calls of every route and prints the
profile (the framework's part of each call). Nothing is asserted about
speed; the answers' statuses are checked (exit code 1 on a wrong one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from pyinstrument import Profiler
from pyinstrument.stack_sampler import get_stack_sampler
from sqlalchemy import Engine, event

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.engine import build_engine
from oms.adapters.db.migrate import upgrade
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import build_routes, create_app
from oms.config import Environment, Settings
from oms.services.tenants import create_tenant

sys.path.insert(0, str(Path(__file__).parent))
from benchkit import database_url, drop_database, recreate_database
from returns import build_world

Message = dict[str, Any]


class AsgiCaller:
    """Sends one request at a time to an ASGI app, as a server would (no client library)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def call(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        if body:
            raw_headers.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"bench"), *raw_headers],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()  # the client stays: nothing more to read
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


def count_statements(engine: Engine) -> list[int]:
    """A one-item list that counts every statement sent to PostgreSQL from now on."""
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    # Statements run straight through psycopg (DriverStatement) pass no SQLAlchemy event.
    fetch = DriverStatement._fetch

    def counted_fetch(self: DriverStatement, conn: Any, params: Any, named: Any) -> Any:
        statements[0] += 1
        return fetch(self, conn, params, named)

    DriverStatement._fetch = counted_fetch  # type: ignore[method-assign,assignment]
    return statements


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="per route")
    parser.add_argument("--profile", action="store_true", help="run pyinstrument")
    parser.add_argument("--database", default="oms_bench_request_overhead")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    url = database_url(args.pg_url, args.database)
    recreate_database(args.pg_url, args.database)
    try:
        return asyncio.run(_run(args, url))
    finally:
        drop_database(args.pg_url, args.database)


async def _run(args: argparse.Namespace, url: str) -> int:
    # TEST: the lifespan skips the geocoder's warm-up (no route here geocodes); the routes
    # are built below as a served worker's lifespan builds them.
    settings = Settings(database_url=url, environment=Environment.TEST)
    engine = build_engine(settings)
    upgrade(engine)
    tenant, key = create_tenant(uow_factory=SqlUnitOfWorkFactory(engine), name="overhead")
    orders = build_world(url, tenant.id, 3, seed=20)
    statements = count_statements(engine)
    app = create_app(settings, engine=engine)
    caller = AsgiCaller(app)
    auth = {"authorization": f"Bearer {key.secret}"}
    wrong: list[str] = []
    async with app.router.lifespan_context(app):
        build_routes(app)
        status, body = await caller.call(
            "POST",
            f"/v1/orders/{orders[0]}/returns",
            {**auth, "content-type": "application/json", "idempotency-key": "overhead"},
            json.dumps({"lines": [{"line_no": 1, "quantity": 1, "reason": "defective"}]}).encode(),
        )
        if status != 201:
            print(f"could not ask for a return: {status} {body[:200]!r}")
            return 1
        return_id = UUID(json.loads(body)["id"])
        routes: list[tuple[str, int, str, dict[str, str]]] = [
            ("GET /v1/returns/{id}", 200, f"/v1/returns/{return_id}", auth),
            ("GET /v1/orders/{id}", 200, f"/v1/orders/{orders[1]}", auth),
            ("GET /v1/inventory/{sku}", 200, "/v1/inventory/TEE", auth),
            ("GET /v1/returns/{unknown}", 404, f"/v1/returns/{uuid4()}", auth),
            ("GET /healthz", 200, "/healthz", {}),
            ("GET /v1/orders/{id} no key", 401, f"/v1/orders/{orders[1]}", {}),
            ("GET /v1/no-such-thing", 404, "/v1/no-such-thing", auth),
        ]
        profiler = None
        if args.profile:
            # Sampled by this thread's CPU time, not the wall clock: the event loop's waits
            # (for the worker thread, for PostgreSQL) are left out, and so is the worker
            # thread, which runs the route's own function (the use case).
            get_stack_sampler().timer_func = time.thread_time
            profiler = Profiler(interval=0.0002, async_mode="disabled")
        figures: list[tuple[str, float, float, float]] = []
        warm_up = max(1, args.calls // 10)
        for name, expect, path, headers in routes:

            async def calls(
                n: int,
                name: str = name,
                expect: int = expect,
                path: str = path,
                headers: dict[str, str] = headers,
            ) -> None:
                for _ in range(n):
                    status, body = await caller.call("GET", path, headers)
                    if status != expect:
                        wrong.append(f"{name}: {status} {body[:200]!r}")

            await calls(warm_up)
            figures.append(await _measured(calls, args.calls, statements, profiler))
            cpu, loop, sql, _ = figures[-1]
            print(
                f"{name:<30}{1000 * cpu:>8.3f} ms{1000 * loop:>8.3f} ms{sql:>6.1f} SQL", flush=True
            )
    engine.dispose()
    print(f"\n{args.calls} calls a route, in process on PostgreSQL ({warm_up} more to warm up)")
    print(f"{'route':<30}{'CPU ms/call':>12}{'loop ms/call':>13}{'SQL/call':>10}")
    for (name, *_), (cpu, loop, sql, _) in zip(routes, figures, strict=True):
        print(f"{name:<30}{1000 * cpu:>12.3f}{1000 * loop:>13.3f}{sql:>10.1f}")
    if profiler is not None:
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    for line in wrong[:10]:
        print(f"unexpected: {line}")
    print(json.dumps({"wrong_answers": len(wrong)}))
    return 1 if wrong else 0


async def _measured(
    calls: Callable[[int], Any], n: int, statements: list[int], profiler: Profiler | None
) -> tuple[float, float, float, float]:
    """CPU seconds (the process's, the event loop thread's) and statements per call of
    ``n`` calls, and their wall-clock seconds."""
    sql_before, cpu_before, wall_before = statements[0], time.process_time(), time.perf_counter()
    loop_before = time.thread_time()
    if profiler is not None:
        profiler.start()
    await calls(n)
    if profiler is not None:
        profiler.stop()
    cpu, loop = time.process_time() - cpu_before, time.thread_time() - loop_before
    return cpu / n, loop / n, (statements[0] - sql_before) / n, time.perf_counter() - wall_before


if __name__ == "__main__":
    sys.exit(main())
