"""Return reasons by SKU in the analytics (``/v1/analytics/returns``, JSON and CSV), and
returns as fulfilment-error causes (``/v1/analytics/fulfilment``), over the rollups, on
SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.returns import WantedLine
from oms.domain.users import Role
from oms.services import returns
from oms.services.rollups import rebuild
from tests.api.portal_support import new_user, sign_in
from tests.api.returns_fixtures import client, uow
from tests.api.support import ApiTenant, TestClient, new_tenant
from tests.builders import TESTER
from tests.integration.returns_support import (
    SHIPPED_AT,
    open_shop,
    returns_engine,
    shipped_order,
)

__all__ = ["client", "returns_engine", "uow"]

RANGE = {"from": "2031-03-01", "to": "2031-03-14"}


def _returned(uow: SqlUnitOfWorkFactory, shop: UUID, order_id: UUID, *lines: WantedLine) -> None:
    returns.request_return(
        uow_factory=uow,
        tenant_id=shop,
        order_id=order_id,
        command=returns.NewReturn(tuple(lines)),
        actor=TESTER,
        at=SHIPPED_AT + timedelta(days=3),
    )


@pytest.fixture(scope="module")
def shop(uow: SqlUnitOfWorkFactory) -> ApiTenant:
    tenant = new_tenant(uow, "return analytics shop")
    open_shop(uow, tenant.id)
    first = shipped_order(uow, tenant.id, ("X", 3), ("Y", 1))
    second = shipped_order(uow, tenant.id, ("X", 1))
    _returned(
        uow, tenant.id, first.id, WantedLine(1, 2, "wrong_size"), WantedLine(2, 1, "wrong_item")
    )
    _returned(uow, tenant.id, second.id, WantedLine(1, 1, "wrong_size"))
    rebuild(uow_factory=uow, now=SHIPPED_AT + timedelta(days=10), tenant_ids=[tenant.id])
    return tenant


def test_return_reasons_by_sku_count_units_returns_and_the_return_rate(
    client: TestClient, shop: ApiTenant
) -> None:
    got = client.get("/v1/analytics/returns", params=RANGE, headers=shop.headers)
    assert got.status_code == 200, got.text
    rows = {(r["sku"], r["reason"]): r for r in got.json()["rows"]}
    assert set(rows) == {("X", "wrong_size"), ("Y", "wrong_item")}
    x = rows[("X", "wrong_size")]
    assert (x["units"], x["returns"], x["received"], x["ordered"]) == (3, 2, 0, 4)
    assert Decimal(x["return_rate"]) == Decimal("0.75")
    assert got.json()["rows"][0]["sku"] == "X"  # the SKU returned most first
    assert Decimal(rows[("Y", "wrong_item")]["return_rate"]) == 1


def test_the_csv_has_the_rows_of_the_json(client: TestClient, shop: ApiTenant) -> None:
    body = client.get("/v1/analytics/returns", params=RANGE, headers=shop.headers).json()
    answer = client.get(
        "/v1/analytics/returns", params={**RANGE, "format": "csv"}, headers=shop.headers
    )
    assert answer.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["sku"], r["reason"], int(r["units"])) for r in table] == [
        (r["sku"], r["reason"], r["units"]) for r in body["rows"]
    ]


def test_a_wrong_item_return_is_a_fulfilment_error_cause(
    client: TestClient, shop: ApiTenant
) -> None:
    got = client.get("/v1/analytics/fulfilment", params=RANGE, headers=shop.headers).json()
    assert got["errors"].get("return.wrong_item") == 1
    assert "return.wrong_size" not in got["errors"]  # the customer's choice, not an error


def test_the_portal_analytics_page_has_the_return_reasons_panel_and_its_csv(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: ApiTenant
) -> None:
    sign_in(client, new_user(uow, Role.MERCHANT_ADMIN, shop.id))
    page = client.get("/app/analytics", params=RANGE)
    assert page.status_code == 200
    panel = page.text.split('id="returns-h"')[1].split("</section>")[0]
    assert '<td>X</td><td>wrong size</td><td class="num">3</td>' in panel
    assert "Returns: wrong item sent</dt><dd>1</dd>" in page.text
    csv_file = client.get("/app/analytics/returns.csv", params=RANGE)
    assert csv_file.headers["content-type"].startswith("text/csv")
    assert "X,wrong_size,3,2,0,4,0.75" in csv_file.text
