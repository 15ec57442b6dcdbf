"""GET /v1/analytics/... on SQLite and PostgreSQL: after a rebuild of the rollups, a tenant
sees its own sales, SKUs and fulfilment figures (never another tenant's), as JSON or CSV;
an unknown period or dimension is a problem.

Orders are placed through the intake use case in a week of 2038 no other test writes to.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from uuid import UUID

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.services import intake
from oms.services.rollups import rebuild
from tests.api.support import ApiTenant, TestClient, assert_problem
from tests.builders import TESTER, add_location, add_product, order_of, set_stock

DAY = datetime(2038, 3, 1, 10, 0, tzinfo=UTC)  # a Monday
RANGE = {"from": "2038-03-01", "to": "2038-03-14"}


def _shop(uow: SqlUnitOfWorkFactory, tenant: ApiTenant, orders: list[tuple[int, str, int]]) -> None:
    add_location(uow, tenant.id, "AN")
    for sku in {sku for _, sku, _ in orders}:
        add_product(uow, tenant.id, sku)
        set_stock(uow, tenant.id, sku, "AN", 100)
    for n, (offset, sku, quantity) in enumerate(orders):
        intake.place_order(
            uow_factory=uow,
            gateways=gateway_named,
            tenant_id=tenant.id,
            command=order_of((sku, quantity), external_id=f"an-{n}"),
            actor=TESTER,
            at=DAY + timedelta(days=offset),
        )


def _rebuilt(uow: SqlUnitOfWorkFactory, *tenants: UUID) -> None:
    rebuild(uow_factory=uow, now=DAY + timedelta(days=13), tenant_ids=list(tenants))


def test_sales_by_sku_and_week_count_a_tenants_own_units(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant, other_tenant: ApiTenant
) -> None:
    mine = [(0, "AN-A", 2), (1, "AN-A", 3), (8, "AN-B", 1)]
    _shop(api_uow, tenant, mine)
    _shop(api_uow, other_tenant, [(0, "AN-A", 7)])
    _rebuilt(api_uow, tenant.id, other_tenant.id)

    response = client.get(
        "/v1/analytics/sales",
        params={**RANGE, "period": "week", "by": "sku"},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    units = {(row["period"], row["sku"]): row["units"] for row in rows}
    assert units == {("2038-03-01", "AN-A"): 5, ("2038-03-08", "AN-B"): 1}
    assert {row["orders"] for row in rows if row["sku"] == "AN-A"} == {2}

    total = client.get("/v1/analytics/sales", params=RANGE, headers=tenant.headers).json()
    assert sum(row["units"] for row in total["rows"]) == sum(q for _, _, q in mine)

    skus = client.get("/v1/analytics/skus", params=RANGE, headers=tenant.headers).json()
    by_sku = {row["sku"]: row for row in skus["rows"]}
    assert set(by_sku) == {"AN-A", "AN-B"}
    assert by_sku["AN-A"]["units"] == 5  # routed to AN
    assert by_sku["AN-A"]["abc"] == "A"


def test_csv_has_the_rows_of_the_json(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant
) -> None:
    _shop(api_uow, tenant, [(0, "AN-C", 1), (2, "AN-C", 4)])
    _rebuilt(api_uow, tenant.id)
    params = {**RANGE, "by": "channel"}
    body = client.get("/v1/analytics/sales", params=params, headers=tenant.headers).json()
    answer = client.get(
        "/v1/analytics/sales", params={**params, "format": "csv"}, headers=tenant.headers
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["period"], r["channel"], int(r["units"])) for r in table] == [
        (r["period"], r["channel"], r["units"]) for r in body["rows"]
    ]
    assert [int(r["units"]) for r in table] == [1, 4]


def test_unknown_periods_and_dimensions_are_problems(client: TestClient, tenant: ApiTenant) -> None:
    assert_problem(
        client.get("/v1/analytics/sales", params={"period": "year"}, headers=tenant.headers), 422
    )
    assert_problem(
        client.get("/v1/analytics/fulfilment", params={"by": "sku"}, headers=tenant.headers), 422
    )
    assert_problem(client.get("/v1/analytics/skus"), 401)
    fulfilment = client.get("/v1/analytics/fulfilment", params=RANGE, headers=tenant.headers)
    assert fulfilment.status_code == 200
    assert fulfilment.json()["rows"] == []
