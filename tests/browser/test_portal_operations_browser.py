"""The portal's dashboard, inventory and settings in a real browser: a merchant admin
signs in and lands on the dashboard with its charts, adjusts stock with a reason and finds
it in the ledger, adds a webhook endpoint and sees its secret once; axe-core finds no
serious or critical violation on these pages. Each page is saved as a screenshot under
test-artefacts/portal/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oms.domain.users import Role
from tests.api.order_support import clean_order, stock_shop
from tests.api.portal_support import PASSWORD, new_user
from tests.api.support import ApiTenant, new_tenant
from tests.browser.conftest import Served
from tests.browser.test_portal_accessibility import _violations

PUBLIC = "https://93.184.215.14/hooks"  # an address literal on the public internet


@pytest.fixture(scope="module")
def shop(served: Served) -> ApiTenant:
    found = stock_shop(served.http, new_tenant(served.uow, "Operations Shop"))  # type: ignore[arg-type]
    clean_order(served.http, found)  # type: ignore[arg-type]
    return found


@pytest.fixture(scope="module")
def page(browser: Any, served: Served, shop: ApiTenant) -> Any:
    """A merchant admin signed in; CSP is bypassed only so axe can be injected."""
    admin = new_user(served.uow, Role.MERCHANT_ADMIN, shop.id)
    context = browser.new_context(
        base_url=served.url, viewport={"width": 1024, "height": 768}, bypass_csp=True
    )
    opened = context.new_page()
    opened.goto("/app/login")
    opened.get_by_label("Email").fill(admin.email)
    opened.get_by_label("Password").fill(PASSWORD)
    opened.get_by_role("button", name="Sign in").click()
    opened.wait_for_url("**/app/dashboard")
    yield opened
    context.close()


def test_the_dashboard_shows_the_figures_and_charts(page: Any, artefacts: Path) -> None:
    page.goto("/app/dashboard")

    assert page.get_by_role("heading", name="Dashboard", exact=True).is_visible()
    assert page.locator("[data-figure=orders-today]").inner_text() == "1"
    assert page.get_by_role("img", name="Orders per day").is_visible()
    assert page.locator("svg.chart rect").count() == 7 + 4
    page.screenshot(path=artefacts / "dashboard.png", full_page=True)


def test_a_stock_adjustment_lands_in_the_ledger(page: Any, artefacts: Path) -> None:
    page.goto("/app/inventory")
    page.get_by_label("SKU").fill("TEE")
    page.get_by_label("Location").select_option("WH")
    page.get_by_label("Quantity").fill("-2")
    page.get_by_label("Reason").fill("two torn in the warehouse")
    page.screenshot(path=artefacts / "inventory.png", full_page=True)
    page.get_by_role("button", name="Adjust stock").click()

    page.wait_for_url("**/app/inventory/ledger?sku=TEE*")
    assert page.get_by_role("status").inner_text().startswith("Stock of TEE at WH adjusted")
    assert page.get_by_role("cell", name="two torn in the warehouse").is_visible()
    assert page.locator("#available").inner_text() == "7"  # 10 on hand, one reserved
    page.screenshot(path=artefacts / "ledger.png", full_page=True)


def test_an_admin_adds_a_webhook_endpoint_and_sees_its_secret(page: Any, artefacts: Path) -> None:
    page.goto("/app/settings/webhooks")
    page.get_by_label("URL").fill(PUBLIC)
    page.get_by_label("Description").fill("ERP")
    page.get_by_role("button", name="Add endpoint").click()

    page.get_by_role("heading", name="Webhook endpoint created").wait_for()
    assert page.locator("#secret").inner_text().startswith("whsec_")
    page.screenshot(path=artefacts / "webhook-created.png", full_page=True)
    page.get_by_role("link", name="Open the endpoint and its deliveries").click()
    page.get_by_role("heading", name="Deliveries").wait_for()
    page.screenshot(path=artefacts / "webhook.png", full_page=True)
    assert _violations(page) == []
    page.goto("/app/settings/webhooks")
    assert page.get_by_role("link", name=PUBLIC).is_visible()


def test_a_product_page_has_no_serious_accessibility_violation(page: Any, artefacts: Path) -> None:
    page.goto("/app/catalogue/products")
    page.get_by_role("link", name="TEE").click()
    page.get_by_role("button", name="Save product").wait_for()

    assert _violations(page) == []
    page.screenshot(path=artefacts / "product.png", full_page=True)


@pytest.mark.parametrize(
    "where",
    [
        "/app/dashboard",
        "/app/inventory",
        "/app/inventory/ledger?sku=TEE",
        "/app/catalogue/products",
        "/app/catalogue/locations",
        "/app/settings/webhooks",
        "/app/settings/notifications",
        "/app/settings/notifications/preview/shipped",
        "/app/settings/routing",
        "/app/settings/carriers",
        "/app/settings/api-keys",
    ],
)
def test_the_new_pages_have_no_serious_accessibility_violation(
    page: Any, where: str, artefacts: Path
) -> None:
    page.goto(where)

    assert _violations(page) == []
    name = where.strip("/").replace("/", "-").replace("?", "-").replace("=", "-")
    page.screenshot(path=artefacts / f"{name}.png", full_page=True)
