"""GET /v1/replenishment/suggestions: quantities and reasons from the latest forecasts and
stock at a location under the supplier terms of the request; bad terms are 422 problems."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.memory.forecasting import WeekdayMeanEngine
from oms.services.demand import import_sales_history
from oms.services.forecasting import run_forecasts
from tests.api.support import ApiTenant, TestClient, assert_problem
from tests.builders import add_location, add_product, set_stock

# The history is a flat 4 units a day, so the forecast is 4 a day whatever day the route
# reads it on (days outside the horizon carry the last week's average on).
NOW = datetime(2030, 1, 1, 2, 0, tzinfo=UTC)


def _stocked(uow: SqlUnitOfWorkFactory, tenant: ApiTenant) -> None:
    add_location(uow, tenant.id, "RAPI")
    for sku, units in (("BOLT", 10), ("NUT", 900)):
        add_product(uow, tenant.id, sku)
        set_stock(uow, tenant.id, sku, "RAPI", units)
    start = NOW.date() - timedelta(days=28)
    lines = ["date,sku,location,quantity"] + [
        f"{(start + timedelta(days=i)).isoformat()},{sku},RAPI,4"
        for i in range(28)
        for sku in ("BOLT", "NUT")
    ]
    import_sales_history(uow_factory=uow, tenant_id=tenant.id, text="\n".join(lines))
    run_forecasts(
        uow_factory=uow, engine=WeekdayMeanEngine(), tenant_id=tenant.id, now=NOW, horizon=7
    )


def test_suggestions_name_the_quantity_and_the_reason(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant
) -> None:
    _stocked(api_uow, tenant)
    params = {
        "location": "RAPI",
        "lead_time_days": 5,
        "review_period_days": 7,
        "moq": 25,
        "pack_size": 10,
        "supplier": "Acme",
    }
    response = client.get("/v1/replenishment/suggestions", params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["terms"]["supplier"] == "Acme"
    [bolt] = body["suggestions"]  # NUT has 900 on hand: nothing to order
    assert bolt["sku"] == "BOLT"
    assert bolt["location"] == "RAPI"
    assert bolt["position"] == 10
    assert bolt["demand_over_lead_time"] == 20.0
    assert bolt["safety_stock"] == 0  # the weekday means were exact in the backtest
    assert (bolt["reorder_point"], bolt["order_up_to"]) == (20, 48)
    assert bolt["quantity"] == 40  # 38 short, in packs of 10
    assert "order 38" in bolt["reason"]
    every = client.get(
        "/v1/replenishment/suggestions",
        params={**params, "all": "true"},
        headers=tenant.headers,
    ).json()
    assert [s["sku"] for s in every["suggestions"]] == ["BOLT", "NUT"]


def test_bad_terms_are_422_problems(client: TestClient, tenant: ApiTenant) -> None:
    url = "/v1/replenishment/suggestions"
    body = assert_problem(
        client.get(url, params={"lead_time_days": 0}, headers=tenant.headers), 422
    )
    assert "lead_time_days" in str(body)
    assert_problem(
        client.get(url, params={"lead_time_days": 3, "service_level": 1.5}, headers=tenant.headers),
        422,
    )
    # Without a lead time the answer is per supplier (their links give the terms).
    assert client.get(url, headers=tenant.headers).json()["suppliers"] == []
    assert_problem(client.get(url, params={"service_level": 2}, headers=tenant.headers), 422)
    assert_problem(
        client.get(url, params={"lead_time_days": 3, "location": "X"}, headers=tenant.headers),
        404,
    )
