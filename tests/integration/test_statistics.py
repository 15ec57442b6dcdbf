"""Planner statistics kept by oms when the PostgreSQL server does not (autovacuum off)."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Engine, create_engine, insert, text

from oms.adapters.db.statistics import (
    StatisticsKeeper,
    analyze_due,
    autovacuum_is_on,
    naptime_seconds,
)
from oms.adapters.db.tables import products
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.services.tenants import create_tenant


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
