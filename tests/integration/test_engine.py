"""How the engine sets up its PostgreSQL connections, and statements run through psycopg."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import psycopg
import pytest
from sqlalchemy import Connection, Engine, bindparam, literal, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.engine import build_engine
from oms.adapters.db.tables import tenants
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.config import Settings
from oms.domain.policies import TenantPolicies
from oms.services.orders import get_order
from oms.services.ports import TransientStorageError
from oms.services.tenants import create_tenant
from tests.builders import add_location, add_product, order_of, place, set_stock


@pytest.mark.postgres
def test_postgres_connections_read_utc_and_leave_plan_choice_to_the_server(
    postgres_engine: Engine,
) -> None:
    # Generic plans are safe once statistics are kept (oms.adapters.db.statistics), and
    # planning every statement for its values cost more than any other setting here.
    with postgres_engine.connect() as conn:
        plan_source = conn.scalar(
            text("SELECT source FROM pg_settings WHERE name = 'plan_cache_mode'")
        )
        zone = conn.scalar(text("SHOW TimeZone"))

    assert plan_source != "client"
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


@pytest.mark.postgres
def test_statements_of_different_columns_on_one_connection_each_give_their_own_rows(
    postgres_engine: Engine,
) -> None:
    # One cursor serves a connection's statements, each making its rows its own way.
    pair = DriverStatement("SELECT %(n)s::int AS n, 'pair' AS kind")
    single = DriverStatement("SELECT %(n)s::int * 10 AS tens")
    broken = DriverStatement("SELECT 1 / %(n)s::int AS never")

    with postgres_engine.connect() as conn:
        with conn.begin():
            first = pair.one(conn, {"n": 1})
            tens = single.one(conn, {"n": 2})
            as_tuples = pair.tuples(conn, {"n": 3})
        with pytest.raises(DBAPIError), conn.begin():
            broken.rows(conn, {"n": 0})
        with conn.begin():  # the same connection, after the failed transaction
            again = pair.one(conn, {"n": 4})

    assert (first.n, first.kind) == (1, "pair")
    assert tens.tens == 20
    assert tens._fields == ("tens",)
    assert as_tuples == [(3, "pair")]
    assert type(as_tuples[0]) is tuple
    assert (again.n, again.kind) == (4, "pair")


@pytest.mark.postgres
def test_a_command_and_a_query_that_matched_nothing_both_give_no_rows(
    postgres_engine: Engine,
) -> None:
    command = DriverStatement("SET LOCAL statement_timeout = 0")
    empty = DriverStatement("SELECT 1 AS one WHERE false")

    with postgres_engine.begin() as conn:
        from_command = command.rows(conn, {})
        from_empty = empty.rows(conn, {})
        first = empty.first(conn, {})

    assert from_command == []
    assert from_empty == []
    assert first is None


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


@pytest.mark.postgres
def test_an_order_placed_after_the_servers_connections_were_cut_goes_through_on_new_ones(
    postgres_engine: Engine, postgres_url: str
) -> None:  # postgres_engine: the database is migrated
    # Its own engine: cutting the shared one's connections would fail other tests' first call.
    engine = build_engine(Settings(database_url=postgres_url, db_pool_size=2, db_max_overflow=0))
    uow_factory = SqlUnitOfWorkFactory(engine)
    try:
        tenant, _ = create_tenant(uow_factory=uow_factory, name="cut connections")
        add_location(uow_factory, tenant.id, "A")
        add_product(uow_factory, tenant.id, "X")
        set_stock(uow_factory, tenant.id, "X", "A", 5)
        first = place(uow_factory, tenant.id, order_of(("X", 1))).order
        with engine.connect() as conn:  # the pooled connection the intake used
            pid = conn.scalar(text("SELECT pg_backend_pid()"))
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

        # A server restart or failover between two orders: the next one is not lost.
        second = place(uow_factory, tenant.id, order_of(("X", 1))).order

        assert second.number == first.number + 1
        assert get_order(uow_factory=uow_factory, tenant_id=tenant.id, order_id=second.id)
    finally:
        engine.dispose()


def test_a_unit_of_work_entered_again_makes_its_repositories_on_the_new_connection(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    uow = uow_factory()
    with uow:
        before = uow.tenants
        made_again = uow.tenants
    with uow:
        after = uow.tenants
        policies = after.policies(tenant_id)

    assert made_again is before  # one repository per transaction
    assert after is not before
    assert after._conn is not before._conn
    assert policies == TenantPolicies()


@pytest.mark.parametrize("price", ["12.5", "12.50", "12", "0.0001"])
def test_an_amount_reads_back_alike_on_both_engines(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, price: str
) -> None:
    # PostgreSQL keeps NUMERIC(18, 4): SQLite's text must not read back looking otherwise,
    # or whatever shows an amount shows it differently per engine.
    add_product(uow_factory, tenant_id, "X", price=price)

    with uow_factory(readonly=True) as uow:
        stored = uow.products.by_skus(tenant_id, ["X"])["X"].price

    assert stored == Decimal(price)
    assert str(stored) == str(Decimal(price).quantize(Decimal("0.0001")))


def _prepared_runs(conn: Connection, marker: str) -> list[int]:
    """How often each statement prepared on this connection whose text has ``marker`` ran."""
    return list(
        conn.scalars(
            text(
                "SELECT generic_plans + custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE :marker"
            ),
            {"marker": f"%{marker}%"},
        )
    )


@pytest.mark.postgres
def test_a_rolled_back_unit_of_work_keeps_its_connections_prepared_statements(
    postgres_engine: Engine, postgres_url: str
) -> None:  # postgres_engine: the database is migrated
    # One pooled connection, so every unit of work below runs on the same one.
    engine = build_engine(Settings(database_url=postgres_url, db_pool_size=1, db_max_overflow=0))
    uow_factory = SqlUnitOfWorkFactory(engine)
    marker = "kept across rollbacks"
    read = DriverStatement("SELECT count(*) FROM tenants WHERE name <> 'kept across rollbacks'")
    try:
        tenant, _ = create_tenant(uow_factory=uow_factory, name="rollbacks")
        with uow_factory(readonly=True) as uow:  # psycopg prepares it at its sixth run
            for _ in range(6):
                read.rows(uow.tenants._conn, {})
        with uow_factory() as uow:  # a request refused after a write: never committed
            read.rows(uow.tenants._conn, {})
            uow.tenants.set_policies(tenant.id, replace(TenantPolicies(), pickup_expiry_days=2))
        with uow_factory(readonly=True) as uow:
            read.rows(uow.tenants._conn, {})
            kept = _prepared_runs(uow.tenants._conn, marker)
            policies = uow.tenants.policies(tenant.id)
        # A statement failed: the transaction is aborted.
        with uow_factory() as uow, pytest.raises(DBAPIError):
            DriverStatement("SELECT 1 / 0").rows(uow.tenants._conn, {})
        with uow_factory(readonly=True) as uow:
            after_failure = _prepared_runs(uow.tenants._conn, marker)
    finally:
        engine.dispose()

    # Prepared once, then run by its name after each rollback (psycopg forgot it at each).
    assert kept == [3]
    assert policies.pickup_expiry_days == 7  # the refused request's write was rolled back
    # After a failed statement psycopg rolls back as ever: everything prepared is freed.
    assert after_failure == []
