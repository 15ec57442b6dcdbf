"""GET /v1/dashboard on SQLite and PostgreSQL: each key sees its own tenant's figures (an
operator key every tenant's, or one named with OMS-Tenant), bad ranges are problems, and
the route is in the OpenAPI document.

Orders are placed through the intake use case at moments of a year no other test writes to
(each test its own week of 2037), so the operator's view of every tenant counts exactly
the orders of the test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.services import intake
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    new_operator_headers,
)
from tests.builders import TESTER, add_location, add_product, order_of, set_stock

DAY = datetime(2037, 6, 1, 10, 0, tzinfo=UTC)
RANGE = {"from": "2037-06-01", "to": "2037-06-07"}


def _stocked(uow: SqlUnitOfWorkFactory, tenant: ApiTenant) -> None:
    add_location(uow, tenant.id, "DASH")
    add_product(uow, tenant.id, "DASH-SKU")
    set_stock(uow, tenant.id, "DASH-SKU", "DASH", 100)


def _place_on(
    uow: SqlUnitOfWorkFactory, tenant_id: UUID, days: list[int], start: datetime = DAY
) -> None:
    for n, offset in enumerate(days):
        intake.place_order(
            uow_factory=uow,
            gateways=gateway_named,
            tenant_id=tenant_id,
            command=order_of(("DASH-SKU", 1), external_id=f"dash-{offset}-{n}"),
            actor=TESTER,
            at=start + timedelta(days=offset),
        )


def _per_day(body: dict[str, Any]) -> list[int]:
    return [entry["orders"] for entry in body["orders"]["per_day"]]


def _two_shops(
    uow: SqlUnitOfWorkFactory, mine: ApiTenant, theirs: ApiTenant, start: datetime
) -> tuple[ApiTenant, ApiTenant]:
    for shop in (mine, theirs):
        _stocked(uow, shop)
    _place_on(uow, mine.id, [0, 0, 2], start)
    _place_on(uow, theirs.id, [1, 6], start)
    return mine, theirs


@pytest.fixture
def two_shops(
    api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant, other_tenant: ApiTenant
) -> tuple[ApiTenant, ApiTenant]:
    return _two_shops(api_uow, tenant, other_tenant, DAY)


def test_a_tenant_key_sees_only_its_own_orders(
    client: TestClient, two_shops: tuple[ApiTenant, ApiTenant]
) -> None:
    mine, theirs = two_shops
    response = client.get("/v1/dashboard", params=RANGE, headers=mine.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["tenant_id"], body["from"], body["to"], body["time_zone"]) == (
        str(mine.id),
        "2037-06-01",
        "2037-06-07",
        "UTC",
    )
    assert _per_day(body) == [2, 0, 1, 0, 0, 0, 0]
    assert body["orders"]["in_range"] == 3
    assert body["backlog"]["total"] == 3  # paid, released, nothing shipped yet
    assert body["split_rate"] == {"of": 3, "met": 0, "rate": "0.0000"}
    assert body["fulfilment_errors"]["scan_mismatches"] is None
    theirs_body = client.get("/v1/dashboard", params=RANGE, headers=theirs.headers).json()
    assert _per_day(theirs_body) == [0, 1, 0, 0, 0, 0, 1]


def test_an_operator_key_sees_every_tenant_or_the_one_it_names(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant, other_tenant: ApiTenant
) -> None:
    week = {"from": "2037-07-01", "to": "2037-07-07"}
    mine, _ = _two_shops(api_uow, tenant, other_tenant, DAY.replace(month=7))
    operator = new_operator_headers(api_uow)
    everyone = client.get("/v1/dashboard", params=week, headers=operator).json()
    assert everyone["tenant_id"] is None
    assert _per_day(everyone) == [2, 1, 1, 0, 0, 0, 1]
    named = client.get(
        "/v1/dashboard", params=week, headers={**operator, "OMS-Tenant": str(mine.id)}
    ).json()
    assert (named["tenant_id"], _per_day(named)) == (str(mine.id), [2, 0, 1, 0, 0, 0, 0])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2037-06-08", "to": "2037-06-07"}, "query:from"),
        ({"from": "2036-06-01", "to": "2037-06-02"}, "query:to"),
        ({"from": "2037-13-01"}, "query:from"),
        ({"to": "yesterday"}, "query:to"),
    ],
)
def test_a_range_backwards_too_long_or_not_of_dates_is_a_problem(
    client: TestClient, tenant: ApiTenant, params: dict[str, str], field: str
) -> None:
    body = assert_problem(client.get("/v1/dashboard", params=params, headers=tenant.headers), 422)
    assert field in {error["pointer"] for error in body["errors"]}, body


def test_the_longest_range_is_366_days(client: TestClient, tenant: ApiTenant) -> None:
    response = client.get(
        "/v1/dashboard", params={"from": "2036-01-01", "to": "2036-12-31"}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["orders"]["per_day"]) == 366


def test_without_a_range_the_dashboard_covers_the_last_seven_days(
    client: TestClient, tenant: ApiTenant
) -> None:
    body = client.get("/v1/dashboard", headers=tenant.headers).json()
    days = [date.fromisoformat(entry["day"]) for entry in body["orders"]["per_day"]]
    assert len(days) == 7
    assert (days[0], days[-1]) == (
        date.fromisoformat(body["from"]),
        date.fromisoformat(body["to"]),
    )


def test_the_dashboard_needs_a_key(client: TestClient) -> None:
    assert_problem(client.get("/v1/dashboard", params=RANGE), 401)


def test_the_dashboard_is_in_the_openapi_document(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/dashboard"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"from", "to"}
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/DashboardRead")
