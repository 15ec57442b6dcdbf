"""GET /v1/forecasts/{sku}: the chosen model, daily points with 80%/95% intervals and the
backtest against seasonal-naive; per location or in total; a tenant sees only its own;
a SKU without a forecast is a 404 problem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.memory.forecasting import WeekdayMeanEngine
from oms.services.demand import import_sales_history
from oms.services.forecasting import run_forecasts
from tests.api.support import ApiTenant, TestClient, assert_problem
from tests.builders import add_location

NOW = datetime(2036, 5, 1, 2, 0, tzinfo=UTC)


def _forecast(uow: SqlUnitOfWorkFactory, tenant: ApiTenant) -> None:
    add_location(uow, tenant.id, "FAPI")
    start = NOW.date() - timedelta(days=35)
    lines = ["date,sku,location,quantity"] + [
        f"{(start + timedelta(days=i)).isoformat()},LAMP,FAPI,{2 + i % 3}" for i in range(35)
    ]
    import_sales_history(uow_factory=uow, tenant_id=tenant.id, text="\n".join(lines))
    run_forecasts(
        uow_factory=uow, engine=WeekdayMeanEngine(), tenant_id=tenant.id, now=NOW, horizon=7
    )


def test_a_forecast_answers_model_points_intervals_and_backtest(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant
) -> None:
    _forecast(api_uow, tenant)
    response = client.get("/v1/forecasts/LAMP", headers=tenant.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sku"] == "LAMP"
    assert body["location"] is None
    assert body["model"] == "weekday_mean"
    assert body["backtest"]["baseline"] == "seasonal_naive"
    assert body["backtest"]["origins"] == 2
    assert body["beats_baseline"] == (body["backtest"]["mase"] < 1)
    assert len(body["points"]) == 7
    first = body["points"][0]
    assert first["day"] == NOW.date().isoformat()
    assert first["p95"]["low"] <= first["p80"]["low"] <= first["mean"]
    assert first["mean"] <= first["p80"]["high"] <= first["p95"]["high"]
    at = client.get("/v1/forecasts/LAMP", params={"location": "FAPI"}, headers=tenant.headers)
    assert at.json()["location"] == "FAPI"


def test_another_tenant_and_an_unknown_sku_get_a_404_problem(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant, other_tenant: ApiTenant
) -> None:
    _forecast(api_uow, tenant)
    assert_problem(client.get("/v1/forecasts/LAMP", headers=other_tenant.headers), 404)
    assert_problem(client.get("/v1/forecasts/NOPE", headers=tenant.headers), 404)
    assert_problem(
        client.get("/v1/forecasts/LAMP", params={"location": "ELSE"}, headers=tenant.headers),
        404,
    )
    assert_problem(client.get("/v1/forecasts/LAMP"), 401)
