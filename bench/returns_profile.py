"""Where a return's server time goes: its HTTP calls in process (the ASGI app, no network),
on PostgreSQL, with CPU and statements per call and step, optionally under a profiler.

Run it from the project root::

    .venv/bin/python bench/returns_profile.py [--orders 200] [--profile pyinstrument|cprofile]
        [--database oms_bench_returns_profile]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

It re-creates the database, ships ``--orders`` discounted two-line orders exactly as
``bench/returns.py`` does (its ``build_world``), then, one call at a time through the app
``oms serve`` runs (``create_app``, every middleware), walks each order through the same
steps as that bench: ask to return one unit of line 1 as ``defective`` (approved by the
policy at once), receive it into stock, refund it twice with two Idempotency-Keys (200,
then 409), read it. The first 20 orders warm up and are not counted. It prints, per step,
this process's CPU per call (``time.process_time``: the app and the driver), the CPU
the database's PostgreSQL backends spent meanwhile (``/proc/<pid>/schedstat``, Linux
only; the other backends of the server are not counted), the SQL statements per call and
the round trips per call (the statements, and each ``BEGIN``, ``COMMIT`` and ``ROLLBACK``
psycopg sends as its own), then the profile when asked. Nothing is
asserted about speed; the answers' statuses are checked (exit code 1 on a wrong one).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from uuid import UUID

from pyinstrument import Profiler
from sqlalchemy import event, text

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.engine import build_engine
from oms.adapters.db.migrate import upgrade
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import create_app
from oms.config import Environment, Settings
from oms.services.tenants import create_tenant

sys.path.insert(0, str(Path(__file__).parent))
from benchkit import database_url, drop_database, recreate_database
from returns import WAREHOUSE, build_world

STEPS = ("request", "receive", "refund", "refund_again", "read")
WARM_UP = 20


def backends_of(database: str) -> list[Path]:
    """The ``schedstat`` files of the PostgreSQL backends connected to ``database``."""
    marker = f" {database} ".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if command.startswith(b"postgres: ") and marker in command:
            found.append(entry / "schedstat")
    return found


def run_seconds(files: list[Path]) -> dict[Path, float]:
    """CPU seconds each process has run (its ``schedstat``'s first field, nanoseconds)."""
    spent = {}
    for path in files:
        try:
            spent[path] = int(path.read_text().split()[0]) / 1e9
        except OSError:
            continue
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--profile", choices=("pyinstrument", "cprofile"), default=None)
    parser.add_argument("--database", default="oms_bench_returns_profile")
    parser.add_argument("--keep", action="store_true", help="leave the database in place")
    parser.add_argument(
        "--trace", action="store_true", help="print the statements of the last return's calls"
    )
    parser.add_argument(
        "--plans",
        action="store_true",
        help="print the statements prepared on a pooled connection, with their plans' counts",
    )
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    url = database_url(args.pg_url, args.database)
    recreate_database(args.pg_url, args.database)
    try:
        return _run(args, url)
    finally:
        if not args.keep:
            drop_database(args.pg_url, args.database)


def _run(args: argparse.Namespace, url: str) -> int:
    settings = Settings(database_url=url, environment=Environment.DEVELOPMENT)
    engine = build_engine(settings)
    upgrade(engine)
    tenant, key = create_tenant(uow_factory=SqlUnitOfWorkFactory(engine), name="profile")
    print(f"setup: shipping {args.orders} orders", flush=True)
    orders = build_world(url, tenant.id, args.orders, seed=20)
    statements, round_trips = [0], [0]
    traced: list[str] = []

    def count(_conn: Any, _cursor: Any, text: str, *_: Any) -> None:
        statements[0] += 1
        round_trips[0] += 1
        if tracing[0]:
            traced.append(f"{current[0]:<13} " + " ".join(text.split())[:150])

    event.listen(engine, "before_cursor_execute", count)
    # Statements run straight through psycopg (DriverStatement) pass no SQLAlchemy event.
    fetch = DriverStatement._fetch

    def counted_fetch(self: DriverStatement, conn: Any, params: Any, named: Any) -> Any:
        if conn.dialect.name == "postgresql":
            count(None, None, self.sql)
        return fetch(self, conn, params, named)

    DriverStatement._fetch = counted_fetch  # type: ignore[method-assign,assignment]
    # BEGIN, COMMIT and ROLLBACK: psycopg sends each as a query of its own.
    import psycopg

    send = psycopg.Connection._exec_command

    def counted_command(self: Any, command: Any, *args: Any, **kw: Any) -> Any:
        round_trips[0] += 1
        if tracing[0]:
            text = command if isinstance(command, str | bytes) else command.as_string(self)
            traced.append(f"{current[0]:<13} {text!r}"[:150])
        return send(self, command, *args, **kw)

    psycopg.Connection._exec_command = counted_command  # type: ignore[method-assign]
    # A rollback that keeps the prepared statements goes through libpq, not psycopg.
    from oms.adapters.db import engine as engine_module

    libpq_rollback = getattr(engine_module, "_rollback_keeping_prepared", None)
    if libpq_rollback is not None:

        def counted_rollback(driver: Any) -> None:
            if driver.pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                round_trips[0] += 1
                if tracing[0]:
                    traced.append(f"{current[0]:<13} ROLLBACK (libpq)")
            libpq_rollback(driver)

        engine_module._rollback_keeping_prepared = counted_rollback
    from fastapi.testclient import TestClient

    cpu: dict[str, float] = defaultdict(float)
    pg_cpu: dict[str, float] = defaultdict(float)
    sql: dict[str, int] = defaultdict(int)
    trips: dict[str, int] = defaultdict(int)
    wrong: list[str] = []
    tracing, current = [False], [""]
    profiler: Profiler | cProfile.Profile | None = None
    headers = {"Authorization": f"Bearer {key.secret}"}
    with TestClient(create_app(settings, engine=engine)) as client:

        def call(step: str, expect: int, method: str, path: str, **kw: Any) -> Any:
            current[0] = step
            backends = backends_of(args.database)
            pg_before = run_seconds(backends)
            trips_before = round_trips[0]
            sql_before, cpu_before = statements[0], time.process_time()
            response = client.request(method, path, headers={**headers, **kw.pop("h", {})}, **kw)
            cpu[step] += time.process_time() - cpu_before
            sql[step] += statements[0] - sql_before
            trips[step] += round_trips[0] - trips_before
            pg_after = run_seconds(backends)
            pg_cpu[step] += sum(pg_after[p] - pg_before[p] for p in pg_after if p in pg_before)
            if response.status_code != expect:
                wrong.append(f"{step} {response.status_code}: {response.text[:200]}")
            return response.json()

        def walk(order_id: UUID) -> None:
            body = call(
                "request",
                201,
                "POST",
                f"/v1/orders/{order_id}/returns",
                json={"lines": [{"line_no": 1, "quantity": 1, "reason": "defective"}]},
                h={"Idempotency-Key": f"rma-{order_id}"},
            )
            return_id = body["id"]
            call(
                "receive",
                200,
                "POST",
                f"/v1/returns/{return_id}/receive",
                json={
                    "location": WAREHOUSE,
                    "lines": [{"line_no": 1, "quantity": 1, "disposition": "restock"}],
                },
            )
            for step, expect, k in (("refund", 200, "a"), ("refund_again", 409, "b")):
                call(
                    step,
                    expect,
                    "POST",
                    f"/v1/returns/{return_id}/refund",
                    h={"Idempotency-Key": f"{k}-{return_id}"},
                )
            call("read", 200, "GET", f"/v1/returns/{return_id}")

        for order_id in orders[:WARM_UP]:
            walk(order_id)
        cpu.clear()
        pg_cpu.clear()
        sql.clear()
        trips.clear()
        measured = orders[WARM_UP:]
        if args.profile == "pyinstrument":
            profiler = Profiler(interval=0.0005)
            profiler.start()
        elif args.profile == "cprofile":
            profiler = cProfile.Profile()
            profiler.enable()
        for order_id in measured[:-1]:
            walk(order_id)
        tracing[0] = args.trace
        walk(measured[-1])
        if isinstance(profiler, Profiler):
            profiler.stop()
        elif profiler is not None:
            profiler.disable()
    if args.plans:
        with engine.connect() as conn:
            for row in conn.execute(
                text(
                    "SELECT generic_plans, custom_plans, statement FROM pg_prepared_statements"
                    " ORDER BY generic_plans + custom_plans DESC"
                )
            ):
                print(f"generic {row[0]:>5} custom {row[1]:>5}  {' '.join(row[2].split())[:90]}")
    engine.dispose()
    n = len(measured)
    print(f"\n{n} returns in process on PostgreSQL ({WARM_UP} more to warm up)")
    print(f"{'step':<14}{'CPU ms/call':>12}{'PG ms/call':>11}{'SQL/call':>10}{'trips/call':>11}")
    for step in STEPS:
        print(
            f"{step:<14}{1000 * cpu[step] / n:>12.2f}{1000 * pg_cpu[step] / n:>11.2f}"
            f"{sql[step] / n:>10.1f}{trips[step] / n:>11.1f}"
        )
    print(
        f"{'all 5 calls':<14}{1000 * sum(cpu.values()) / n:>12.2f}"
        f"{1000 * sum(pg_cpu.values()) / n:>11.2f}{sum(sql.values()) / n:>10.1f}"
        f"{sum(trips.values()) / n:>11.1f}"
    )
    if isinstance(profiler, Profiler):
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    elif profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
    print("\n".join(traced))
    for line in wrong[:10]:
        print(f"unexpected: {line}")
    print(json.dumps({"wrong_answers": len(wrong)}))
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
