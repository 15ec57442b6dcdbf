"""The dashboard's statements as PostgreSQL runs them, on a database ``bench/portal.py``
seeded (its rollups rebuilt).

Run it from the project root::

    .venv/bin/python bench/dashboard_queries.py --database oms_bench_portal [--calls 20]
        [--dirty 20] [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

It moves every tenant's rollup watermark to now and touches ``--dirty`` orders placed in
the last three days (``updated_at`` now: changed since the last refresh, as
``bench/portal.py`` does; nothing else of them changes, so the rollups stay exact), then
for the dashboard of every tenant (operator) and of the biggest tenant over 30 days:

* the whole use case ``--calls`` times: wall time and the Python process's CPU time
  (``time.process_time``: what the loaded machine's other work does not add);
* each statement it ran, again ``--calls`` times as ``EXPLAIN (ANALYZE)`` (planning plus
  execution on the server, JIT off as the dashboard sets it), p50 per statement, and the
  rows the statement's plan read from ``orders`` (how many orders were read raw).

It asserts nothing about the figures. The code under test is whatever ``oms`` imports (put
another checkout's ``src`` first on ``PYTHONPATH`` to time that one on the same data); it
runs no migration.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from sqlalchemy import Engine, event, text

from benchkit import database_url
from oms.adapters.db.engine import build_engine
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.config import Settings
from oms.services import dashboard


def _touch(url: str, now: datetime, dirty: int) -> UUID:
    """Rollups current as of ``now`` with ``dirty`` recent orders changed; the tenant with
    the most orders."""
    with psycopg.connect(url, autocommit=True) as conn:
        covered = conn.execute("SELECT count(*) FROM analytics_state").fetchone()
        if not covered or not covered[0]:
            raise SystemExit("no rollups: run bench/portal.py on this database first")
        conn.execute("UPDATE analytics_state SET watermark = %s", (now,))
        conn.execute(
            "UPDATE orders SET updated_at = %s WHERE (tenant_id, id) IN (SELECT tenant_id, id "
            "FROM orders WHERE created_at > %s ORDER BY random() LIMIT %s)",
            (now, now - timedelta(days=3), dirty),
        )
        row = conn.execute(
            "SELECT tenant_id FROM orders GROUP BY tenant_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    found: UUID = row[0]
    return found


def _orders_read(plan: dict[str, Any]) -> int:
    """Rows the plan's nodes on ``orders`` returned (loops included)."""
    found = 0
    if plan.get("Relation Name") == "orders":
        found += int(plan.get("Actual Rows", 0)) * int(plan.get("Actual Loops", 1))
    for child in plan.get("Plans", []):
        found += _orders_read(child)
    return found


def _statements(engine: Engine, call: Any) -> list[tuple[str, Any]]:
    """The statements (with their parameters) one ``call()`` runs."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def _label(statement: str) -> str:
    flat = " ".join(statement.split())
    start = flat.find(" FROM ")
    return flat[:36] + " ..." + flat[start : start + 40] if start > 0 else flat[:80]


def _explain(engine: Engine, statements: list[tuple[str, Any]], calls: int) -> None:
    total: list[float] = []
    per: dict[int, list[float]] = {k: [] for k in range(len(statements))}
    read: dict[int, int] = {}
    with engine.connect() as conn:
        conn.execute(text("SET jit = off"))
        for _ in range(calls):
            spent = 0.0
            for k, (statement, params) in enumerate(statements):
                rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", params)
                plan = rows.scalar()[0]
                ms = float(plan["Planning Time"]) + float(plan["Execution Time"])
                per[k].append(ms)
                read[k] = _orders_read(plan["Plan"])
                spent += ms
            total.append(spent)
        conn.rollback()
    for k, (statement, _) in enumerate(statements):
        print(
            f"  {statistics.median(per[k]):7.2f} ms  orders read {read[k]:6d}  {_label(statement)}"
        )
    print(f"  {statistics.median(total):7.2f} ms  every statement (p50 of {calls})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="oms_bench_portal")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--dirty", type=int, default=20)
    args = parser.parse_args(argv)
    url = database_url(args.pg_url, args.database)
    now = datetime.now(UTC)
    biggest = _touch(url, now, args.dirty)
    engine = build_engine(Settings(database_url=url))
    uow = SqlUnitOfWorkFactory(engine)
    month = (now - timedelta(days=29)).date(), now.date()
    for label, tenant_id in (("every tenant", None), ("the biggest tenant", biggest)):

        def call(tenant: UUID | None = tenant_id) -> None:
            dashboard.dashboard(
                uow_factory=uow, tenant_id=tenant, first=month[0], last=month[1], now=now
            )

        call()
        call()
        wall, cpu = [], []
        for _ in range(args.calls):
            started, used = time.perf_counter(), time.process_time()
            call()
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - used) * 1000)
        wall.sort()
        print(
            f"dashboard, {label}, 30 days ({args.calls} calls, {args.dirty} orders changed): "
            f"wall p50 {statistics.median(wall):.1f} p95 "
            f"{wall[round(0.95 * (len(wall) - 1))]:.1f} ms, "
            f"Python CPU p50 {statistics.median(cpu):.1f} ms"
        )
        _explain(engine, _statements(engine, call), args.calls)
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
