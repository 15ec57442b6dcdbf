"""Databases of a module's or test's own, on either engine, beside the shared ones.

Most tests share one database per engine (tests/conftest.py) and isolate themselves by
tenant. A few cannot: what they set is deployment-wide (the carriers' rate cards route every
tenant's orders), or they need a schema at an older revision (migration tests).
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import make_url

__all__ = ["ENGINES", "scratch_database_url"]

# Parameters of a fixture that runs its tests on each engine (PostgreSQL's marked).
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def scratch_database_url(request: pytest.FixtureRequest, kind: str, name: str) -> Iterator[str]:
    """Yield the URL of a new, empty database called after ``name`` (a file on SQLite, a
    database on the PostgreSQL test server, dropped afterwards); ``kind`` is the engine."""
    if kind == "sqlite":
        factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
        yield f"sqlite:///{factory.mktemp(name) / 'oms.db'}"
        return
    shared = make_url(request.getfixturevalue("postgres_url")).set(drivername="postgresql")
    url = shared.set(database=f"{shared.database}_{name}".lower())
    with psycopg.connect(shared.render_as_string(hide_password=False), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {url.database} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {url.database}")
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(
            shared.render_as_string(hide_password=False), autocommit=True
        ) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {url.database} WITH (FORCE)")
