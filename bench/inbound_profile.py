"""Where a receiving scan's time goes: the use case in process (no HTTP), on PostgreSQL,
under pyinstrument.

Run it from the project root::

    .venv/bin/python bench/inbound_profile.py [--scans 200] [--no-profile]
        [--database oms_bench_inbound_profile]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

It re-creates the database ``--database``, makes a tenant with a location, 20 products and
one shipment of 20 lines, warms up with 20 scans, then runs ``--scans`` scans of 1-3 lines
each (``oms.services.inbound.receive_scan``, what the route runs, as the operator without a
tenant as ``bench/inbound.py`` sends them) and prints per scan: the wall time, this
process's CPU, the CPU of the PostgreSQL backends serving the database (``/proc``, the
server being on this machine), the statements sent (psycopg cursor executions; BEGIN and
COMMIT are not among them) and the transactions; then the profile (pyinstrument, which
adds CPU of its own: ``--no-profile`` measures without it).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from pyinstrument import Profiler

from oms.adapters.db.engine import build_engine
from oms.adapters.db.migrate import upgrade
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.config import Environment, Settings
from oms.domain.ids import new_id
from oms.domain.orders import Actor
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.services import catalogue, inbound
from oms.services.tenants import create_tenant

sys.path.insert(0, str(Path(__file__).parent))
from benchkit import database_url, recreate_database

NAME = "oms_bench_inbound_profile"
SKUS = [f"S{n:02d}" for n in range(20)]
ACTOR = Actor("user", "bench")


class _Counted:
    """Counts the statements psycopg sends (SQLAlchemy's and the driver statements')."""

    def __init__(self) -> None:
        self.statements = 0
        execute, executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany
        counted = self

        def counting_execute(cursor: Any, *args: Any, **kwargs: Any) -> Any:
            counted.statements += 1
            return execute(cursor, *args, **kwargs)

        def counting_executemany(cursor: Any, *args: Any, **kwargs: Any) -> Any:
            counted.statements += 1
            return executemany(cursor, *args, **kwargs)

        psycopg.Cursor.execute = counting_execute  # type: ignore[method-assign]
        psycopg.Cursor.executemany = counting_executemany  # type: ignore[method-assign]


def _backends_cpu(pg_url: str, database: str) -> float:
    """CPU seconds of the PostgreSQL backends connected to ``database``."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )
        ]
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scans", type=int, default=200)
    parser.add_argument("--no-profile", action="store_true", help="measure without pyinstrument")
    parser.add_argument("--database", default=NAME, help="dropped and re-created")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    recreate_database(args.pg_url, args.database)
    engine = build_engine(
        Settings(
            database_url=database_url(args.pg_url, args.database),
            environment=Environment.DEVELOPMENT,
        )
    )
    upgrade(engine)
    uow = SqlUnitOfWorkFactory(engine)
    tenant, _ = create_tenant(uow_factory=uow, name="profile")
    principal = Principal(key_id=new_id(), scope=ApiKeyScope.TENANT, tenant_id=tenant.id)
    catalogue.create_location(
        uow_factory=uow, principal=principal, command=catalogue.NewLocation(code="WH", name="WH")
    )
    for sku in SKUS:
        catalogue.create_product(
            uow_factory=uow,
            tenant_id=tenant.id,
            command=catalogue.NewProduct(sku=sku, name=sku, price=Decimal(9), currency="EUR"),
        )
    asn = inbound.announce_shipment(
        uow_factory=uow,
        tenant_id=tenant.id,
        command=inbound.ShipmentAnnouncement(
            location="WH", reference="ASN", lines=[(sku, 100_000) for sku in SKUS]
        ),
        actor=ACTOR,
    )
    rng = random.Random(1)
    transactions = 0

    def counting_uow(**kwargs: Any) -> Any:
        nonlocal transactions
        transactions += 1
        return uow(**kwargs)

    def scan(n: int) -> None:
        inbound.receive_scan(
            uow_factory=counting_uow,
            tenant_id=None,
            shipment_id=asn.id,
            lines=[
                inbound.ScanLine(sku, rng.randint(1, 12))
                for sku in rng.sample(SKUS, rng.randint(1, 3))
            ],
            actor=ACTOR,
            operator=True,
            scan_id=f"s{n}",
        )

    for n in range(20):
        scan(n)
    counted = _Counted()
    transactions = 0
    profiler = None if args.no_profile else Profiler(interval=0.0005)
    database_cpu = _backends_cpu(args.pg_url, args.database)
    began, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.start()
    for n in range(20, 20 + args.scans):
        scan(n)
    if profiler is not None:
        profiler.stop()
    wall = (time.perf_counter() - began) / args.scans * 1000
    cpu_ms = (time.process_time() - cpu) / args.scans * 1000
    database_ms = (_backends_cpu(args.pg_url, args.database) - database_cpu) / args.scans * 1000
    note = "" if profiler is None else " (the profiler adds some)"
    print(
        f"per scan: wall {wall:.1f} ms, CPU here {cpu_ms:.2f} ms{note},"
        f" PostgreSQL {database_ms:.2f} ms,"
        f" statements {counted.statements / args.scans:.2f}, transactions"
        f" {transactions / args.scans:.2f}"
    )
    if profiler is not None:
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    engine.dispose()


if __name__ == "__main__":
    main()
