"""The analytics page in a real browser: a merchant opens it from the nav after the rollups
are rebuilt, sees its sales in the chart and the table, groups them by SKU through the form
and downloads the table as CSV. The page is saved as a screenshot under
test-artefacts/portal/."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from oms.domain.users import Role
from oms.services.rollups import rebuild
from tests.api.order_support import clean_order, stock_shop
from tests.api.portal_support import PASSWORD, new_user
from tests.api.support import ApiTenant, new_tenant
from tests.browser.conftest import Served


@pytest.fixture(scope="module")
def shop(served: Served) -> ApiTenant:
    return stock_shop(served.http, new_tenant(served.uow, "Analytics Browser Shop"))  # type: ignore[arg-type]


@pytest.fixture
def page(browser: Any, served: Served) -> Any:
    context = browser.new_context(
        base_url=served.url, viewport={"width": 1024, "height": 768}, accept_downloads=True
    )
    opened = context.new_page()
    yield opened
    context.close()


def test_a_merchant_reads_its_sales_by_sku_and_downloads_them(
    page: Any, served: Served, shop: ApiTenant, artefacts: Path
) -> None:
    http: Any = served.http
    clean_order(http, shop, ("TEE", 2))
    last = clean_order(http, shop, ("MUG", 3))
    # The server's clock is the wall clock; the rebuild takes the moment the order was
    # placed (a second after it), so every order so far is in the rollups.
    placed = datetime.fromisoformat(last["created_at"]).astimezone(UTC)
    rebuild(uow_factory=served.uow, now=placed, tenant_ids=[shop.id])
    user = new_user(served.uow, Role.MERCHANT_VIEWER, shop.id)

    page.goto("/app/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/app/dashboard")
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Analytics").click()
    page.wait_for_url("**/app/analytics")
    assert page.locator("#sales-table tbody tr").count() == 1
    assert page.locator("#sales-table tbody td").nth(2).inner_text() == "5"  # units

    page.get_by_label("Sales by").select_option("sku")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**by=sku**")
    rows = page.locator("#sales-table tbody tr")
    assert rows.count() == 2
    assert sorted(rows.all_inner_texts())[0].split("\t")[1] == "MUG"
    assert page.locator("svg.chart rect").count() == 1
    page.screenshot(path=artefacts / "analytics.png", full_page=True)

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download as CSV").first.click()
    saved = downloading.value.path()
    text = Path(saved).read_text()
    assert text.splitlines()[0] == "period,sku,currency,orders,units,cancelled_units,sales"
    assert sorted(line.split(",")[1] for line in text.splitlines()[1:]) == ["MUG", "TEE"]
