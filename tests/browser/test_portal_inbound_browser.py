"""The inbound screens in a real browser: operator staff opens a merchant's ASN from the
inbound list and receives it by typing scans into the autofocused field and pressing Enter,
as a keyboard-wedge scanner does (an unknown SKU shows the refusal, the field keeps the
focus), then closes it and reads the variance table. axe-core finds no serious or critical
violation on the inbound pages (shipments, the receiving screen, purchase orders,
transfers, cycle counts, billing). Screenshots go to test-artefacts/portal/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oms.domain.ids import new_id
from oms.domain.users import Role, User
from tests.api.portal_support import PASSWORD, new_user
from tests.api.support import ApiTenant, create_product, new_operator_headers, new_tenant
from tests.browser.conftest import Served
from tests.browser.test_portal_accessibility import _violations

FIELD = "Scan an item (SKU, then Enter)"


@pytest.fixture(scope="module")
def shop(served: Served) -> ApiTenant:
    """A merchant granted an operator warehouse, with two products."""
    operator = new_operator_headers(served.uow)
    made = served.http.post(
        "/v1/locations", headers=operator, json={"code": "3PL-1", "name": "3PL"}
    )
    assert made.status_code == 201, made.text
    shop = new_tenant(served.uow, "Browser Inbound Shop")
    granted = served.http.post(
        "/v1/locations/3PL-1/grants", headers=operator, json={"tenant_id": str(shop.id)}
    )
    assert granted.status_code == 204, granted.text
    create_product(served.http, shop, "ALPHA", name="Alpha tee")  # type: ignore[arg-type]
    create_product(served.http, shop, "BRAVO", name="Bravo cap")  # type: ignore[arg-type]
    return shop


def _announce(served: Served, shop: ApiTenant) -> dict[str, Any]:
    answer = served.http.post(
        "/v1/inbound-shipments",
        headers=shop.headers,
        json={
            "location": "3PL-1",
            "reference": f"ASN-{new_id().hex[-6:]}",
            "lines": [
                {"sku": "ALPHA", "expected_quantity": 2},
                {"sku": "BRAVO", "expected_quantity": 1},
            ],
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


def _focused(page: Any) -> bool:
    return bool(page.get_by_label(FIELD).evaluate("e => e === document.activeElement"))


def test_staff_receives_an_asn_by_typing_scans_and_closes_it(
    browser: Any, served: Served, shop: ApiTenant, artefacts: Path
) -> None:
    asn = _announce(served, shop)
    context = browser.new_context(base_url=served.url, viewport={"width": 1024, "height": 768})
    page = context.new_page()
    _sign_in(page, new_user(served.uow, Role.OPERATOR_STAFF))

    page.get_by_role("link", name="Inbound", exact=True).click()
    page.get_by_role("link", name=asn["reference"]).click()
    page.get_by_role("heading", name=f"Receive {asn['reference']}").wait_for()
    assert _focused(page)
    _scan(page, "ALPHA")
    page.get_by_text("1 of 2 received").wait_for()
    _scan(page, "NOPE")
    page.get_by_text("Refused: NOPE").wait_for()
    page.screenshot(path=artefacts / "inbound-scan-refused.png", full_page=True)
    assert _focused(page)
    _scan(page, "ALPHA")
    page.get_by_text("2 of 2 received, line complete").wait_for()
    _scan(page, "ALPHA")
    page.get_by_text("3 of 2 received, over by 1").wait_for()
    page.screenshot(path=artefacts / "inbound-receiving.png", full_page=True)
    page.get_by_role("button", name="Close the shipment").click()
    page.get_by_role("heading", name="Variance").wait_for()
    page.screenshot(path=artefacts / "inbound-variance.png", full_page=True)

    rows = page.locator("#variance-table tbody tr").all_inner_texts()
    assert [row.split("\t") for row in rows] == [
        ["ALPHA", "2", "3", "0", "+1", "over"],
        ["BRAVO", "1", "0", "0", "-1", "short"],
    ]
    shown = served.http.get(f"/v1/inbound-shipments/{asn['id']}", headers=shop.headers).json()
    assert shown["status"] == "closed"
    context.close()


@pytest.mark.parametrize(
    "where",
    [
        "/app/inbound/shipments",
        "receiving",
        "/app/inbound/purchase-orders",
        "/app/inbound/transfers",
        "/app/inbound/counts",
        "/app/inbound/billing?period=2026-11",
    ],
)
def test_an_inbound_page_has_no_serious_accessibility_violation(
    browser: Any, served: Served, shop: ApiTenant, where: str
) -> None:
    asn = _announce(served, shop)
    # CSP is bypassed only so the test can inject axe.
    context = browser.new_context(base_url=served.url, bypass_csp=True)
    page = context.new_page()
    _sign_in(page, new_user(served.uow, Role.OPERATOR_STAFF))
    if where == "receiving":
        page.goto(f"/app/inbound/{shop.id}/shipments/{asn['id']}")
        _scan(page, "ALPHA")
        page.get_by_text("1 of 2 received").wait_for()
    else:
        page.goto(where)

    found = _violations(page)
    context.close()
    assert found == []


def test_a_merchant_announces_a_shipment_in_the_browser_and_the_form_passes_axe(
    browser: Any, served: Served, shop: ApiTenant
) -> None:
    context = browser.new_context(base_url=served.url, bypass_csp=True)
    page = context.new_page()
    _sign_in(page, new_user(served.uow, Role.MERCHANT_ADMIN, shop.id))
    page.goto("/app/inbound/shipments")
    page.get_by_role("link", name="Announce a shipment").click()
    page.get_by_label("Arriving at").select_option("3PL-1")
    found = _violations(page)
    page.get_by_label("Reference", exact=True).fill("ASN-BROWSER")
    page.get_by_label("Lines").fill("ALPHA, 4\nBRAVO, 1")
    page.get_by_role("button", name="Announce").click()
    page.get_by_text("ASN-BROWSER").first.wait_for()
    context.close()

    assert found == []
    listed = served.http.get("/v1/inbound-shipments", headers=shop.headers).json()["items"]
    [made] = [s for s in listed if s["reference"] == "ASN-BROWSER"]
    assert {ln["sku"]: ln["expected"] for ln in made["lines"]} == {"ALPHA": 4, "BRAVO": 1}
