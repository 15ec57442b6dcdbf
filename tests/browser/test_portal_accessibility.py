"""Accessibility of the portal's main pages: axe-core (vendored in tests/browser/vendor,
MPL-2.0) finds no serious or critical violation on the login form, the orders list, an
order page and the exceptions queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oms.domain.users import Role
from tests.api.order_support import clean_order, stock_shop
from tests.api.portal_support import PASSWORD, new_user
from tests.api.support import new_tenant
from tests.browser.conftest import Served

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")


def _violations(page: Any) -> list[str]:
    """The serious and critical axe violations of the page, one line each."""
    page.add_script_tag(content=AXE)
    found = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => `${v.impact} ${v.id}: ` +
                     v.nodes.map(n => n.target.join(" ")).join(", "));
        }"""
    )
    return list(found)


@pytest.fixture(scope="module")
def signed_in(browser: Any, served: Served) -> Any:
    """A page signed in as a merchant admin with one held order; CSP is bypassed only so
    the test can inject axe."""
    shop = stock_shop(served.http, new_tenant(served.uow, "Axe Shop"))  # type: ignore[arg-type]
    order = clean_order(served.http, shop, customer={"email": "axe@example.com", "name": "Axe"})  # type: ignore[arg-type]
    user = new_user(served.uow, Role.MERCHANT_ADMIN, shop.id)
    context = browser.new_context(base_url=served.url, bypass_csp=True)
    page = context.new_page()
    page.goto("/app/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/app/dashboard")
    page.order_url = f"/app/orders/{shop.id}/{order['id']}"
    yield page
    context.close()


@pytest.mark.parametrize(
    "where", ["/app/login?next=/app/orders", "/app/orders", "order", "/app/exceptions"]
)
def test_a_main_page_has_no_serious_accessibility_violation(signed_in: Any, where: str) -> None:
    signed_in.goto(signed_in.order_url if where == "order" else where)

    assert _violations(signed_in) == []
