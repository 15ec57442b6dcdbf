"""The stock-out report read from the flags the rollup refresh keeps equals the rule applied
to the raw samples, on SQLite and PostgreSQL: random daily samples (out or not) and units
routed, for two SKUs at two locations over 70 days, flagged in two steps (a rebuild, then a
refresh from a later day after more samples and orders came), read over random ranges
through ``oms.services.stockouts`` and computed from the rows with
``oms.domain.stockouts`` (every day out judged whole).

The rows are written straight into ``stock_days`` and ``analytics_facts`` (the report
reads only these), so that hypothesis can draw many histories quickly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert

from oms.adapters.db.tables import analytics_facts, stock_days
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.ids import new_id
from oms.domain.stockouts import days_out_with_demand, spells
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.services import catalogue
from oms.services.stockouts import stockouts
from oms.services.tenants import create_tenant

DAY0 = date(2033, 1, 1)
NOW = datetime(2033, 3, 20, 12, 0, tzinfo=UTC)
SKUS = ("SR-A", "SR-B")

_cell = st.tuples(st.sampled_from(SKUS), st.integers(0, 1), st.integers(0, 69))
# Spells out, some longer than the demand window (a SKU, a location, first day, days).
_spells = st.lists(
    st.tuples(st.sampled_from(SKUS), st.integers(0, 1), st.integers(0, 69), st.integers(1, 45)),
    max_size=5,
)
_history = st.fixed_dictionaries(
    {
        "out": _spells.map(
            lambda runs: {
                (sku, site, n)
                for sku, site, start, days in runs
                for n in range(start, min(70, start + days))
            }
        ),
        "sold": st.dictionaries(_cell, st.integers(1, 5), max_size=12),
        "split": st.integers(1, 69),
        "ranges": st.lists(
            st.tuples(st.integers(0, 69), st.integers(0, 30)), min_size=1, max_size=3
        ),
    }
)


def _shop(uow_factory: SqlUnitOfWorkFactory) -> tuple[UUID, list[UUID]]:
    tenant, _ = create_tenant(uow_factory=uow_factory, name="stock-out shop")
    principal = Principal(key_id=new_id(), scope=ApiKeyScope.TENANT, tenant_id=tenant.id)
    sites = [
        catalogue.create_location(
            uow_factory=uow_factory,
            principal=principal,
            command=catalogue.NewLocation(code=f"SR-{k}", name=f"Store {k}"),
        ).id
        for k in (1, 2)
    ]
    return tenant.id, sites


def _write(
    engine: Engine,
    tenant_id: UUID,
    sites: list[UUID],
    out: set[tuple[str, int, int]],
    sold: dict[tuple[str, int, int], int],
) -> None:
    samples: list[dict[str, Any]] = [
        {
            "tenant_id": tenant_id,
            "sku": sku,
            "location_id": sites[site],
            "day": DAY0 + timedelta(days=n),
            "low": 0,
            "close": 0,
            "updated_at": NOW,
        }
        for sku, site, n in out
    ]
    routed: list[dict[str, Any]] = [
        {
            "tenant_id": tenant_id,
            "placed_day": DAY0 + timedelta(days=n),
            "kind": "routed",
            "day": DAY0 + timedelta(days=n),
            "dims": f"{sites[site]}|{sku}",
            "sku": sku,
            "location_id": sites[site],
            "n": units,
            "met": 0,
            "done": 0,
            "done_met": 0,
            "orders": 1,
            "amount_e4": 0,
        }
        for (sku, site, n), units in sold.items()
    ]
    with engine.begin() as conn:
        if samples:
            conn.execute(insert(stock_days), samples)
        if routed:
            conn.execute(insert(analytics_facts), routed)


def _flag(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, since: date) -> None:
    with uow_factory() as uow:
        uow.rollups.flag_stockouts(tenant_id, since)
        uow.commit()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=_history)
def test_the_report_from_the_flags_equals_the_rule_over_the_raw_samples(
    engine: Engine, history: dict[str, Any]
) -> None:
    uow_factory = SqlUnitOfWorkFactory(engine)
    tenant_id, sites = _shop(uow_factory)
    split = history["split"]
    before = {c for c in history["out"] if c[2] < split}
    sold_before = {c: q for c, q in history["sold"].items() if c[2] < split}
    _write(engine, tenant_id, sites, before, sold_before)
    _flag(uow_factory, tenant_id, DAY0)
    # Later samples and orders (some placed on days already flagged), then a refresh
    # judging again from the first day they touched.
    later = history["out"] - before
    sold_later = {c: q for c, q in history["sold"].items() if c not in sold_before}
    _write(engine, tenant_id, sites, later, sold_later)
    touched = [c[2] for c in [*later, *sold_later]] or [split]
    _flag(uow_factory, tenant_id, DAY0 + timedelta(days=min(touched)))

    out = [(sku, sites[site], DAY0 + timedelta(days=n)) for sku, site, n in history["out"]]
    demand = {
        (sku, sites[site], DAY0 + timedelta(days=n)): q
        for (sku, site, n), q in history["sold"].items()
    }
    for start, length in history["ranges"]:
        first = DAY0 + timedelta(days=start)
        last = first + timedelta(days=length)
        report = stockouts(
            uow_factory=uow_factory, tenant_id=tenant_id, first=first, last=last, now=NOW
        )
        expected = spells(days_out_with_demand(out, demand), demand, first=first, last=last)
        assert report.spells == expected
