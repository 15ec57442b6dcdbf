"""Amounts the API takes are amounts of their currency, and their currency is money.

An amount with more decimals than its currency's minor unit is refused at its field (never
rounded silently: a JPY price of "1.5" is not "2"); a code ISO 4217 lists for no currency
a shop can take (XXX, XTS, XAU...) is refused; negative zero is zero. On both databases.
"""

from __future__ import annotations

from typing import Any

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_location,
    create_product,
    new_tenant,
    order_body,
    set_on_hand,
)


@pytest.fixture
def seller(client: TestClient, api_uow: SqlUnitOfWorkFactory) -> ApiTenant:
    seller = new_tenant(api_uow)
    create_location(client, seller, "WH-1")
    create_product(client, seller, "TEE")
    create_product(client, seller, "YEN", price="1500", currency="JPY")
    set_on_hand(client, seller, "TEE", "WH-1", 10)
    set_on_hand(client, seller, "YEN", "WH-1", 10)
    return seller


PRODUCT = {"sku": "NEW", "name": "New", "price": "1.00", "currency": "EUR"}
YEN_ORDER = order_body(("YEN", 1), currency="JPY")
NOT_MONEY = ["XXX", "XTS", "XAU", "HRK"]  # no currency, testing, gold, gone (2023)


@pytest.mark.parametrize("code", NOT_MONEY)
@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("/v1/products", PRODUCT, id="product"),
        pytest.param("/v1/orders", order_body(("TEE", 1)), id="order"),
        pytest.param(
            "/v1/discount-codes",
            {"code": "TEN", "kind": "fixed_amount", "value": "10"},
            id="discount",
        ),
    ],
)
def test_a_code_of_no_currency_a_shop_can_take_is_refused(
    client: TestClient, seller: ApiTenant, path: str, body: dict[str, Any], code: str
) -> None:
    response = client.post(path, headers=seller.headers, json={**body, "currency": code})

    problem = assert_problem(response, 422)
    assert [error["pointer"] for error in problem["errors"]] == ["#/currency"]


FINER_THAN_THE_CURRENCY = [
    pytest.param(
        "/v1/products", {**PRODUCT, "currency": "JPY", "price": "1.5"}, "#/price", id="jpy-price"
    ),
    pytest.param("/v1/products", {**PRODUCT, "price": "1.005"}, "#/price", id="eur-price"),
    pytest.param(
        "/v1/products",
        {**PRODUCT, "currency": "KWD", "price": "1.0005"},
        "#/price",
        id="kwd-price",
    ),
    pytest.param(
        "/v1/orders",
        {**YEN_ORDER, "lines": [{"sku": "YEN", "quantity": 1, "unit_price": "1.5"}]},
        "#/lines/0/unit_price",
        id="line-price",
    ),
    pytest.param(
        "/v1/orders",
        {**YEN_ORDER, "lines": [{"sku": "YEN", "quantity": 1, "tax": "0.5"}]},
        "#/lines/0/tax",
        id="line-tax",
    ),
    pytest.param(
        "/v1/orders", {**YEN_ORDER, "shipping_price": "0.5"}, "#/shipping_price", id="shipping"
    ),
    pytest.param(
        "/v1/orders", {**YEN_ORDER, "shipping_tax": "0.5"}, "#/shipping_tax", id="shipping-tax"
    ),
    pytest.param(
        "/v1/orders",
        {**YEN_ORDER, "payment": {"gateway": "manual", "amount": "1500.5"}},
        "#/payment/amount",
        id="payment",
    ),
    pytest.param(
        "/v1/discount-codes",
        {"code": "YEN", "kind": "fixed_amount", "value": "1.5", "currency": "JPY"},
        "#/value",
        id="discount-value",
    ),
    pytest.param(
        "/v1/discount-codes",
        {"code": "YEN", "kind": "percentage", "value": "5", "currency": "JPY"}
        | {"min_subtotal": "1.5"},
        "#/min_subtotal",
        id="discount-minimum",
    ),
]


@pytest.mark.parametrize(("path", "body", "pointer"), FINER_THAN_THE_CURRENCY)
def test_an_amount_finer_than_its_currency_is_refused_at_its_field(
    client: TestClient, seller: ApiTenant, path: str, body: dict[str, Any], pointer: str
) -> None:
    response = client.post(path, headers=seller.headers, json=body)

    problem = assert_problem(response, 422)
    assert [error["pointer"] for error in problem["errors"]] == [pointer]


def test_an_edited_line_price_finer_than_the_order_currency_is_refused(
    client: TestClient, seller: ApiTenant
) -> None:
    placed = client.post("/v1/orders", headers=seller.headers, json=YEN_ORDER)
    assert placed.status_code == 201, placed.text

    response = client.patch(
        f"/v1/orders/{placed.json()['id']}",
        headers={**seller.headers, "If-Match": placed.headers["ETag"]},
        json={"lines": [{"sku": "TEE", "quantity": 1, "unit_price": "1.5"}]},
    )

    problem = assert_problem(response, 422)
    assert [error["pointer"] for error in problem["errors"]] == ["#/lines/0/unit_price"]


def test_trailing_zeros_within_the_minor_unit_are_the_same_amount(
    client: TestClient, seller: ApiTenant
) -> None:
    created = create_product(client, seller, "YEN-2", price="1500.00", currency="JPY")

    assert created["price"] == "1500"


def test_negative_zero_is_stored_and_shown_as_zero(client: TestClient, seller: ApiTenant) -> None:
    product = create_product(client, seller, "FREE", price="-0")
    placed = client.post(
        "/v1/orders",
        headers=seller.headers,
        json={
            **order_body(("FREE", 1)),
            "lines": [{"sku": "FREE", "quantity": 1, "unit_price": "-0.00", "tax": "-0"}],
            "shipping_price": "-0",
            "shipping_tax": "-0.0",
        },
    )
    assert placed.status_code == 201, placed.text
    stored = client.get(f"/v1/products/{product['id']}", headers=seller.headers).json()

    assert (product["price"], stored["price"]) == ("0.00", "0.00")
    order = placed.json()
    amounts = [order["lines"][0][name] for name in ("unit_price", "tax", "total")]
    amounts += list(order["totals"].values())
    assert not [amount for amount in amounts if amount.startswith("-")]


def test_an_edited_price_is_checked_against_the_products_currency(
    client: TestClient, seller: ApiTenant
) -> None:
    listed = client.get("/v1/products", headers=seller.headers).json()["items"]
    product = next(p for p in listed if p["sku"] == "YEN")
    answer = client.patch(
        f"/v1/products/{product['id']}", headers=seller.headers, json={"price": "1.5"}
    )
    problem = assert_problem(answer, 422)
    assert [e["pointer"] for e in problem["errors"]] == ["#/price"], problem
    stored = client.get(f"/v1/products/{product['id']}", headers=seller.headers).json()
    assert stored["price"] == "1500"
