"""Shared fixtures: migrated SQLite and PostgreSQL databases, a fresh tenant per test.

Tests share one database per engine and isolate themselves by tenant: every table is
tenant-scoped, so a new tenant per test is a clean slate without truncating anything.

PostgreSQL: ``OMS_TEST_POSTGRES_URL`` names the database to use (``.ci/run`` creates a
fresh one). Without it, a scratch database is created on 127.0.0.1:5432 as ``postgres``
and dropped afterwards; when no server answers the PostgreSQL tests are skipped, and the
run says so at the end. ``OMS_REQUIRE_POSTGRES=1`` makes a missing server an error
instead. Either way its commits stop waiting for the disk (``tests.databases``).

Under pytest-xdist (``scripts/test`` runs two workers) each worker has databases of its
own: the named database gets a sibling per worker (``<name>_gw0``, created and dropped
here), so migrations and module databases (``tests.databases.own_database``) never race.
Whether PostgreSQL answers is asked once in the process that reports the run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, make_url

from oms.adapters.db.engine import build_engine
from oms.adapters.db.migrate import upgrade
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.config import Environment, Settings
from oms.services.tenants import create_tenant
from tests.databases import (
    create_postgres_database,
    drop_postgres_database,
    migrated_template,
    tune_postgres_database,
)

# Properties are about correctness, not speed: a loaded CI machine must not fail them on
# hypothesis' per-example deadline (benchmarks in bench/ measure speed).
hypothesis_settings.register_profile("oms", deadline=None)
hypothesis_settings.load_profile("oms")

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
_pg_skip_reason: list[str] = []


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        environment=Environment.TEST,
        db_pool_size=10,
        db_max_overflow=70,
        api_key_cache_seconds=0,
    )


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("db") / "oms-test.db"
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the migrations' head, copied for each database that needs one."""
    path: Path = tmp_path_factory.mktemp("template") / "migrated.db"
    migrated_template(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def sqlite_engine(sqlite_url: str, sqlite_template: Path) -> Iterator[Engine]:
    shutil.copyfile(sqlite_template, make_url(sqlite_url).database or "")
    engine = build_engine(_settings(sqlite_url))
    yield engine
    engine.dispose()


def _unreachable(server: str) -> str | None:
    """Why the PostgreSQL server of ``server`` (a database URL there) does not answer."""
    try:
        psycopg.connect(server, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        where = make_url(server)
        return f"PostgreSQL not reachable at {where.host}:{where.port} ({str(error).strip()[:80]})"
    return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    given = os.environ.get("OMS_TEST_POSTGRES_URL")
    required = os.environ.get("OMS_REQUIRE_POSTGRES") == "1"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if given and worker is None:
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
            tune_postgres_database(given)
        yield given
        return
    server = given or DEFAULT_SERVER
    base = make_url(given).database if given else "oms_test"
    if given:  # a worker of a run given its database: that name is the run's own
        name = f"{base}_{worker}"
    else:  # the run's process id tells concurrent runs apart
        name = f"{base}_{os.getppid()}_{worker}" if worker else f"{base}_{os.getpid()}"
    if (reason := _unreachable(server)) is not None:
        if required:
            pytest.fail(reason)
        pytest.skip(reason)
    url = create_postgres_database(server, name)
    yield url
    drop_postgres_database(server, name)


@pytest.fixture(scope="session")
def postgres_template(postgres_url: str) -> Iterator[str]:
    """The name of a PostgreSQL database at the migrations' head, beside the session's
    database, that module databases are created from (``CREATE DATABASE ... TEMPLATE``)."""
    name = f"{make_url(postgres_url).database}_template"
    migrated_template(create_postgres_database(postgres_url, name))
    yield name
    drop_postgres_database(postgres_url, name)


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = build_engine(_settings(postgres_url))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    fixture = "sqlite_engine" if request.param == "sqlite" else "postgres_engine"
    found: Engine = request.getfixturevalue(fixture)
    return found


@pytest.fixture
def uow_factory(engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(engine)


@pytest.fixture
def tenant_id(uow_factory: SqlUnitOfWorkFactory) -> UUID:
    tenant, _ = create_tenant(uow_factory=uow_factory, name="test tenant")
    return tenant.id


def pytest_sessionstart(session: pytest.Session) -> None:
    """Ask once, in the process that reports the run, whether PostgreSQL answers."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        reason = _unreachable(os.environ.get("OMS_TEST_POSTGRES_URL") or DEFAULT_SERVER)
        if reason is not None:
            _pg_skip_reason.append(reason)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _pg_skip_reason:
        terminalreporter.write_sep(
            "!", "PostgreSQL tests were SKIPPED: " + _pg_skip_reason[0], yellow=True, bold=True
        )
