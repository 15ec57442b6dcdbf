"""The portal in a real browser: sign in, find an order by email, release its hold; a
merchant user opening another tenant's order by URL gets the 404 page; a POST without the
CSRF token is refused; repeated wrong passwords lock the account. Each page is saved as a
screenshot under test-artefacts/portal/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oms.domain.users import MAX_FAILED_LOGINS, Role, User
from tests.api.order_support import clean_order, stock_shop
from tests.api.portal_support import PASSWORD, new_user
from tests.api.support import ApiTenant, new_tenant
from tests.browser.conftest import Served


@pytest.fixture(scope="module")
def shop(served: Served) -> ApiTenant:
    return stock_shop(served.http, new_tenant(served.uow, "Browser Shop"))  # type: ignore[arg-type]


@pytest.fixture
def page(browser: Any, served: Served) -> Any:
    context = browser.new_context(base_url=served.url, viewport={"width": 1024, "height": 768})
    opened = context.new_page()
    yield opened
    context.close()


def _sign_in(page: Any, user: User, password: str = PASSWORD) -> None:
    page.goto("/app/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_merchant_finds_an_order_by_email_and_releases_its_hold(
    page: Any, served: Served, shop: ApiTenant, artefacts: Path
) -> None:
    order = clean_order(
        served.http,  # type: ignore[arg-type]
        shop,
        customer={"email": "ada.browser@example.com", "name": "Ada Browser"},
    )
    admin = new_user(served.uow, Role.MERCHANT_ADMIN, shop.id)

    page.goto("/app/login")
    page.screenshot(path=artefacts / "login.png", full_page=True)
    _sign_in(page, admin)
    page.wait_for_url("**/app/dashboard")
    page.goto("/app/orders")
    page.get_by_label("Find an order").fill("ada.browser@example.com")
    page.get_by_role("button", name="Search").click()
    link = page.get_by_role("link", name=f"#{order['number']}")
    link.wait_for()
    page.screenshot(path=artefacts / "orders.png", full_page=True)
    link.click()
    page.wait_for_url(f"**/app/orders/{shop.id}/{order['id']}")
    page.screenshot(path=artefacts / "order.png", full_page=True)
    page.get_by_label("Note for releasing this hold").fill("paid by bank transfer")
    page.get_by_role("button", name="Release hold").click()

    page.get_by_text("Hold released.").wait_for()
    timeline = page.locator("ol.timeline").inner_text()
    assert f"by {admin.email}: paid by bank transfer" in timeline.replace("\n", " ")
    page.goto("/app/exceptions")
    page.screenshot(path=artefacts / "exceptions.png", full_page=True)


def test_a_merchant_user_gets_the_404_page_for_another_tenants_order(
    page: Any, served: Served, shop: ApiTenant, artefacts: Path
) -> None:
    other = stock_shop(served.http, new_tenant(served.uow, "Other Shop"))  # type: ignore[arg-type]
    theirs = clean_order(served.http, other)  # type: ignore[arg-type]
    _sign_in(page, new_user(served.uow, Role.MERCHANT_VIEWER, shop.id))
    page.wait_for_url("**/app/dashboard")

    answer = page.goto(f"/app/orders/{other.id}/{theirs['id']}")

    assert answer.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    page.screenshot(path=artefacts / "not-found.png", full_page=True)


def test_a_post_without_the_csrf_token_is_refused(
    page: Any, served: Served, shop: ApiTenant, artefacts: Path
) -> None:
    order = clean_order(served.http, shop)  # type: ignore[arg-type]
    _sign_in(page, new_user(served.uow, Role.MERCHANT_ADMIN, shop.id))
    page.wait_for_url("**/app/dashboard")
    page.goto(f"/app/orders/{shop.id}/{order['id']}")

    # The cancel form, sent by the browser with its session cookie but without the token.
    page.locator("form[action$='/cancel'] input[name=csrf_token]").evaluate("e => e.remove()")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_response(lambda r: r.url.endswith("/cancel")) as sent:
        page.get_by_role("button", name="Cancel order").click()

    assert sent.value.status == 403
    page.get_by_role("heading", name="Form expired").wait_for()
    page.screenshot(path=artefacts / "csrf-refused.png", full_page=True)
    status = served.http.get(f"/v1/orders/{order['id']}", headers=shop.headers).json()["status"]
    assert status != "cancelled"


def test_repeated_wrong_passwords_lock_the_account(
    page: Any, served: Served, shop: ApiTenant, artefacts: Path
) -> None:
    user = new_user(served.uow, Role.OPERATOR_STAFF)
    for _ in range(MAX_FAILED_LOGINS):
        _sign_in(page, user, "not the password")
        page.get_by_role("alert").wait_for()

    _sign_in(page, user)

    page.get_by_role("alert").wait_for()
    assert "/app/login" in page.url
    assert "locked" in page.get_by_role("alert").inner_text()
    page.screenshot(path=artefacts / "locked.png", full_page=True)
