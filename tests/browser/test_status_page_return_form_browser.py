"""The order status page's return form in a real browser, with no script of the page's own:
the customer finds a delivered order, picks a unit and a reason, confirms the email and
sends; a missing reason comes back next to its field. An exchange: the customer picks the
size wanted among the shop's products of the item's category (one out of stock shown, not
selectable), forgets it first and is told next to the line, then gets the replacement and
what is left to pay. axe-core finds no serious violation on the page with the form, with
its problems, and on the answers. Screenshots go to test-artefacts/portal/."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.orders import Order
from oms.services.carriers import import_rate_cards
from oms.web.pages import PageClock
from tests.api.exchange_support import DELIVERED_AT, add_product
from tests.api.exchange_support import delivered as delivered_order
from tests.api.support import new_tenant
from tests.browser.conftest import Served
from tests.browser.test_portal_accessibility import _violations
from tests.builders import set_stock
from tests.integration.returns_support import open_shop
from tests.integration.test_routing import RATES

NOW = DELIVERED_AT + timedelta(hours=3)  # the pages' clock: well inside the return window


@pytest.fixture(scope="module")
def page_clock() -> PageClock:
    return PageClock(now=lambda: NOW)


@pytest.fixture(scope="module")
def rates(served: Served) -> None:
    import_rate_cards(uow_factory=served.uow, principal=None, text=RATES, fmt="yaml")


def _slug(uow: SqlUnitOfWorkFactory, tenant_id: Any) -> str:
    with uow(readonly=True) as read:
        found = read.tenants.get(tenant_id)
    assert found is not None
    return found.slug


@pytest.fixture(scope="module")
def delivered(served: Served, rates: None) -> tuple[str, Order]:
    """A shop's order of two Z, shipped and delivered: (the shop's slug, the order)."""
    tenant = new_tenant(served.uow, "Return Form Shop")
    open_shop(served.uow, tenant.id)
    order = delivered_order(served.uow, tenant.id, ("Z", 2))
    return _slug(served.uow, tenant.id), order


@pytest.fixture(scope="module")
def delivered_tee(served: Served, rates: None) -> tuple[str, Order]:
    """A shop of T-shirts S, M, L (none left) and XL, one category; an order of one M,
    shipped and delivered: (the shop's slug, the order)."""
    tenant = new_tenant(served.uow, "Exchange Form Shop")
    open_shop(served.uow, tenant.id)
    for size, price in {"S": "20.00", "M": "20.00", "L": "20.00", "XL": "25.00"}.items():
        add_product(served.uow, tenant.id, f"TEE-{size}", price, "tees")
        set_stock(served.uow, tenant.id, f"TEE-{size}", "NEAR", 0 if size == "L" else 5)
    order = delivered_order(served.uow, tenant.id, ("TEE-M", 1))
    return _slug(served.uow, tenant.id), order


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


def test_a_customer_asks_for_another_size_from_the_status_page(
    page: Any, delivered_tee: tuple[str, Order], artefacts: Path
) -> None:
    slug, order = delivered_tee
    page.goto(f"/status/{slug}?number={order.number}&email=erika%40example.com")
    page.get_by_role("heading", name="Send something back").wait_for()
    instead = page.get_by_label("Instead, send me (for an exchange)")
    assert instead.locator("option[value='TEE-L']").is_disabled()  # out of stock
    assert (
        instead.locator("option[value='TEE-L']").inner_text() == "Tee L, 20.00 EUR (out of stock)"
    )
    assert _violations(page) == []
    page.screenshot(path=str(artefacts / "status-exchange-form.png"), full_page=True)

    page.get_by_label("How many to send back").select_option("1")
    page.get_by_label("Why").select_option("wrong_size")
    page.get_by_label("An exchange for what I chose above").check()
    page.get_by_role("button", name="Ask for a return").click()
    problem = page.locator("#exchange-1-error")
    problem.wait_for()
    assert problem.inner_text() == "Choose what you would like instead"
    assert instead.get_attribute("aria-invalid") == "true"
    assert page.get_by_label("An exchange for what I chose above").is_checked()
    assert _violations(page) == []
    page.screenshot(path=str(artefacts / "status-exchange-form-problem.png"), full_page=True)

    instead.select_option("TEE-XL")
    page.get_by_role("button", name="Ask for a return").click()
    page.get_by_role("heading", name="We have your exchange request").wait_for()
    sent = page.get_by_role("region", name="What we send you instead")
    assert sent.get_by_role("listitem").first.inner_text() == "1 \N{MULTIPLICATION SIGN} Tee XL"
    assert "The difference of 5.00 EUR is still to pay" in sent.inner_text()
    assert _violations(page) == []
    page.screenshot(path=str(artefacts / "status-exchange-requested.png"), full_page=True)
