"""The locked order read on PostgreSQL, one statement against a statement per table: CPU
per read in this process (the driver and the mapping) and in its PostgreSQL backend.

Run it from the project root::

    .venv/bin/python bench/order_load.py [--orders 40] [--reads 3000]
        [--database oms_bench_order_load]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

It re-creates the database, ships ``--orders`` orders and walks each through a return
exactly as ``bench/returns_profile.py`` does (so each has two lines, their allocations,
an authorization, a capture and a refund, and a dozen timeline events), then reads them
locked (``for_update``) in turns, ``--reads`` reads a turn, on one connection in one
transaction per turn: ``load_order`` (one statement) and ``load_order_by_table`` (the read
SQLite keeps), each with and without the timeline, two turns each, interleaved. CPU is
``time.process_time`` here and the backend's ``/proc/<pid>/stat`` (clock ticks: coarse,
hence the many reads). Nothing is asserted about speed; every read is compared with the
other read of the same order first (exit code 1 when one differs).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from oms.adapters.db.engine import build_engine
from oms.adapters.db.repositories.order_load import load_order, load_order_by_table
from oms.config import Environment, Settings

sys.path.insert(0, str(Path(__file__).parent))
from benchkit import CLOCK_TICKS, database_url, drop_database

READS: dict[str, Callable[..., Any]] = {
    "one statement": load_order,
    "per table": load_order_by_table,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--reads", type=int, default=3000)
    parser.add_argument("--database", default="oms_bench_order_load")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    url = database_url(args.pg_url, args.database)
    # The orders as the returns leave them: the returns profile builds and keeps them.
    subprocess.run(
        [
            sys.executable,
            str(Path(__file__).parent / "returns_profile.py"),
            f"--orders={args.orders + 20}",
            f"--database={args.database}",
            f"--pg-url={args.pg_url}",
            "--keep",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        return _run(url, args.reads)
    finally:
        drop_database(args.pg_url, args.database)


def _backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _turn(
    conn: Connection, read: Callable[..., Any], keys: list[Any], n: int, events: bool
) -> tuple[float, float]:
    pid = conn.scalar(text("SELECT pg_backend_pid()"))
    assert isinstance(pid, int)
    done, cpu, backend = 0, time.process_time(), _backend_cpu(pid)
    while done < n:
        for tenant_id, order_id in keys:
            read(conn, tenant_id, order_id, with_events=events, for_update=True)
            done += 1
    conn.commit()
    return (time.process_time() - cpu) / done, (_backend_cpu(pid) - backend) / done


def _run(url: str, reads: int) -> int:
    engine = build_engine(Settings(database_url=url, environment=Environment.DEVELOPMENT))
    with engine.connect() as conn:
        keys = [tuple(r) for r in conn.execute(text("SELECT tenant_id, id FROM orders"))]
        for tenant_id, order_id in keys:
            for events in (False, True):
                whole = load_order(conn, tenant_id, order_id, with_events=events, for_update=True)
                alone = load_order_by_table(
                    conn, tenant_id, order_id, with_events=events, for_update=True
                )
                if whole != alone or repr(whole) != repr(alone):
                    print(f"the reads differ for order {order_id}")
                    return 1
        conn.commit()
        figures: dict[tuple[str, bool], list[tuple[float, float]]] = {}
        for _ in range(2):
            for name, read in READS.items():
                for events in (False, True):
                    figures.setdefault((name, events), []).append(
                        _turn(conn, read, keys, reads, events)
                    )
    engine.dispose()
    print(f"\n{len(keys)} orders read locked, {reads} reads a turn, two turns each")
    print(f"{'read':<16}{'timeline':<10}{'client us/read':>16}{'PostgreSQL us/read':>20}")
    for (name, events), turns in figures.items():
        client = " / ".join(f"{1e6 * c:.0f}" for c, _ in turns)
        server = " / ".join(f"{1e6 * s:.0f}" for _, s in turns)
        print(f"{name:<16}{'yes' if events else 'no':<10}{client:>16}{server:>20}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
