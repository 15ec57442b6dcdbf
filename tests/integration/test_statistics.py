"""Planner statistics kept by oms when the PostgreSQL server does not (autovacuum off)."""

from __future__ import annotations

import io
import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Engine, create_engine, insert, text

from oms.adapters.db.engine import build_engine
from oms.adapters.db.statistics import (
    GROWTH,
    SMALL_PAGES,
    StatisticsKeeper,
    analyze_due,
    analyze_grown,
    autovacuum_is_on,
    naptime_seconds,
)
from oms.adapters.db.tables import products
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.config import Environment, Settings
from oms.services.csv_source import CsvSource
from oms.services.import_rows import ImportKind
from oms.services.imports import ImportRequest, import_rows
from oms.services.tenants import create_tenant
from tests.builders import TESTER, add_location, add_product, set_stock
from tests.databases import migrated_database_url


def _add_products(engine: Engine, tenant_id: UUID, count: int) -> None:
    """``count`` new products, their changes counted by the server's statistics at once."""
    rows = [
        {
            "tenant_id": tenant_id,
            "id": uuid4(),
            "sku": f"STAT-{uuid4().hex[:12]}",
            "name": f"Statistics {n}",
            "price": Decimal("1.00"),
            "currency": "EUR",
            "weight_grams": 100,
            "kind": "physical",
            "components": {},
            "created_at": datetime(2026, 1, 5, 12, 0, tzinfo=UTC),  # any moment: only counted
        }
        for n in range(count)
    ]
    with engine.begin() as conn:
        conn.execute(insert(products), rows)
        # Counted changes reach pg_stat_user_tables when the transaction ends (not up to
        # a second later, as they otherwise may).
        conn.execute(text("SELECT pg_stat_force_next_flush()"))


def _analyzed_count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = :t"),
                {"t": table},
            )
            or 0
        )


def _threshold(engine: Engine, table: str) -> int:
    """Changed rows past which autovacuum's rule has ``table`` analyzed, as it now is."""
    with engine.connect() as conn:
        found = conn.scalar(
            text(
                "SELECT current_setting('autovacuum_analyze_threshold')::float8"
                " + current_setting('autovacuum_analyze_scale_factor')::float8"
                " * greatest(reltuples, 0) FROM pg_class WHERE relname = :t"
            ),
            {"t": table},
        )
    return math.ceil(float(found or 0))


def _skip_where_autovacuum_is_on(engine: Engine) -> None:
    with engine.connect() as conn:
        if autovacuum_is_on(conn):
            pytest.skip("this server's autovacuum keeps its statistics itself")


def _new_tenant(engine: Engine) -> UUID:
    tenant, _ = create_tenant(uow_factory=SqlUnitOfWorkFactory(engine), name="statistics")
    return tenant.id


@pytest.mark.postgres
def test_a_table_is_analyzed_once_it_changed_past_autovacuums_threshold(
    postgres_engine: Engine,
) -> None:
    with postgres_engine.begin() as conn:
        analyze_due(conn, min_age=0)  # what other tests changed
    threshold = _threshold(postgres_engine, "products")
    tenant_id = _new_tenant(postgres_engine)
    _add_products(postgres_engine, tenant_id, 5)

    with postgres_engine.begin() as conn:
        early = analyze_due(conn, min_age=0)
    _add_products(postgres_engine, tenant_id, threshold + 10)
    with postgres_engine.begin() as conn:
        due = analyze_due(conn, min_age=0)
    with postgres_engine.begin() as conn:
        again = analyze_due(conn, min_age=0)

    assert early is not None
    assert "products" not in early  # 5 rows changed: below the threshold
    assert due is not None
    assert "products" in due
    assert again is not None
    assert "products" not in again  # analyzed: nothing changed since


@pytest.mark.postgres
def test_a_table_analyzed_lately_waits_for_min_age_but_one_never_analyzed_does_not(
    postgres_engine: Engine,
) -> None:
    _skip_where_autovacuum_is_on(postgres_engine)
    with postgres_engine.begin() as conn:
        analyze_due(conn, min_age=0)  # products analyzed now
    tenant_id = _new_tenant(postgres_engine)
    _add_products(postgres_engine, tenant_id, _threshold(postgres_engine, "products") + 10)
    with postgres_engine.begin() as conn:
        conn.execute(text("CREATE TABLE never_analyzed (n integer)"))
        conn.execute(text("INSERT INTO never_analyzed SELECT generate_series(1, 100)"))
        conn.execute(text("SELECT pg_stat_force_next_flush()"))
    try:
        with postgres_engine.begin() as conn:
            lately = analyze_due(conn, min_age=3600)
        with postgres_engine.begin() as conn:
            later = analyze_due(conn, min_age=0)
    finally:
        with postgres_engine.begin() as conn:
            conn.execute(text("DROP TABLE never_analyzed"))

    assert lately is not None
    assert "never_analyzed" in lately  # no statistics at all: analyzed at once
    assert "products" not in lately  # analyzed less than min_age ago: not yet
    assert later is not None
    assert "products" in later


@pytest.mark.postgres
def test_one_process_analyzes_at_a_time(postgres_engine: Engine) -> None:
    with postgres_engine.begin() as holder:
        first = analyze_due(holder, min_age=0)  # holds the round's lock until it commits
        with postgres_engine.begin() as other:
            second = analyze_due(other, min_age=0)

    assert first is not None
    assert second is None


@pytest.mark.postgres
def test_the_keeper_analyzes_changed_tables_while_autovacuum_is_off(
    postgres_engine: Engine,
) -> None:
    _skip_where_autovacuum_is_on(postgres_engine)
    tenant_id = _new_tenant(postgres_engine)
    before = _analyzed_count(postgres_engine, "products")
    keeper = StatisticsKeeper(postgres_engine, interval=0.05, min_age=0)
    keeper.start()
    assert keeper.running
    try:
        _add_products(postgres_engine, tenant_id, _threshold(postgres_engine, "products") + 10)
        deadline = time.monotonic() + 10
        while _analyzed_count(postgres_engine, "products") == before:
            assert time.monotonic() < deadline, "the keeper never analyzed products"
            time.sleep(0.05)
    finally:
        keeper.stop()

    assert _analyzed_count(postgres_engine, "products") > before


def test_the_keeper_leaves_sqlite_alone(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'keeper.db'}")
    keeper = StatisticsKeeper(engine, interval=0.05)
    keeper.start()
    running = keeper.running
    keeper.stop()

    assert running is False


@pytest.mark.postgres
def test_the_naptime_is_the_servers_own(postgres_engine: Engine) -> None:
    with postgres_engine.connect() as conn:
        server = conn.scalar(
            text("SELECT setting::float8 FROM pg_settings WHERE name = 'autovacuum_naptime'")
        )
        found = naptime_seconds(conn)

    assert found == server


def _rows_seen(engine: Engine, table: str) -> float:
    """The rows ``table``'s statistics saw (-1: never analyzed)."""
    with engine.connect() as conn:
        found = conn.scalar(text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table})
    return float(found if found is not None else -1)


@pytest.mark.postgres
def test_tables_with_rows_and_no_statistics_or_grown_from_small_ones_are_analyzed(
    postgres_engine: Engine,
) -> None:
    with postgres_engine.begin() as conn:
        conn.execute(text("CREATE TABLE growing (n integer, filler text)"))
    rows = text("INSERT INTO growing SELECT n, repeat('x', 200) FROM generate_series(1, :n) n")
    try:
        with postgres_engine.begin() as conn:
            empty = analyze_grown(conn)
            conn.execute(rows, {"n": 100})
            filled = analyze_grown(conn)
            again = analyze_grown(conn)
            conn.execute(rows, {"n": 200})
            tripled = analyze_grown(conn)
            conn.execute(rows, {"n": 100 * GROWTH})
            grown = analyze_grown(conn)
            # Past SMALL_PAGES its statistics stay the keeper's business.
            conn.execute(rows, {"n": 100 * GROWTH**2 * SMALL_PAGES})
            large = analyze_grown(conn)
    finally:
        with postgres_engine.begin() as conn:
            conn.execute(text("DROP TABLE growing"))

    assert "growing" not in empty  # no rows: nothing to plan from
    assert "growing" in filled  # rows and no statistics
    assert "growing" not in again
    assert "growing" not in tripled  # three times what the statistics saw: not yet
    assert "growing" in grown  # past GROWTH times
    assert "growing" not in large  # analyzed when no longer small, then grown: left alone


@pytest.fixture
def new_postgres(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A new PostgreSQL database at the migrations' head: none of its tables analyzed."""
    for url in migrated_database_url(request, "postgres", "import_statistics"):
        engine = build_engine(Settings(database_url=url, environment=Environment.TEST))
        yield engine
        engine.dispose()


@pytest.mark.postgres
def test_an_import_into_new_tables_has_them_analyzed_after_its_first_batch(
    new_postgres: Engine,
) -> None:
    uow_factory = SqlUnitOfWorkFactory(new_postgres)
    tenant_id = _new_tenant(new_postgres)
    add_location(uow_factory, tenant_id, "WH-1")
    add_product(uow_factory, tenant_id, "A")
    set_stock(uow_factory, tenant_id, "A", "WH-1", 100)
    data = "order_id,currency,sku,quantity,email\n" + "".join(
        f"{n},EUR,A,1,ada@example.com\n" for n in range(3)
    )
    source = CsvSource(io.BytesIO(data.encode()))
    seen: list[float] = []
    never = _rows_seen(new_postgres, "orders")

    summary = import_rows(
        uow_factory=uow_factory,
        gateways=gateway_named,
        tenant_id=tenant_id,
        request=ImportRequest(
            kind=ImportKind.ORDERS,
            header=source.header,
            rows=source.rows(),
            batch_size=5,  # an order a batch
        ),
        actor=TESTER,
        on_progress=lambda _: seen.append(_rows_seen(new_postgres, "orders")),
    )

    assert summary.created == 3
    assert never == -1
    assert seen == [1, 1, 1]  # analyzed after the first batch; not grown GROWTH times since
