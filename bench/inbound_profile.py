"""Where a receiving scan's time goes: the use case in process (no HTTP), on PostgreSQL,
under pyinstrument.

Run it from the project root::

    .venv/bin/python bench/inbound_profile.py [--scans 200]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

It re-creates the database ``oms_bench_inbound_profile``, makes a tenant with a location,
20 products and one shipment of 20 lines, warms up with 20 scans, then profiles ``--scans``
scans of 1-3 lines each (``oms.services.inbound.receive_scan``, what the route runs) and
prints the wall time and this process's CPU per scan, then the profile. The database's CPU
is not in it (``bench/inbound.py`` prints both over HTTP).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scans", type=int, default=200)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    recreate_database(args.pg_url, NAME)
    engine = build_engine(
        Settings(database_url=database_url(args.pg_url, NAME), environment=Environment.DEVELOPMENT)
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

    def scan(n: int) -> None:
        inbound.receive_scan(
            uow_factory=uow,
            tenant_id=tenant.id,
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
    profiler = Profiler(interval=0.0005)
    began, cpu = time.perf_counter(), time.process_time()
    with profiler:
        for n in range(20, 20 + args.scans):
            scan(n)
    wall = (time.perf_counter() - began) / args.scans * 1000
    cpu_ms = (time.process_time() - cpu) / args.scans * 1000
    print(f"per scan: wall {wall:.1f} ms, CPU here {cpu_ms:.1f} ms (the profiler adds some)")
    print(profiler.output_text(unicode=False, color=False, show_all=False))
    engine.dispose()


if __name__ == "__main__":
    main()
