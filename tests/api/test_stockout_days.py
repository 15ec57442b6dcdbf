"""Stock-out days on SQLite and PostgreSQL: the worker's rollup refresh samples each level's
lowest availability per day; a day out counts where the SKU had demand (units routed there
that day or in the 28 days before), in GET /v1/analytics/stockouts (JSON and CSV); and the
demand of those days reaches forecasting flagged censored, with a 0-unit row for a day
nothing could sell. Orders are placed in a week of 2039 no other test writes to."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from sqlalchemy import select

from oms.adapters.db.tables import stock_days
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.services import inventory
from oms.services.demand import refresh_order_demand
from oms.services.rollups import refresh
from tests.api.stockout_support import DAY, RANGE, sell_out
from tests.api.support import ApiTenant, TestClient
from tests.builders import TESTER


def test_stock_out_days_count_where_the_sku_had_demand(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant
) -> None:
    sell_out(api_uow, tenant)
    body = client.get("/v1/analytics/stockouts", params=RANGE, headers=tenant.headers).json()
    [row] = body["rows"]  # SO-C is out too, but never had demand there
    assert (row["sku"], row["location"], row["stockout_days"]) == ("SO-A", "SO", 2)
    assert (row["first_day"], row["last_day"]) == ("2039-05-04", "2039-05-05")
    # 2 units over the in-stock days from 28 days before the range to its end
    assert row["demand_per_day"] > 0
    assert row["lost_units"] == round(row["demand_per_day"] * 2, 1)
    csv_text = client.get(
        "/v1/analytics/stockouts", params={**RANGE, "format": "csv"}, headers=tenant.headers
    ).text
    assert list(csv.DictReader(io.StringIO(csv_text))) == [{k: str(v) for k, v in row.items()}]


def test_a_day_keeps_its_lowest_sample_and_a_refresh_again_adds_nothing(
    api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant
) -> None:
    sell_out(api_uow, tenant)
    inventory.adjust_inventory(  # restocked on day 3
        uow_factory=api_uow,
        tenant_id=tenant.id,
        command=inventory.Adjustment(
            sku="SO-A", location_code="SO", set_on_hand=10, reason="delivery"
        ),
        actor=TESTER,
        at=DAY + timedelta(days=3, hours=1),
    )
    for _ in range(2):
        refresh(uow_factory=api_uow, now=DAY + timedelta(days=3, hours=2), tenant_ids=[tenant.id])
    with api_uow(readonly=True) as uow:
        rows = uow._conn.execute(  # type: ignore[attr-defined]
            select(stock_days.c.sku, stock_days.c.day, stock_days.c.low, stock_days.c.close).where(
                stock_days.c.tenant_id == tenant.id, stock_days.c.sku == "SO-A"
            )
        ).all()
    by_day = {str(r.day)[:10]: (r.low, r.close) for r in rows}
    assert by_day["2039-05-04"] == (0, 0)
    assert by_day["2039-05-05"][0] == 0  # out earlier that day
    assert by_day["2039-05-05"][1] > 0  # in stock at the last sample


def test_forecasting_gets_stock_out_days_as_censored_demand(
    api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant
) -> None:
    sell_out(api_uow, tenant)
    refresh_order_demand(
        uow_factory=api_uow, tenant_id=tenant.id, now=DAY + timedelta(days=3), days=4
    )
    with api_uow(readonly=True) as uow:
        days = {(d.sku, d.location, d.day): d for d in uow.demand.days(tenant.id, ["SO-A", "SO-B"])}
    sold_out = days[("SO-A", "SO", date(2039, 5, 4))]
    assert (sold_out.quantity, sold_out.stockout) == (1, True)
    nothing = days[("SO-A", "SO", date(2039, 5, 5))]
    assert (nothing.quantity, nothing.stockout) == (0, True)  # unknown demand, not none
    assert days[("SO-A", "SO", date(2039, 5, 2))].stockout is False
    assert all(not d.stockout for k, d in days.items() if k[0] == "SO-B")
