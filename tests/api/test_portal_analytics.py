"""The portal's analytics page (/app/analytics): the figures of oms.services.analytics for
the viewer's tenant over the rollups, a chart with its table, CSV downloads of each table,
a bad date refused on the page."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import create_app
from oms.config import Settings
from oms.domain.users import Role
from oms.services.rollups import rebuild
from tests.api.order_support import clean_order, stock_shop
from tests.api.portal_pages import FixedClock, read
from tests.api.portal_support import new_user, sign_in
from tests.api.stockout_support import RANGE, sell_out
from tests.api.support import TestClient, new_tenant


@pytest.fixture(scope="module")
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture(scope="module")
def portal(api_settings: Settings, api_engine: Engine, clock: FixedClock) -> Iterator[TestClient]:
    app = create_app(api_settings, engine=api_engine, page_clock=clock.page_clock())
    with TestClient(app) as test_client:
        yield test_client


def test_a_merchant_sees_its_sales_and_downloads_them(
    portal: TestClient, api_uow: SqlUnitOfWorkFactory, clock: FixedClock
) -> None:
    shop = stock_shop(portal, new_tenant(api_uow, "Analytics Shop"))
    other = stock_shop(portal, new_tenant(api_uow, "Other Analytics Shop"))
    clean_order(portal, other, ("TEE", 4))
    clean_order(portal, shop, ("TEE", 2))
    last = clean_order(portal, shop, ("MUG", 3))
    placed = datetime.fromisoformat(last["created_at"])
    clock.now = placed + timedelta(seconds=1)
    rebuild(uow_factory=api_uow, now=clock.now, tenant_ids=[shop.id, other.id])
    day = placed.date().isoformat()
    sign_in(portal, new_user(api_uow, Role.MERCHANT_VIEWER, shop.id))

    answer = portal.get("/app/analytics", params={"from": day, "to": day, "by": "sku"})

    assert answer.status_code == 200, answer.text
    page = read(answer.text)
    rows = page.tables["sales-table"][1:]
    assert sorted((r[1], r[3]) for r in rows) == [("MUG", "3"), ("TEE", "2")]
    assert page.bars == 1
    assert any(title.startswith("Units per day") for title in page.svg_titles)
    assert 'href="/app/analytics"' in answer.text  # the nav entry

    download = portal.get("/app/analytics/sales.csv", params={"from": day, "to": day, "by": "sku"})
    assert download.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(download.text)))
    assert sorted((r["sku"], int(r["units"])) for r in table) == [("MUG", 3), ("TEE", 2)]
    skus = list(csv.DictReader(io.StringIO(portal.get("/app/analytics/skus.csv").text)))
    assert {r["sku"] for r in skus} == {"MUG", "TEE"}
    assert portal.get("/app/analytics/nothing.csv").status_code == 404


def test_a_bad_date_is_refused_on_the_page(
    portal: TestClient, api_uow: SqlUnitOfWorkFactory
) -> None:
    shop = new_tenant(api_uow, "Bad Date Shop")
    sign_in(portal, new_user(api_uow, Role.MERCHANT_ADMIN, shop.id))
    answer = portal.get("/app/analytics", params={"from": "yesterday"})
    assert answer.status_code == 422
    assert "Not a date" in answer.text
    assert "No sales in this range." in answer.text


def test_the_page_lists_stock_out_days_and_downloads_them(
    portal: TestClient, api_uow: SqlUnitOfWorkFactory
) -> None:
    shop = new_tenant(api_uow, "Sold Out Shop")
    sell_out(api_uow, shop)
    sign_in(portal, new_user(api_uow, Role.MERCHANT_VIEWER, shop.id))
    answer = portal.get("/app/analytics", params=RANGE)
    assert answer.status_code == 200, answer.text
    [row] = read(answer.text).tables["stockouts-table"][1:]
    assert row[:5] == ["SO-A", "SO", "2", "2039-05-04", "2039-05-05"]
    download = portal.get("/app/analytics/stockouts.csv", params=RANGE)
    [line] = list(csv.DictReader(io.StringIO(download.text)))
    assert (line["sku"], line["stockout_days"]) == ("SO-A", "2")
