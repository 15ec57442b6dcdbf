"""Databases of a module's or test's own, on either engine, beside the shared ones.

Most tests share one database per engine (tests/conftest.py) and isolate themselves by
tenant. A few cannot: what they set is deployment-wide (the carriers' rate cards route every
tenant's orders), or they need a schema at an older revision (migration tests).

A migrated database of a module's own is a copy of the session's migrated template
(``migrated_database_url``): on PostgreSQL ``CREATE DATABASE ... TEMPLATE``, on SQLite the
template's file copied, instead of running the migrations again for every module.

Every PostgreSQL database the tests use commits without waiting for the disk
(``synchronous_commit = off``): a test database need not survive a server crash, and
waiting for the WAL flush was most of a commit's time (7 ms against 0.5 ms here).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import URL, Engine, make_url

from oms.adapters.db.engine import build_engine
from oms.adapters.db.migrate import upgrade
from oms.config import Environment, Settings

__all__ = [
    "ENGINES",
    "create_postgres_database",
    "drop_postgres_database",
    "migrated_database_url",
    "migrated_sqlite_file",
    "migrated_template",
    "own_database",
    "scratch_database_url",
]

# Parameters of a fixture that runs its tests on each engine (PostgreSQL's marked).
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _admin(url: URL) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        url.set(drivername="postgresql").render_as_string(hide_password=False),
        autocommit=True,
        connect_timeout=3,
    )


def create_postgres_database(server: str, name: str, *, template: str | None = None) -> str:
    """Create database ``name`` anew on the server ``server`` (any database URL there
    names it), empty or a copy of database ``template``; its URL."""
    url = make_url(server).set(drivername="postgresql")
    copied = f" TEMPLATE {template}" if template else ""
    with _admin(url) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}{copied}")
    created = url.set(database=name)
    tune_postgres_database(created.render_as_string(hide_password=False))
    return created.render_as_string(hide_password=False)


def tune_postgres_database(database: str) -> None:
    """Commits there stop waiting for the disk (new connections; needs its owner)."""
    url = make_url(database)
    with _admin(url) as conn:
        conn.execute(f"ALTER DATABASE {url.database} SET synchronous_commit = off")


def drop_postgres_database(server: str, name: str) -> None:
    with _admin(make_url(server)) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def scratch_database_url(request: pytest.FixtureRequest, kind: str, name: str) -> Iterator[str]:
    """Yield the URL of a new, empty database called after ``name`` (a file on SQLite, a
    database on the PostgreSQL test server, dropped afterwards); ``kind`` is the engine."""
    if kind == "sqlite":
        factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
        yield f"sqlite:///{factory.mktemp(name) / 'oms.db'}"
        return
    shared: str = request.getfixturevalue("postgres_url")
    scratch = f"{make_url(shared).database}_{name}".lower()
    url = create_postgres_database(shared, scratch)
    try:
        yield url
    finally:
        drop_postgres_database(shared, scratch)


def migrated_database_url(request: pytest.FixtureRequest, kind: str, name: str) -> Iterator[str]:
    """As ``scratch_database_url``, but the database is at the migrations' head: a copy of
    the session's migrated template (``sqlite_template``, ``postgres_template``)."""
    if kind == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
        path = factory.mktemp(name) / "oms.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    shared: str = request.getfixturevalue("postgres_url")
    postgres_template: str = request.getfixturevalue("postgres_template")
    scratch = f"{make_url(shared).database}_{name}".lower()
    url = create_postgres_database(shared, scratch, template=postgres_template)
    try:
        yield url
    finally:
        drop_postgres_database(shared, scratch)


def migrated_sqlite_file(template: Path, path: Path) -> str:
    """The URL of a SQLite database at ``path``, at the migrations' head: a copy of the
    session's ``sqlite_template``, as ``oms db upgrade`` would leave an empty file (the
    command itself runs where it is the subject: test_user_cli.py, test_rate_card_docs.py)."""
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def migrated_template(url: str) -> None:
    """Migrate the empty database at ``url`` to head, to be copied; no connection stays."""
    engine = build_engine(Settings(database_url=url, environment=Environment.TEST))
    upgrade(engine)
    engine.dispose()


def own_database(request: pytest.FixtureRequest, name: str) -> Iterator[Engine]:
    """A migrated database called ``name`` on ``request.param`` ("sqlite" or "postgres"),
    for a module whose settings are deployment-wide (rate cards); dropped afterwards."""
    settings = {"db_pool_size": 10, "db_max_overflow": 40, "api_key_cache_seconds": 3_600}
    for url in migrated_database_url(request, request.param, name):
        engine = build_engine(Settings(database_url=url, **settings))
        yield engine
        engine.dispose()
