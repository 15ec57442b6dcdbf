"""The portal's inventory and catalogue pages over HTTP: stock per SKU and location with
low stock highlighted, adjustments with a reason landing in the ledger under the user,
products edited and archived, locations listed; each scoped to the viewer's tenant,
changes refused to a viewer and without the session's CSRF token."""

from __future__ import annotations

from typing import Any

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.users import Role, User
from tests.api.order_support import stock_shop
from tests.api.portal_pages import read
from tests.api.portal_support import csrf_of, new_user, sign_in
from tests.api.support import ApiTenant, TestClient, create_product

STOCK = "/app/inventory"


@pytest.fixture
def shop(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    return stock_shop(client, tenant)


@pytest.fixture
def admin(api_uow: SqlUnitOfWorkFactory, shop: ApiTenant) -> User:
    return new_user(api_uow, Role.MERCHANT_ADMIN, shop.id)


def _post(client: TestClient, page: str, action: str, **data: str) -> Any:
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def _rows(client: TestClient) -> dict[str, list[str]]:
    """The stock table by SKU (one location per SKU here), with each row's class last."""
    page = read(client.get(STOCK).text)
    rows = page.tables["stock"][1:]
    return {
        row[0]: [*row[1:], cls]
        for row, cls in zip(rows, page.row_classes["stock"][1:], strict=True)
    }


def _api_stock(client: TestClient, shop: ApiTenant, sku: str) -> dict[str, Any]:
    found: dict[str, Any] = client.get(f"/v1/inventory/{sku}", headers=shop.headers).json()
    return found


def test_stock_is_listed_per_sku_and_location_with_low_stock_marked(
    client: TestClient, admin: User, shop: ApiTenant
) -> None:
    sign_in(client, admin)

    raised = _post(
        client,
        STOCK,
        f"{STOCK}/adjust",
        sku="MUG",
        location="WH",
        mode="delta",
        quantity="0",
        safety_stock="10",
        reason="keep ten back",
    )
    rows = _rows(client)

    assert raised.status_code == 303
    assert rows["TEE"] == ["Product TEE", "WH", "10", "0", "0", "10", "ok", ""]
    assert rows["MUG"] == ["Product MUG", "WH", "10", "0", "10", "0", "low", "low"]


def test_an_adjustment_with_a_reason_lands_in_the_ledger_under_the_user(
    client: TestClient, admin: User, shop: ApiTenant
) -> None:
    sign_in(client, admin)

    adjusted = _post(
        client,
        STOCK,
        f"{STOCK}/adjust",
        sku="TEE",
        location="WH",
        mode="delta",
        quantity="-3",
        reason="two torn, one lost",
    )
    counted = _post(
        client,
        STOCK,
        f"{STOCK}/adjust",
        sku="TEE",
        location="WH",
        mode="set",
        quantity="5",
        reason="cycle count",
    )
    ledger = read(client.get(counted.headers["location"]).text)

    assert adjusted.status_code == counted.status_code == 303
    assert _api_stock(client, shop, "TEE")["on_hand"] == 5
    rows = ledger.tables["ledger"][1:]
    assert [(r[3], r[4], r[5]) for r in rows[-2:]] == [
        ("-3", "7", "two torn, one lost"),
        ("-2", "5", "cycle count"),
    ]
    assert rows[-1][7] == f"user:{admin.id}"
    assert "Stock of TEE at WH adjusted" in ledger.text


def test_an_adjustment_without_a_reason_or_for_an_unknown_sku_is_refused(
    client: TestClient, admin: User, shop: ApiTenant
) -> None:
    sign_in(client, admin)

    no_reason = _post(
        client, STOCK, f"{STOCK}/adjust", sku="TEE", location="WH", quantity="1", reason=""
    )
    unknown = _post(
        client, STOCK, f"{STOCK}/adjust", sku="NOPE", location="WH", quantity="1", reason="x"
    )

    assert no_reason.status_code == 422
    assert "#/reason" in read(no_reason.text).alerts[0]
    assert unknown.status_code == 422
    assert "no product with SKU 'NOPE'" in read(unknown.text).alerts[0]
    assert _api_stock(client, shop, "TEE")["on_hand"] == 10


def test_a_viewer_sees_stock_but_cannot_adjust_it(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, shop: ApiTenant
) -> None:
    sign_in(client, new_user(api_uow, Role.MERCHANT_VIEWER, shop.id))
    [product] = [
        p
        for p in client.get("/v1/products", headers=shop.headers).json()["items"]
        if p["sku"] == "TEE"
    ]

    page = read(client.get(STOCK).text)
    refused = _post(
        client, STOCK, f"{STOCK}/adjust", sku="TEE", location="WH", quantity="5", reason="x"
    )
    edit = _post(
        client,
        STOCK,
        f"/app/catalogue/products/{product['id']}",
        name="Renamed",
        price="1.00",
    )
    archive = _post(client, STOCK, f"/app/catalogue/products/{product['id']}/archive")

    assert "TEE" in [row[0] for row in page.tables["stock"]]
    assert f"{STOCK}/adjust" not in page.actions
    assert (refused.status_code, edit.status_code, archive.status_code) == (403, 403, 403)
    assert _api_stock(client, shop, "TEE")["on_hand"] == 10


def test_a_post_without_the_csrf_token_is_refused(
    client: TestClient, admin: User, shop: ApiTenant
) -> None:
    sign_in(client, admin)

    answer = client.post(
        f"{STOCK}/adjust",
        data={"sku": "TEE", "location": "WH", "quantity": "5", "reason": "x"},
        follow_redirects=False,
    )

    assert answer.status_code == 403
    assert _api_stock(client, shop, "TEE")["on_hand"] == 10


def test_another_tenants_stock_and_products_are_not_found(
    client: TestClient, admin: User, other_tenant: ApiTenant
) -> None:
    theirs = create_product(client, other_tenant, "THEIRS-ONLY")
    sign_in(client, admin)

    ledger = client.get(f"{STOCK}/ledger", params={"sku": "THEIRS-ONLY"})
    product = client.get(f"/app/catalogue/products/{theirs['id']}")
    archive = _post(client, STOCK, f"/app/catalogue/products/{theirs['id']}/archive")
    adjust = _post(
        client, STOCK, f"{STOCK}/adjust", sku="THEIRS-ONLY", location="WH", quantity="1", reason="x"
    )

    assert (ledger.status_code, product.status_code, archive.status_code) == (404, 404, 404)
    assert adjust.status_code == 422
    assert "THEIRS-ONLY" not in [r[0] for r in read(client.get(STOCK).text).tables["stock"]]
    still = client.get(f"/v1/products/{theirs['id']}", headers=other_tenant.headers).json()
    assert still["archived_at"] is None


def test_an_admin_edits_and_archives_a_product(
    client: TestClient, admin: User, shop: ApiTenant
) -> None:
    sign_in(client, admin)
    listed = read(client.get("/app/catalogue/products").text).tables["products"]
    [product] = [
        p
        for p in client.get("/v1/products", headers=shop.headers).json()["items"]
        if p["sku"] == "MUG"
    ]
    page = f"/app/catalogue/products/{product['id']}"

    saved = _post(
        client, page, page, name="Big mug", price="7.50", category="kitchen", weight_grams="400"
    )
    bad = _post(client, page, page, name="Big mug", price="7.505", weight_grams="400")
    archived = _post(client, page, f"{page}/archive")

    assert [row[0] for row in listed[1:]] == ["MUG", "TEE"]
    assert saved.status_code == 303
    assert bad.status_code == 422
    assert "#/price" in read(bad.text).alerts[0]
    assert archived.status_code == 303
    api = client.get(f"/v1/products/{product['id']}", headers=shop.headers).json()
    assert (api["name"], api["price"], api["category"], api["weight_grams"]) == (
        "Big mug",
        "7.50",
        "kitchen",
        400,
    )
    assert api["archived_at"] is not None
    on_sale = read(client.get("/app/catalogue/products").text).tables["products"][1:]
    gone = read(client.get("/app/catalogue/products?archived=1").text).tables["products"][1:]
    assert [row[0] for row in on_sale] == ["TEE"]
    assert [row[:4] for row in gone] == [["MUG", "Big mug", "physical", "7.50 EUR"]]


def test_locations_are_listed(client: TestClient, admin: User) -> None:
    sign_in(client, admin)

    rows = read(client.get("/app/catalogue/locations").text).tables["locations"][1:]

    assert [row[:2] for row in rows] == [["WH", "Location WH"]]


def test_an_operator_looking_at_all_tenants_is_asked_to_pick_one(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, shop: ApiTenant
) -> None:
    sign_in(client, new_user(api_uow, Role.OPERATOR_ADMIN))

    everyone = client.get(STOCK).text
    adjusted = _post(
        client, STOCK, f"{STOCK}/adjust", sku="TEE", location="WH", quantity="5", reason="x"
    )
    created = _post(client, STOCK, "/app/settings/webhooks", url="https://93.184.215.14/hooks")
    _post(client, STOCK, "/app/tenant", tenant=str(shop.id), next=STOCK)
    picked = read(client.get(STOCK).text)

    assert "Pick the tenant in the switcher" in everyone
    assert adjusted.status_code == 200
    assert "Pick the tenant in the switcher" in created.text
    assert _api_stock(client, shop, "TEE")["on_hand"] == 10
    assert [row[0] for row in picked.tables["stock"][1:]] == ["MUG", "TEE"]
