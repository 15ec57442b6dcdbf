"""A migrated database of one test module's own, on SQLite or PostgreSQL.

Carrier rate cards are deployment-wide: a module that imports them must not share its
database with modules whose orders would then start being routed by them.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine

from oms.adapters.db.engine import build_engine
from oms.adapters.db.migrate import upgrade
from oms.config import Settings

__all__ = ["ENGINES", "own_database"]

# ``params`` for a module-scoped fixture that runs its module on both databases.
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def own_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, name: str
) -> Iterator[Engine]:
    """A fresh database called ``name`` on ``request.param`` ("sqlite" or "postgres"),
    dropped afterwards (PostgreSQL)."""
    settings = {"db_pool_size": 10, "db_max_overflow": 40, "api_key_cache_seconds": 3_600}
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp(name) / f'{name}.db'}"
        engine = build_engine(Settings(database_url=url, **settings))
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    base: str = request.getfixturevalue("postgres_url")
    server, _, database = base.rpartition("/")
    scratch = f"{database}_{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {scratch}")
    engine = build_engine(Settings(database_url=f"{server}/{scratch}", **settings))
    upgrade(engine)
    yield engine
    engine.dispose()
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
