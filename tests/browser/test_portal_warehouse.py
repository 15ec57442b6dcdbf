"""The warehouse screens in a real browser: operator staff signs in, creates a pick wave at
a location, confirms the picks, packs a fulfilment order by typing scans into the scan
field and pressing Enter as a keyboard-wedge scanner does (one wrong scan shows the
refusal, the field keeps the focus), ships it and opens the label (a PDF). axe-core finds
no serious or critical violation on the pack screen. Screenshots go to
test-artefacts/portal/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oms.domain.users import Role, User
from tests.api.fulfilment_support import COLOGNE, add_sites
from tests.api.portal_support import PASSWORD, new_user
from tests.api.support import (
    ApiTenant,
    create_product,
    new_operator_headers,
    new_tenant,
    set_on_hand,
)
from tests.browser.conftest import Served
from tests.integration.test_routing import RATES

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
SITES = {"WH-A": ("warehouse", 50.88, 7.06, {"city": "Koeln", "postal_code": "51105"})}
BOXES = [
    {"code": "S", "length_mm": 200, "width_mm": 150, "height_mm": 100, "max_weight_grams": 5000},
]


@pytest.fixture(scope="module")
def shop(served: Served) -> ApiTenant:
    """A shop with a warehouse, box sizes, the deployment's rate cards and coffee beans."""
    http: Any = served.http
    imported = http.post(
        "/v1/carrier-services/import",
        headers=new_operator_headers(served.uow),
        json={"format": "yaml", "document": RATES},
    )
    assert imported.status_code == 200, imported.text
    shop = new_tenant(served.uow, "Browser Roastery")
    add_sites(http, shop, SITES, BOXES)
    create_product(http, shop, "BEANS", name="Espresso beans", weight_grams=1000)
    set_on_hand(http, shop, "BEANS", "WH-A", 20)
    return shop


def _order(served: Served, shop: ApiTenant) -> dict[str, Any]:
    answer = served.http.post(
        "/v1/orders",
        headers=shop.headers,
        json={
            "currency": "EUR",
            "lines": [{"sku": "BEANS", "quantity": 2}],
            "customer": {"email": "erika@example.com", "name": "Erika Mustermann"},
            "shipping_address": COLOGNE,
            "payment": {"gateway": "test", "token": "tok_approve"},
        },
    )
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _sign_in(page: Any, user: User) -> None:
    page.goto("/app/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/app/dashboard")


def _scan(page: Any, code: str) -> None:
    """Type the code into the focused field and press Enter, as a wedge scanner does."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def test_staff_packs_an_order_by_scanning_ships_it_and_opens_the_label(
    browser: Any, served: Served, shop: ApiTenant, artefacts: Path
) -> None:
    order = _order(served, shop)
    context = browser.new_context(base_url=served.url, viewport={"width": 1024, "height": 768})
    page = context.new_page()
    _sign_in(page, new_user(served.uow, Role.OPERATOR_STAFF))

    page.get_by_role("link", name="Warehouse").click()
    page.get_by_role("link", name="WH-A · Site WH-A").click()
    page.get_by_text("Waiting for a pick wave").wait_for()
    page.screenshot(path=artefacts / "warehouse-queue.png", full_page=True)
    page.get_by_role("button", name="Create a pick wave").click()
    page.get_by_role("heading", name="Pick list, WH-A").wait_for()
    page.screenshot(path=artefacts / "warehouse-pick-list.png", full_page=True)
    page.get_by_role("button", name="Confirm: everything was picked").click()
    page.get_by_text("Picks confirmed").wait_for()
    page.get_by_role("link", name=f"Pack #{order['number']}").click()
    page.get_by_role("heading", name=f"Pack order #{order['number']}").wait_for()

    field = page.get_by_label("Scan an item (barcode or SKU, then Enter)")
    assert field.evaluate("e => e === document.activeElement")
    _scan(page, "SOCKS")
    page.get_by_text("Refused: SOCKS").wait_for()
    assert "not an item of this fulfilment order" in page.locator("#scan-result").inner_text()
    page.screenshot(path=artefacts / "warehouse-scan-refused.png", full_page=True)
    assert page.get_by_label("Scan an item (barcode or SKU, then Enter)").evaluate(
        "e => e === document.activeElement"
    )
    _scan(page, "BEANS")
    page.get_by_text("1 more to scan").wait_for()
    _scan(page, "BEANS")
    page.get_by_text("line complete").wait_for()
    page.screenshot(path=artefacts / "warehouse-pack.png", full_page=True)
    page.get_by_label("Box").select_option("S")
    page.get_by_role("button", name="Pack (2 items)").click()
    page.get_by_text("Packed.").wait_for()
    page.get_by_role("button", name="Ship: buy the label").click()
    page.get_by_text("Shipped.").wait_for()
    page.screenshot(path=artefacts / "warehouse-shipped.png", full_page=True)

    label = page.get_by_role("link", name="Label")
    href = label.get_attribute("href")
    opened = page.request.get(href)
    assert opened.status == 200
    assert opened.headers["content-type"] == "application/pdf"
    assert opened.body().startswith(b"%PDF")
    fo = served.http.get(
        f"/v1/orders/{order['id']}/fulfillment-orders", headers=shop.headers
    ).json()["items"][0]
    assert fo["status"] == "shipped"
    context.close()


def test_the_pack_screen_has_no_serious_accessibility_violation(
    browser: Any, served: Served, shop: ApiTenant
) -> None:
    order = _order(served, shop)
    wave = served.http.post(
        "/v1/locations/WH-A/pick-waves", headers=shop.headers, json={"max_orders": 10}
    ).json()
    served.http.post(f"/v1/pick-waves/{wave['id']}/confirm", headers=shop.headers)
    fo = served.http.get(
        f"/v1/orders/{order['id']}/fulfillment-orders", headers=shop.headers
    ).json()["items"][0]
    # CSP is bypassed only so the test can inject axe.
    context = browser.new_context(base_url=served.url, bypass_csp=True)
    page = context.new_page()
    _sign_in(page, new_user(served.uow, Role.OPERATOR_STAFF))
    page.goto(f"/app/warehouse/{shop.id}/fulfilment/{fo['id']}")
    _scan(page, "SOCKS")
    page.get_by_text("Refused: SOCKS").wait_for()

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
    context.close()
    assert list(found) == []
