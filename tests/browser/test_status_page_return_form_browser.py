"""The order status page's return form in a real browser, with no script of the page's own:
the customer finds a delivered order, picks a unit and a reason, confirms the email and
sends; a missing reason comes back next to its field. axe-core finds no serious violation
on the page with the form, with its problems, and on the answer. Screenshots go to
test-artefacts/portal/."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from oms.domain.orders import Order
from oms.domain.tracking import ShipmentStatus, TrackingEvent
from oms.services.carriers import import_rate_cards
from oms.services.tracking import CarrierEvent, record_carrier_events
from oms.web.pages import PageClock
from tests.api.support import new_tenant
from tests.browser.conftest import Served
from tests.browser.test_portal_accessibility import _violations
from tests.integration.returns_support import SHIPPED_AT, open_shop, shipped_order
from tests.integration.test_routing import RATES

DELIVERED_AT = SHIPPED_AT + timedelta(days=2)
NOW = DELIVERED_AT + timedelta(hours=3)  # the pages' clock: well inside the return window


@pytest.fixture(scope="module")
def page_clock() -> PageClock:
    return PageClock(now=lambda: NOW)


@pytest.fixture(scope="module")
def delivered(served: Served) -> tuple[str, Order]:
    """A shop's order of two Z, shipped and delivered: (the shop's slug, the order)."""
    import_rate_cards(uow_factory=served.uow, principal=None, text=RATES, fmt="yaml")
    tenant = new_tenant(served.uow, "Return Form Shop")
    open_shop(served.uow, tenant.id)
    order = shipped_order(served.uow, tenant.id, ("Z", 2))
    with served.uow(readonly=True) as read:
        (shipment,) = read.shipments.for_order(tenant.id, order.id)
        found = read.tenants.get(tenant.id)
    assert found is not None
    record_carrier_events(
        uow_factory=served.uow,
        carrier=shipment.carrier,
        events=[
            CarrierEvent(
                shipment.tracking_number,
                TrackingEvent("delivered", ShipmentStatus.DELIVERED, DELIVERED_AT),
            )
        ],
        at=DELIVERED_AT,
    )
    return found.slug, order


@pytest.fixture
def page(browser: Any, served: Served) -> Any:
    # CSP bypassed only so axe can be injected; the page itself runs no script.
    context = browser.new_context(
        base_url=served.url, viewport={"width": 800, "height": 900}, bypass_csp=True
    )
    yield context.new_page()
    context.close()


def test_a_customer_sends_a_return_from_the_status_page(
    page: Any, delivered: tuple[str, Order], artefacts: Path
) -> None:
    slug, order = delivered
    page.goto(f"/status/{slug}")
    page.get_by_label("Order number").fill(str(order.number))
    page.get_by_label("Email address", exact=True).fill("erika@example.com")
    page.get_by_role("button", name="Find my order").click()
    page.get_by_role("heading", name="Send something back").wait_for()
    assert _violations(page) == []
    page.screenshot(path=str(artefacts / "status-return-form.png"), full_page=True)

    page.get_by_label("How many to send back").select_option("1")
    page.get_by_role("button", name="Ask for a return").click()
    problem = page.locator("#reason-1-error")
    problem.wait_for()
    assert problem.inner_text() == "Choose why you are sending it back"
    assert page.get_by_label("Why").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("How many to send back").input_value() == "1"
    assert _violations(page) == []
    page.screenshot(path=str(artefacts / "status-return-form-problem.png"), full_page=True)

    page.get_by_label("Why").select_option("wrong_size")
    page.get_by_label("Store credit to spend in the shop").check()
    page.get_by_role("button", name="Ask for a return").click()
    page.get_by_role("heading", name="We have your return request").wait_for()
    assert page.get_by_role("listitem").first.inner_text() == "1 \N{MULTIPLICATION SIGN} Product Z"
    assert _violations(page) == []
    page.screenshot(path=str(artefacts / "status-return-requested.png"), full_page=True)
    page.get_by_role("link", name="Back to your order").click()
    page.get_by_role("heading", name="Send something back").wait_for()  # one Z still to go
