"""The operator's dashboard of every tenant gives the same figures through the rollups as
from the raw rows, on SQLite and PostgreSQL: two shops' random activity, part before a
rebuild of every tenant and part after, read for every tenant through the rollups (each
tenant's raw orders bounded by the earliest placed of its changed orders) and raw; and an
order changed since the rebuild is read raw alone, not with its placed day's other orders.

A database of its own: the bounded reading needs every tenant with orders covered by
rollups, which the shared test databases (other modules' tenants) never are.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, insert, select

from oms.adapters.db.engine import build_engine
from oms.adapters.db.tables import analytics_state, orders
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.config import Environment, Settings
from oms.services.dashboard import Window, dashboard, day_range
from oms.services.rollups import rebuild
from tests.databases import ENGINES, migrated_database_url, own_database
from tests.integration.test_analytics_rollups import (
    DAY0,
    NOW,
    REBUILT,
    Drawn,
    _figures,
    _order,
    _range,
    _read,
    _shop,
    _Writer,
)


@pytest.fixture(scope="module", params=ENGINES)
def every_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from own_database(request, "analytics_every_tenant")


@pytest.fixture
def fresh_engines(
    request: pytest.FixtureRequest, every_engine: Engine
) -> Callable[[], AbstractContextManager[Engine]]:
    """A new migrated database per call on ``every_engine``'s engine (a template copy):
    a hypothesis example then reads and rebuilds its own two tenants only, not every
    tenant the examples before it left, so each costs what the first does."""
    kind = "postgres" if every_engine.dialect.name == "postgresql" else "sqlite"
    numbers = itertools.count()

    @contextmanager
    def fresh() -> Iterator[Engine]:
        name = f"analytics_every_tenant_{next(numbers)}"
        for url in migrated_database_url(request, kind, name):
            engine = build_engine(Settings(database_url=url, environment=Environment.TEST))
            try:
                yield engine
            finally:
                engine.dispose()

    return fresh


def _read_every_tenant(uow_factory: SqlUnitOfWorkFactory, ranges: list[list[int]]) -> list[Any]:
    return [
        _figures(
            dashboard(
                uow_factory=uow_factory,
                tenant_id=None,
                first=DAY0 + timedelta(days=a),
                last=DAY0 + timedelta(days=b),
                now=NOW,
            )
        )
        for a, b in ranges
    ]


def _bounded(uow_factory: SqlUnitOfWorkFactory, ranges: list[list[int]]) -> bool:
    """Whether the every-tenant reading of the first range bounds its raw orders by day."""
    a, b = ranges[0]
    days = day_range(
        first=DAY0 + timedelta(days=a), last=DAY0 + timedelta(days=b), today=NOW.date()
    )
    with uow_factory(readonly=True) as uow:
        return uow.dashboard._plan(Window(None, days, NOW)).raw_since is not None  # type: ignore[attr-defined]


def test_a_fresh_past_and_a_changed_today_take_the_bounded_way_with_the_same_figures(
    every_engine: Engine,
) -> None:
    """Each shop: an order placed and shipped before the rebuild, one placed after it
    (today's days raw). Every tenant is covered, so the raw orders are bounded by day. It
    runs first: a drawn shop below may have no order before its rebuild, and a tenant
    without rollups but with orders makes the reading unbounded again (as it must)."""
    uow_factory = SqlUnitOfWorkFactory(every_engine)
    before = Drawn(
        2,
        10,
        "api",
        1,
        False,
        [(0, "ship", False), (1, "ship", False)],
        [(1, 9, "EUR", 500)],
        [],
        1,
    )
    after = Drawn(
        9,
        11,
        "shopify",
        0,
        False,
        [(0, "ship", False)],
        [(0, 14, "USD", 700)],
        [(0, 15, "fulfillment_order.short_picked")],
        2,
    )
    writers = []
    for _ in range(2):
        tenant_id, locations = _shop(uow_factory)
        writer = _Writer(every_engine, tenant_id, locations)
        writer._ids, writer._fos = {}, {}
        writers.append(writer)
    for writer in writers:
        writer.write(before, after=False)
        writer.write(after, after=False)
    rebuild(uow_factory=uow_factory, now=REBUILT)
    for writer in writers:
        writer.write(before, after=True)
        writer.write(after, after=True)
    ranges = [[0, 10], [5, 10]]

    assert _bounded(uow_factory, ranges)
    through_rollups = _read_every_tenant(uow_factory, ranges)
    with every_engine.begin() as conn:
        kept = [dict(row._mapping) for row in conn.execute(select(analytics_state))]
        conn.execute(delete(analytics_state))
    try:
        raw = _read_every_tenant(uow_factory, ranges)
    finally:
        with every_engine.begin() as conn:
            conn.execute(insert(analytics_state), kept)
    assert through_rollups == raw


def _read_raw(engine: Engine, read: Any) -> Any:
    """``read()`` with every tenant's rollups turned off (state kept and put back)."""
    with engine.begin() as conn:
        kept = [dict(row._mapping) for row in conn.execute(select(analytics_state))]
        conn.execute(delete(analytics_state))
    try:
        return read()
    finally:
        with engine.begin() as conn:
            conn.execute(insert(analytics_state), kept)


def test_an_order_changed_since_the_rebuild_is_read_raw_without_its_days_other_orders(
    every_engine: Engine,
) -> None:
    """Three orders placed and shipped on the same days before the rebuild; one ships
    again after it. The rollups keep the day; the dashboard subtracts that order's share,
    reads it raw, and reads none of the other two raw."""
    uow_factory = SqlUnitOfWorkFactory(every_engine)
    tenant_id, locations = _shop(uow_factory)
    writer = _Writer(every_engine, tenant_id, locations)
    writer._ids, writer._fos = {}, {}
    unchanged = [
        Drawn(3, 10, "api", 1, False, [(0, "ship", False)], [(1, 9, "EUR", 500)], [], 1)
        for _ in range(2)
    ]
    changed = Drawn(
        3,
        11,
        "shopify",
        1,
        False,
        [(0, "ship", False), (1, "ship", False)],
        [(1, 9, "EUR", 500), (6, 10, "USD", 300)],
        [(6, 8, "shipment.exception")],
        2,
    )
    activity = [*unchanged, changed]
    for drawn in activity:
        writer.write(drawn, after=False)
    rebuild(uow_factory=uow_factory, now=REBUILT)  # every tenant
    for drawn in activity:
        writer.write(drawn, after=True)
    ranges = [[0, 12], [3, 4], [9, 10]]

    days = day_range(first=DAY0, last=DAY0 + timedelta(days=12), today=NOW.date())
    for window in (Window(tenant_id, days, NOW), Window(None, days, NOW)):
        with uow_factory(readonly=True) as uow:
            repo: Any = uow.dashboard
            raw = repo._plan(window).raw
            read_raw = repo._conn.execute(
                select(orders.c.id).where(raw, orders.c.tenant_id == tenant_id)
            ).all()
        assert [row.id for row in read_raw] == [writer._ids[id(changed)]]

    through_rollups = _read(uow_factory, tenant_id, ranges), _read_every_tenant(uow_factory, ranges)
    raw_figures = _read_raw(
        every_engine,
        lambda: (_read(uow_factory, tenant_id, ranges), _read_every_tenant(uow_factory, ranges)),
    )
    assert through_rollups == raw_figures
    assert through_rollups[0][0]["shipping"]  # the changed order's shipments count


@settings(
    max_examples=8,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=st.lists(_order, min_size=1, max_size=10),
    second=st.lists(_order, min_size=1, max_size=10),
    ranges=st.lists(_range, min_size=1, max_size=3),
)
def test_every_tenants_dashboard_reads_the_same_figures_from_the_rollups_as_from_the_rows(
    fresh_engines: Callable[[], AbstractContextManager[Engine]],
    first: list[Drawn],
    second: list[Drawn],
    ranges: list[list[int]],
) -> None:
    with fresh_engines() as every_engine:
        _every_tenant_example(every_engine, first, second, ranges)


def _every_tenant_example(
    every_engine: Engine, first: list[Drawn], second: list[Drawn], ranges: list[list[int]]
) -> None:
    uow_factory = SqlUnitOfWorkFactory(every_engine)
    writers = []
    for activity in (first, second):
        tenant_id, locations = _shop(uow_factory)
        writer = _Writer(every_engine, tenant_id, locations)
        writer._ids, writer._fos = {}, {}
        for drawn in activity:
            writer.write(drawn, after=False)
        writers.append((writer, activity))
    rebuild(uow_factory=uow_factory, now=REBUILT)  # every tenant
    for writer, activity in writers:
        for drawn in activity:
            writer.write(drawn, after=True)

    through_rollups = _read_every_tenant(uow_factory, ranges)
    bounded = _bounded(uow_factory, ranges)
    with every_engine.begin() as conn:
        kept = [dict(row._mapping) for row in conn.execute(select(analytics_state))]
        conn.execute(delete(analytics_state))
    try:
        raw = _read_every_tenant(uow_factory, ranges)
    finally:
        with every_engine.begin() as conn:
            conn.execute(insert(analytics_state), kept)

    assert through_rollups == raw
    del bounded  # which way the reading went depends on the draw; see the test below
