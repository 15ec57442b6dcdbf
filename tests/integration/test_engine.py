"""How the engine sets up its PostgreSQL connections, and statements run through psycopg."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, bindparam, literal, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.tables import tenants
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.services.ports import TransientStorageError


@pytest.mark.postgres
def test_postgres_connections_plan_each_statement_for_its_values(postgres_engine: Engine) -> None:
    # A generic plan made while a tenant had few rows kept scanning the whole tenant later.
    with postgres_engine.connect() as conn:
        mode = conn.scalar(text("SHOW plan_cache_mode"))
        zone = conn.scalar(text("SHOW TimeZone"))

    assert mode == "force_custom_plan"
    assert zone == "UTC"


@pytest.mark.postgres
def test_a_driver_statement_binds_its_own_values_and_gives_rows_with_attributes(
    postgres_engine: Engine,
) -> None:
    statement = DriverStatement(
        select(
            literal("fixed").label("carried"),
            bindparam("given", type_=tenants.c.name.type).label("given"),
            text("now() AS at"),
        ).limit(1)
    )

    with postgres_engine.connect() as conn:
        rows = statement.rows(conn, {"given": "by the caller"})
        row = statement.one(conn, {"given": "again"})

    assert [(r.carried, r.given) for r in rows] == [("fixed", "by the caller")]
    assert (row.carried, row.given) == ("fixed", "again")
    assert isinstance(row.at, datetime)
    assert row.at.utcoffset() == UTC.utcoffset(None)


def test_expanding_parameters_are_refused_when_the_statement_is_built() -> None:
    with pytest.raises(ValueError, match="ANY"):
        DriverStatement(
            select(tenants.c.id).where(tenants.c.name.in_(bindparam("names", expanding=True)))
        )


@pytest.mark.postgres
def test_driver_errors_are_sqlalchemy_errors_and_a_deadlock_is_still_retried(
    postgres_engine: Engine,
) -> None:
    broken = DriverStatement("SELECT 1 FROM (VALUES (1)) v(x) WHERE 1/0 = 1")
    with postgres_engine.connect() as conn, pytest.raises(DBAPIError) as raised:
        broken.rows(conn, {})
    assert getattr(raised.value.orig, "sqlstate", None) == "22012"  # division_by_zero

    unique = DriverStatement("INSERT INTO seen (x) VALUES (%(x)s)")
    with postgres_engine.connect() as conn:
        conn.execute(text("CREATE TEMPORARY TABLE seen (x integer PRIMARY KEY)"))
        unique.rows(conn, {"x": 1})
        with pytest.raises(IntegrityError):
            unique.rows(conn, {"x": 1})

    deadlock = DriverStatement(
        "DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '40P01'; END $$"
    )
    with pytest.raises(TransientStorageError), SqlUnitOfWorkFactory(postgres_engine)() as uow:
        deadlock.rows(uow.tenants._conn, {})  # the unit of work's own connection


def test_on_sqlite_a_driver_statement_runs_its_portable_form_through_sqlalchemy(
    sqlite_engine: Engine,
) -> None:
    names = ["b", "a"]
    statement = DriverStatement(
        select(literal("on postgresql").label("via")),
        portable=select(literal("portable").label("via"), bindparam("names").label("names")),
    )
    postgres_only = DriverStatement("SELECT 1 WHERE 1 = ANY(%(ones)s)")

    with sqlite_engine.connect() as conn:
        row = statement.one(conn, {"names": ",".join(names)})
        with pytest.raises(RuntimeError, match="PostgreSQL statement on sqlite"):
            postgres_only.rows(conn, {"ones": [1]})

    assert (row.via, row.names) == ("portable", "b,a")
