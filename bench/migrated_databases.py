"""CPU of one migrated test database: the migrations run from empty, against a copy of a
migrated template (what ``tests.databases.migrated_database_url`` does for a module's own
database): the SQLite file copied, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL.

    .venv/bin/python bench/migrated_databases.py [SERVER_URL [PREFIX]]

Prints this process's CPU and, on PostgreSQL, the serving backend's (from /proc, so the
server must run on this machine). SERVER_URL defaults to the loopback server's ``postgres``
database; the databases it creates and drops are named PREFIX (``oms_bench_migrated``) ``_*``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time

import psycopg
from sqlalchemy import text

from oms.adapters.db.engine import build_engine
from oms.adapters.db.migrate import upgrade
from oms.config import Environment, Settings

ROUNDS = 3


def backend_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (a PostgreSQL backend)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def migrate(url: str) -> tuple[float, float]:
    """Migrate the empty database at ``url``: (client CPU, backend CPU) in seconds."""
    engine = build_engine(Settings(database_url=url, environment=Environment.TEST))
    pid = None
    if url.startswith("postgresql"):
        with engine.connect() as connection:
            pid = connection.execute(text("select pg_backend_pid()")).scalar()
    before = backend_cpu(pid) if pid else 0.0
    started = time.process_time()
    upgrade(engine)
    client = time.process_time() - started
    server = backend_cpu(pid) - before if pid else 0.0
    engine.dispose()
    return client, server


def main() -> None:
    server = sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:5432/postgres"
    prefix = sys.argv[2] if len(sys.argv) > 2 else "oms_bench_migrated"
    folder = tempfile.mkdtemp()
    migrate(f"sqlite:///{folder}/warm.db")  # alembic and the scripts loaded once, as in a run
    for i in range(ROUNDS):
        client, _ = migrate(f"sqlite:///{folder}/m{i}.db")
        started = time.process_time()
        shutil.copyfile(f"{folder}/m{i}.db", f"{folder}/c{i}.db")
        copied = time.process_time() - started
        print(f"sqlite    migrate {client:.3f} s   copy {copied:.4f} s")
    shutil.rmtree(folder)
    base = server.rsplit("/", 1)[0]
    with psycopg.connect(server, autocommit=True) as admin:
        admin_pid = admin.execute("select pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        for i in range(ROUNDS):
            admin.execute(f"DROP DATABASE IF EXISTS {prefix}_m{i}")
            admin.execute(f"CREATE DATABASE {prefix}_m{i}")
            client, backend = migrate(f"{base}/{prefix}_m{i}")
            before = backend_cpu(admin_pid)
            started = time.process_time()
            admin.execute(f"DROP DATABASE IF EXISTS {prefix}_c{i}")
            admin.execute(f"CREATE DATABASE {prefix}_c{i} TEMPLATE {prefix}_m{i}")
            print(
                f"postgres  migrate {client:.3f} s + backend {backend:.3f} s   "
                f"clone {time.process_time() - started:.4f} s + backend "
                f"{backend_cpu(admin_pid) - before:.3f} s"
            )
        for i in range(ROUNDS):
            admin.execute(f"DROP DATABASE {prefix}_m{i}")
            admin.execute(f"DROP DATABASE {prefix}_c{i}")


if __name__ == "__main__":
    main()
