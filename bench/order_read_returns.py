"""CPU of ``GET /v1/orders/{id}`` for a shipped order never returned (no count) and for one
with a return asked for and nothing back yet (the one case where the read counts the
order's open returns, docs/returns.md), and of that count alone, in this process and, on
PostgreSQL, in the one serving backend (pool of one).

    .venv/bin/python bench/order_read_returns.py [DATABASE_URL] [--reads N]

DATABASE_URL: an empty database to migrate and fill (default a SQLite file in a temporary
folder); its backend must run on this machine for the PostgreSQL figures (/proc).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.api.support import api_settings_for, new_tenant
from tests.builders import TESTER
from tests.integration.returns_support import (
    SHIPPED_AT,
    open_shop,
    prepared_engine,
    shipped_order,
)

from oms.adapters.db.engine import build_engine
from oms.adapters.db.migrate import upgrade
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import create_app
from oms.config import Settings
from oms.domain.returns import WantedLine
from oms.services import returns


def backend_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?")
    parser.add_argument("--reads", type=int, default=2000)
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    settings = Settings(database_url=url, db_pool_size=1, db_max_overflow=0)
    fresh = build_engine(settings)
    upgrade(fresh)
    fresh.dispose()
    engine = prepared_engine(settings)
    uow = SqlUnitOfWorkFactory(engine)
    tenant = new_tenant(uow, "bench read shop")
    open_shop(uow, tenant.id)
    plain = shipped_order(uow, tenant.id, ("X", 1), ("Y", 2))
    order = shipped_order(uow, tenant.id, ("X", 1), ("Y", 2))
    returns.request_return(
        uow_factory=uow,
        tenant_id=tenant.id,
        order_id=order.id,
        command=returns.NewReturn((WantedLine(2, 1, "changed_mind"),)),
        actor=TESTER,
        at=SHIPPED_AT + timedelta(days=2),
    )
    pid = None
    if url.startswith("postgresql"):
        with engine.connect() as conn:
            pid = conn.scalar(text("select pg_backend_pid()"))
    app = create_app(api_settings_for(url).model_copy(update={"db_pool_size": 1}), engine=engine)
    with TestClient(app) as client:

        def reads(order_id: object, status: str) -> tuple[float, float]:
            path = f"/v1/orders/{order_id}"
            for _ in range(100):  # warm caches
                assert client.get(path, headers=tenant.headers).json()["return_status"] == status
            cpu, db = time.process_time(), backend_cpu(pid)
            for _ in range(args.reads):
                client.get(path, headers=tenant.headers)
            spent = (time.process_time() - cpu, backend_cpu(pid) - db)
            return spent[0] / args.reads, spent[1] / args.reads

        never = reads(plain.id, "none")
        asked = reads(order.id, "requested")
    cpu, db = time.process_time(), backend_cpu(pid)
    for _ in range(args.reads):
        with uow(readonly=True) as reading:
            reading.returns.open_count(tenant.id, order.id)
    count_tx = ((time.process_time() - cpu) / args.reads, (backend_cpu(pid) - db) / args.reads)
    cpu, db = time.process_time(), backend_cpu(pid)
    for _ in range(args.reads):
        with uow(readonly=True):
            pass
    empty_tx = ((time.process_time() - cpu) / args.reads, (backend_cpu(pid) - db) / args.reads)
    count = (count_tx[0] - empty_tx[0], count_tx[1] - empty_tx[1])
    print(f"{engine.dialect.name}, {args.reads} reads, load {os.getloadavg()[0]:.2f}")
    for name, (ours, theirs) in (("never returned", never), ("return asked", asked)):
        print(f"GET /v1/orders/{{id}}, {name}: {ours * 1e3:.3f} ms oms + {theirs * 1e3:.3f} ms db")
    print(f"the open-returns count alone: {count[0] * 1e3:.3f} ms oms + {count[1] * 1e3:.3f} ms db")
    engine.dispose()


if __name__ == "__main__":
    main()
