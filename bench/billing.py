"""A month's billing statement over a million ledger movements, on PostgreSQL.

Run it from the project root::

    .venv/bin/python bench/billing.py [--movements 1000000] [--skus 2000] [--locations 4]
        [--server postgresql://postgres@127.0.0.1:5432/postgres] [--seed 7] [--repeat 3]

It creates a scratch database (``oms_bench_billing``, dropped at the end), migrates it, and
seeds one merchant at the operator's warehouses: ``--skus`` products with bins (four SKUs to
a bin) at ``--locations`` locations, and ``--movements`` ledger rows written with COPY over
three months (February to April 2031; March is billed): receipts (a fifth, in ASNs of 20
lines), shipments and adjustments, on random (SKU, location) rows at random moments. Then it
builds March's statement (``oms.services.billing.statement_for``, what
``GET /v1/billing/statements`` runs) ``--repeat`` times and prints each time, and the
activity, so a run can be checked against the next. Beside each wall time it prints the CPU
the run took: this process's (``time.process_time``) and the PostgreSQL backend's serving
it (its ``/proc/<pid>/stat`` user + system ticks, the server being on this machine), which
say more than the wall time on a loaded machine. ``--reuse`` keeps a database seeded by an
earlier ``--keep`` run (same arguments) instead of seeding again; ``--profile`` adds a
pyinstrument profile of one more run.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
from sqlalchemy import Engine, func, insert, select, text

from oms.adapters.db.engine import build_engine
from oms.adapters.db.migrate import upgrade
from oms.adapters.db.tables import inventory_movements, locations, product_bins, products
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.config import Environment, Settings
from oms.domain.billing import Period, PriceList, StorageBasis, StorageRate
from oms.domain.ids import new_id
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.services.billing import set_price_list, statement_for
from oms.services.tenants import create_tenant

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from benchkit import database_url, drop_database, recreate_database

START = datetime(2031, 2, 1, tzinfo=UTC)
SPAN = timedelta(days=89)  # February to April
MARCH = Period(2031, 3)
PRICES = PriceList(
    currency="EUR",
    storage=(
        StorageRate("*", StorageBasis.UNIT_DAY, Decimal("0.0125")),
        StorageRate("*", StorageBasis.BIN_DAY, Decimal("0.35")),
    ),
    receiving_per_receipt=Decimal(15),
    receiving_per_line=Decimal("1.10"),
    receiving_per_unit=Decimal("0.07"),
)


def _seed_catalogue(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, skus: int, location_count: int
) -> tuple[list[str], list[UUID]]:
    now = START - timedelta(days=30)
    codes = [f"SKU-{n:06d}" for n in range(skus)]
    location_ids = [new_id() for _ in range(location_count)]
    with uow_factory() as uow:
        conn = uow.billing._conn
        conn.execute(
            insert(locations),
            [
                {
                    "id": loc,
                    "owner_tenant_id": None,
                    "code": f"BENCH-WH-{n}",
                    "name": f"Warehouse {n}",
                    "kind": "warehouse",
                    "can_ship": True,
                    "can_pickup": False,
                    "priority": 100,
                    "active": True,
                    "created_at": now,
                }
                for n, loc in enumerate(location_ids)
            ],
        )
        conn.execute(
            insert(products),
            [
                {
                    "tenant_id": tenant_id,
                    "id": new_id(),
                    "sku": sku,
                    "name": sku,
                    "price": Decimal("9.99"),
                    "currency": "EUR",
                    "kind": "physical",
                    "weight_grams": 300,
                    "components": [],
                    "created_at": now,
                }
                for sku in codes
            ],
        )
        conn.execute(
            insert(product_bins),
            [
                {"tenant_id": tenant_id, "sku": sku, "location_id": loc, "bin": f"B-{n // 4:05d}"}
                for loc in location_ids
                for n, sku in enumerate(codes)
            ],
        )
        uow.commit()
    return codes, location_ids


def _copy_movements(
    url: str, tenant_id: UUID, codes: list[str], location_ids: list[UUID], count: int, seed: int
) -> None:
    rng = random.Random(seed)
    span = SPAN.total_seconds()
    columns = (
        "tenant_id, id, sku, location_id, kind, quantity, on_hand_after, reason, reference, "
        "actor, created_at"
    )
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY inventory_movements ({columns}) FROM STDIN") as copy:
            for n in range(count):
                roll = rng.random()
                if roll < 0.2:
                    kind, quantity, reference = "receipt", rng.randint(5, 200), f"ASN-{n // 20}"
                elif roll < 0.95:
                    kind, quantity, reference = "shipment", -rng.randint(1, 3), None
                else:
                    kind, quantity, reference = "adjustment", rng.randint(-5, 5) or 1, None
                at = START + timedelta(seconds=rng.random() * span)
                copy.write_row(
                    (
                        tenant_id,
                        uuid4(),
                        rng.choice(codes),
                        rng.choice(location_ids),
                        kind,
                        quantity,
                        0,
                        None,
                        reference,
                        "bench",
                        at,
                    )
                )
        conn.commit()
        conn.execute("ANALYZE inventory_movements")


def _backend_cpu(engine: Engine) -> tuple[list[Any], float]:
    """The backends connected to the bench's database (the pool's) and the CPU seconds they
    used so far."""
    with engine.connect() as conn:
        pids = list(
            conn.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            )
        )
    return pids, sum(_cpu_of(pid) for pid in pids)


def _cpu_of(pid: Any) -> float:
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    except OSError:
        return float("nan")  # a server on another machine
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _seeded(engine: Engine, movements: int) -> bool:
    try:
        with engine.connect() as conn:
            return bool(
                conn.scalar(select(func.count()).select_from(inventory_movements)) == movements
            )
    except Exception:
        return False


def _tenant_of(engine: Engine) -> UUID:
    with engine.connect() as conn:
        found: UUID = conn.scalar(select(inventory_movements.c.tenant_id).limit(1))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--movements", type=int, default=1_000_000)
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--locations", type=int, default=4)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print where the time goes")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="a database kept by --keep")
    args = parser.parse_args()
    name = "oms_bench_billing"
    url = database_url(args.server, name)
    settings = Settings(database_url=url, environment=Environment.DEVELOPMENT)
    engine = build_engine(settings)
    reused = args.reuse and _seeded(engine, args.movements)
    if not reused:
        engine.dispose()
        recreate_database(args.server, name)
        engine = build_engine(settings)
    try:
        uow_factory = SqlUnitOfWorkFactory(engine)
        if reused:
            tenant_id = _tenant_of(engine)
            print(f"reusing the {args.movements:,} movements kept by an earlier run")
        else:
            upgrade(engine)
            tenant, _ = create_tenant(uow_factory=uow_factory, name="Bench merchant")
            tenant_id = tenant.id
            codes, location_ids = _seed_catalogue(uow_factory, tenant_id, args.skus, args.locations)
            began = time.perf_counter()
            _copy_movements(url, tenant_id, codes, location_ids, args.movements, args.seed)
            print(
                f"seeded {args.movements:,} movements with COPY in "
                f"{time.perf_counter() - began:.1f} s"
            )
            operator = Principal(key_id=new_id(), scope=ApiKeyScope.OPERATOR, tenant_id=tenant_id)
            set_price_list(uow_factory=uow_factory, principal=operator, prices=PRICES)
        for attempt in range(1, args.repeat + 1):
            pids, server_before = _backend_cpu(engine)
            began, cpu_before = time.perf_counter(), time.process_time()
            statement = statement_for(
                uow_factory=uow_factory,
                tenant_id=tenant_id,
                period=MARCH,
                at=datetime(2031, 5, 1, tzinfo=UTC),
            )
            took, cpu = time.perf_counter() - began, time.process_time() - cpu_before
            server = sum(_cpu_of(pid) for pid in pids) - server_before
            print(
                f"statement {MARCH} run {attempt}: {took:.2f} s wall, CPU {cpu:.2f} s here + "
                f"{server:.2f} s PostgreSQL backend (load {os.getloadavg()[0]:.1f})"
            )
        if args.profile:
            from pyinstrument import Profiler

            with Profiler() as profiler:
                statement_for(
                    uow_factory=uow_factory,
                    tenant_id=tenant_id,
                    period=MARCH,
                    at=datetime(2031, 5, 1, tzinfo=UTC),
                )
            print(profiler.output_text(unicode=False, color=False, show_all=False))
        a = statement.activity
        print(
            f"unit-days {sum(s.unit_days for s in a.storage):,}, bin-days "
            f"{sum(s.bin_days for s in a.storage):,}, receipts {a.receipts:,}, receipt lines "
            f"{a.receipt_lines:,}, units {a.receipt_units:,}; total {statement.total} EUR"
        )
    finally:
        engine.dispose()
        if not args.keep:
            drop_database(args.server, name)


if __name__ == "__main__":
    main()
