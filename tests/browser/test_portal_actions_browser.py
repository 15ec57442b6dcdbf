"""More of the portal's actions in a real browser: a customer email sent again from the order
page; holds cancelled in bulk from the exceptions queue with the keyboard; a routing what-if
told in words; an API key made and revoked; the whole floor of an operator location and a
short pick reported. axe-core finds no serious violation on each page after the action.
Screenshots go to test-artefacts/portal/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from oms.domain.users import Role, User
from tests.api.email_support import RecordingEmails, deliver_emails
from tests.api.order_support import VALID_ADDRESS, clean_order, stock_shop
from tests.api.portal_support import PASSWORD, new_user
from tests.api.support import (
    ApiTenant,
    new_operator_headers,
    new_tenant,
    place_order,
    set_on_hand,
)
from tests.browser.conftest import Served
from tests.browser.test_portal_accessibility import _violations
from tests.mail_support import Worker

SENT_AT = Worker.CLOCK


@pytest.fixture(scope="module")
def shop(served: Served) -> ApiTenant:
    return stock_shop(served.http, new_tenant(served.uow, "Action Shop"))  # type: ignore[arg-type]


@pytest.fixture
def page(browser: Any, served: Served) -> Any:
    # CSP bypassed only so axe can be injected.
    context = browser.new_context(
        base_url=served.url, viewport={"width": 1024, "height": 768}, bypass_csp=True
    )
    opened = context.new_page()
    yield opened
    context.close()


def _sign_in(page: Any, user: User) -> None:
    page.goto("/app/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/app/dashboard")


def test_a_customer_email_is_sent_again_from_the_order_page(
    page: Any, served: Served, shop: ApiTenant, artefacts: Path
) -> None:
    sink = RecordingEmails(shop.id)
    order = clean_order(served.http, shop)  # type: ignore[arg-type]
    deliver_emails(served.uow, sink, SENT_AT)
    admin = new_user(served.uow, Role.MERCHANT_ADMIN, shop.id)
    _sign_in(page, admin)
    page.goto(f"/app/orders/{shop.id}/{order['id']}")

    page.get_by_label("Email to send again").select_option(index=0)
    page.get_by_label("Why send it again").fill("customer lost it")
    page.screenshot(path=artefacts / "order-resend.png", full_page=True)
    page.get_by_role("button", name="Send again").click()

    page.get_by_text("Email queued to be sent again.").wait_for()
    assert _violations(page) == []
    timeline = page.locator("ol.timeline").inner_text().replace("\n", " ")
    assert f"notification.resent by {admin.email}: customer lost it" in timeline
    with served.uow(readonly=True) as uow:
        [email] = [
            d
            for d in uow.deliveries.for_aggregate(shop.id, UUID(order["id"]), limit=50)
            if d.sink_kind == "email"
        ]
    assert email.next_attempt_at is not None
    deliver_emails(served.uow, sink, email.next_attempt_at)
    assert [key for _, key in sink.sent] == ["order_confirmed", "order_confirmed"]


def test_holds_orders_are_cancelled_in_bulk_from_the_keyboard(
    page: Any, served: Served, shop: ApiTenant, artefacts: Path
) -> None:
    first, second = (clean_order(served.http, shop) for _ in range(2))  # type: ignore[arg-type]
    kept = clean_order(served.http, shop)  # type: ignore[arg-type]
    admin = new_user(served.uow, Role.MERCHANT_ADMIN, shop.id)
    _sign_in(page, admin)
    page.goto("/app/exceptions")

    for order in (first, second):
        page.get_by_label(f"Order #{order['number']}", exact=True).focus()
        page.keyboard.press("Space")
    page.get_by_label("Note for the selected holds").focus()
    page.keyboard.type("duplicates")
    page.screenshot(path=artefacts / "exceptions-selected.png", full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel selected orders").focus()
    page.keyboard.press("Enter")

    page.get_by_text("2 order(s) cancelled.").wait_for()
    assert _violations(page) == []
    statuses = {
        order["id"]: served.http.get(f"/v1/orders/{order['id']}", headers=shop.headers).json()[
            "status"
        ]
        for order in (first, second, kept)
    }
    assert statuses == {first["id"]: "cancelled", second["id"]: "cancelled", kept["id"]: "on_hold"}


def test_a_what_if_run_tells_its_result_in_words(
    page: Any, served: Served, shop: ApiTenant, artefacts: Path
) -> None:
    clean_order(served.http, shop)  # type: ignore[arg-type]
    _sign_in(page, new_user(served.uow, Role.MERCHANT_ADMIN, shop.id))
    page.goto("/app/settings/routing")
    page.get_by_role("link", name="Try a change first: a what-if run").click()

    profile = page.get_by_label("Candidate profile (JSON or YAML)")
    assert '"allow_split"' in profile.input_value()
    profile.fill('{"excluded_locations": ["WH"]}')
    page.get_by_role("button", name="Run the what-if").click()

    result = page.locator("#what-if-result")
    result.wait_for()
    page.screenshot(path=artefacts / "routing-what-if.png", full_page=True)
    told = result.inner_text()
    assert "routed under both profiles" in told
    assert re.search(r"Units that would wait for stock: [1-9]\d* instead of 0\.", told), told
    assert _violations(page) == []


def test_an_api_key_is_made_shown_once_and_revoked(
    page: Any, served: Served, shop: ApiTenant, artefacts: Path
) -> None:
    _sign_in(page, new_user(served.uow, Role.MERCHANT_ADMIN, shop.id))
    page.goto("/app/settings/api-keys")

    page.get_by_label("Name of the new key").fill("Browser bridge")
    page.get_by_role("button", name="Make the key").click()
    secret = page.locator("#secret").inner_text().strip()
    page.screenshot(path=artefacts / "api-key-made.png", full_page=True)
    assert _violations(page) == []
    works = served.http.get("/v1/orders", headers={"Authorization": f"Bearer {secret}"})
    page.get_by_role("link", name="Back to the API keys").click()
    assert secret not in page.content()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"Revoke Browser bridge ({secret[:12]})").click()

    page.get_by_text("Key Browser bridge").wait_for()
    page.screenshot(path=artefacts / "api-keys.png", full_page=True)
    assert _violations(page) == []
    assert works.status_code == 200
    revoked = served.http.get("/v1/orders", headers={"Authorization": f"Bearer {secret}"})
    assert revoked.status_code == 401


def test_staff_see_the_whole_floor_and_report_a_short_pick(
    page: Any, served: Served, shop: ApiTenant, artefacts: Path
) -> None:
    http = served.http
    operator = new_operator_headers(served.uow)
    hall = http.post(
        "/v1/locations", headers=operator, json={"code": "HALL", "name": "3PL hall"}
    ).json()
    other = stock_shop(http, new_tenant(served.uow, "Second Merchant"))  # type: ignore[arg-type]
    orders = {}
    for merchant in (shop, other):
        granted = http.post(
            f"/v1/locations/{hall['id']}/grants",
            headers=operator,
            json={"tenant_id": str(merchant.id)},
        )
        assert granted.status_code == 204, granted.text
        set_on_hand(http, merchant, "TEE", "HALL", 3)  # type: ignore[arg-type]
        orders[merchant.id] = place_order(
            http,  # type: ignore[arg-type]
            merchant,
            ("TEE", 2),
            shipping_address=VALID_ADDRESS,
            payment={"gateway": "manual", "captured": True},
        )
    _sign_in(page, new_user(served.uow, Role.OPERATOR_STAFF))

    page.goto("/app/warehouse")
    page.get_by_role("link", name="HALL · 3PL hall: every merchant").click()
    floor = page.locator("#floor")
    floor.wait_for()
    page.screenshot(path=artefacts / "warehouse-floor.png", full_page=True)
    assert _violations(page) == []
    text = floor.inner_text()
    assert "Action Shop" in text
    assert "Second Merchant" in text
    page.get_by_role("link", name="Action Shop").first.click()
    page.get_by_role("button", name="Create a pick wave").click()
    number = orders[shop.id]["number"]
    page.get_by_label(f"Found of TEE for order #{number}").fill("1")
    page.screenshot(path=artefacts / "warehouse-short-pick.png", full_page=True)
    page.get_by_role("button", name="Confirm what was found").click()

    page.get_by_text("1 unit(s) short, written off and routed again").wait_for()
    assert _violations(page) == []
    events = http.get(f"/v1/orders/{orders[shop.id]['id']}/events", headers=shop.headers)
    assert "fulfillment_order.short_picked" in [e["type"] for e in events.json()["items"]]
