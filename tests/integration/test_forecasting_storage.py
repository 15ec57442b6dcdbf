"""Demand history and forecasts in SQL on SQLite and PostgreSQL: an imported history is
stored and re-imported in place, the system's orders become daily demand per location
(backorders as stock-out days), and forecasts round-trip with their points and backtest."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.memory.forecasting import WeekdayMeanEngine
from oms.adapters.payments.registry import gateway_named
from oms.domain.errors import InvalidRequest
from oms.services import intake
from oms.services.demand import import_sales_history, refresh_order_demand
from oms.services.forecasting import get_forecast, run_forecasts
from tests.builders import TESTER, add_location, add_product, order_of, set_stock

NOW = datetime(2036, 3, 1, 2, 0, tzinfo=UTC)


def _csv(rows: list[tuple[date, str, str, int]], promo_on: date | None = None) -> str:
    lines = ["date,sku,location,quantity,price,promo"]
    lines += [
        f"{d.isoformat()},{sku},{loc},{q},2.50,{'yes' if d == promo_on else 'no'}"
        for d, sku, loc, q in rows
    ]
    return "\n".join(lines) + "\n"


def test_an_imported_history_is_stored_and_a_second_import_replaces_its_days(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "HIST-A")
    add_location(uow_factory, tenant_id, "HIST-B")
    first = date(2036, 1, 1)
    rows = [(first + timedelta(days=i), "MUG", "HIST-A", i % 5) for i in range(10)]
    rows.append((first, "MUG", "HIST-B", 7))
    found = import_sales_history(
        uow_factory=uow_factory, tenant_id=tenant_id, text=_csv(rows, promo_on=first)
    )
    assert (found.rows, found.skus, found.first, found.last) == (11, 1, first, first + timedelta(9))
    again = [(first, "MUG", "HIST-A", 40)]
    import_sales_history(uow_factory=uow_factory, tenant_id=tenant_id, text=_csv(again))
    with uow_factory() as uow:
        days = uow.demand.days(tenant_id, ["MUG"])
        assert uow.demand.skus(tenant_id) == ["MUG"]
    by_key = {(d.day, d.location): d for d in days}
    assert len(days) == 11
    assert by_key[(first, "HIST-A")].quantity == 40
    assert not by_key[(first, "HIST-A")].promo  # replaced by the second file's row
    assert by_key[(first, "HIST-B")].quantity == 7
    assert by_key[(first, "HIST-B")].promo


def test_a_history_naming_another_tenants_location_is_refused(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    with pytest.raises(InvalidRequest):
        import_sales_history(
            uow_factory=uow_factory,
            tenant_id=tenant_id,
            text=_csv([(date(2036, 1, 1), "MUG", "NOT-MINE", 1)]),
        )
    with uow_factory() as uow:
        assert uow.demand.skus(tenant_id) == []


def test_orders_become_daily_demand_per_location_and_backorders_stock_out_days(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "DEM-1")
    add_product(uow_factory, tenant_id, "CAP")
    set_stock(uow_factory, tenant_id, "CAP", "DEM-1", 3)
    for external_id, units in (("dem-1", 2), ("dem-2", 4)):  # the second is 1 short
        intake.place_order(
            uow_factory=uow_factory,
            gateways=gateway_named,
            tenant_id=tenant_id,
            command=order_of(("CAP", units), external_id=external_id),
            actor=TESTER,
            at=NOW - timedelta(days=1),
        )
    stored = refresh_order_demand(uow_factory=uow_factory, tenant_id=tenant_id, now=NOW)
    with uow_factory() as uow:
        days = uow.demand.days(tenant_id, ["CAP"])
    assert stored == len(days) == 2
    by_location = {d.location: d for d in days}
    assert by_location["DEM-1"].quantity == 3
    assert not by_location["DEM-1"].stockout
    assert by_location[""].quantity == 3
    assert by_location[""].stockout


def test_forecasts_round_trip_with_points_intervals_and_backtest(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "FC-1")
    start = NOW.date() - timedelta(days=42)
    # a weekly pattern that grows by one unit a week: the fake's four-week means lag 2.5
    # units behind, seasonal-naive one
    rows = [(start + timedelta(days=i), "PEN", "FC-1", 3 + i % 7 + i // 7) for i in range(42)]
    import_sales_history(uow_factory=uow_factory, tenant_id=tenant_id, text=_csv(rows))
    run = run_forecasts(
        uow_factory=uow_factory,
        engine=WeekdayMeanEngine(),
        tenant_id=tenant_id,
        now=NOW,
        horizon=7,
    )
    assert run.series == 2
    found = get_forecast(uow_factory=uow_factory, tenant_id=tenant_id, sku="PEN", location="FC-1")
    assert found.model == "weekday_mean"
    assert found.made_at == NOW
    assert [p.day for p in found.points] == [NOW.date() + timedelta(days=i) for i in range(7)]
    assert [p.mean for p in found.points] == [6.5 + i for i in range(7)]
    assert found.backtest.origins == 2
    assert found.backtest.mase == 2.5
    assert not found.beats_baseline
    with uow_factory() as uow:
        assert [f.sku for f in uow.demand.forecasts(tenant_id, location="")] == ["PEN"]
