"""The portal's returns in a real browser: a return found in the queue, its inspection
screen with the scan field focused, a unit scanned in with the keyboard and restocked, the
refund paid from the button that shows its amount; axe-core finds no serious violation on
the queue, the return page and the inspection screen. Screenshots go to
test-artefacts/portal/."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from oms.domain.returns import WantedLine
from oms.domain.users import Role
from oms.services import returns
from oms.services.carriers import import_rate_cards
from tests.api.portal_support import PASSWORD, new_user
from tests.api.support import new_tenant
from tests.browser.conftest import Served
from tests.browser.test_portal_accessibility import _violations
from tests.builders import TESTER
from tests.integration.returns_support import SHIPPED_AT, open_shop, shipped_order
from tests.integration.test_routing import RATES


@pytest.fixture(scope="module")
def asked(served: Served) -> tuple[Any, returns.ReturnRequest]:
    """A shop with rate cards, one shipped order of two Z and a return of one, approved."""
    import_rate_cards(uow_factory=served.uow, principal=None, text=RATES, fmt="yaml")
    tenant = new_tenant(served.uow, "Returns Browser Shop")
    open_shop(served.uow, tenant.id)
    order = shipped_order(served.uow, tenant.id, ("Z", 2))
    request, _ = returns.request_return(
        uow_factory=served.uow,
        tenant_id=tenant.id,
        order_id=order.id,
        command=returns.NewReturn((WantedLine(1, 1, "defective"),)),
        actor=TESTER,
        at=SHIPPED_AT + timedelta(days=2),
    )
    return tenant, request


@pytest.fixture
def page(browser: Any, served: Served, asked: tuple[Any, returns.ReturnRequest]) -> Any:
    # CSP bypassed only so axe can be injected.
    context = browser.new_context(
        base_url=served.url, viewport={"width": 1024, "height": 768}, bypass_csp=True
    )
    opened = context.new_page()
    user = new_user(served.uow, Role.MERCHANT_ADMIN, asked[0].id)
    opened.goto("/app/login")
    opened.get_by_label("Email").fill(user.email)
    opened.get_by_label("Password").fill(PASSWORD)
    opened.get_by_role("button", name="Sign in").click()
    opened.wait_for_url("**/app/dashboard")
    yield opened
    context.close()


def test_a_returned_unit_is_scanned_in_and_refunded_from_the_portal(
    page: Any, asked: tuple[Any, returns.ReturnRequest], artefacts: Path
) -> None:
    _tenant, request = asked
    page.get_by_role("link", name="Returns").first.click()
    page.wait_for_url("**/app/returns")
    assert _violations(page) == []
    page.get_by_role("link", name=f"#{request.order_number}").first.wait_for()
    page.locator(f"a[href$='/{request.id}']").click()
    assert _violations(page) == []
    page.get_by_role("link", name="Inspect the units that came back").click()
    page.wait_for_url("**/inspect")
    scan = page.get_by_label("Scan a unit (SKU, then Enter)")
    assert scan.evaluate("el => el === document.activeElement")
    assert _violations(page) == []
    scan.fill("Z")
    scan.press("Enter")
    page.get_by_text("Z: 1 unit restocked (available again)").wait_for()
    page.screenshot(path=str(artefacts / "return-inspection.png"), full_page=True)
    page.get_by_role("link", name=f"Order #{request.order_number}").click()
    button = page.get_by_role("button", name="Refund 30.00 EUR")
    page.once("dialog", lambda dialog: dialog.accept())
    button.click()
    page.get_by_text("Refunded 30.00 EUR").wait_for()
    assert _violations(page) == []
