"""Discount codes over HTTP: defining them, and orders that use them or are refused for them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.api.order_support import PAID, VALID_ADDRESS, stock_shop
from tests.api.support import ApiTenant, TestClient, assert_problem, order_body, walk_pages

# Far from any day the suite runs on: a code not started yet, and one long expired.
TOMORROW = datetime(2999, 1, 1, tzinfo=UTC).isoformat()
YESTERDAY = datetime(2000, 1, 1, tzinfo=UTC).isoformat()


@pytest.fixture
def shop(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    return stock_shop(client, tenant)


def _define(client: TestClient, tenant: ApiTenant, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/discount-codes", headers=tenant.headers, json=body)
    assert response.status_code == 201, response.text
    code: dict[str, Any] = response.json()
    return code


def _order_with_codes(
    client: TestClient, tenant: ApiTenant, codes: list[str], *, units: int = 2, **fields: Any
) -> Any:
    body = order_body(
        ("TEE", units),
        shipping_address=VALID_ADDRESS,
        payment=PAID,
        discount_codes=codes,
        **fields,
    )
    return client.post("/v1/orders", headers=tenant.headers, json=body)


def _times_used(client: TestClient, tenant: ApiTenant) -> dict[str, int]:
    codes = client.get("/v1/discount-codes", headers=tenant.headers).json()["items"]
    return {c["code"]: c["times_used"] for c in codes}


def test_a_code_is_defined_upper_case_and_can_be_read_back(
    client: TestClient, tenant: ApiTenant
) -> None:
    response = client.post(
        "/v1/discount-codes",
        headers=tenant.headers,
        json={"code": " summer-10 ", "kind": "percentage", "value": "10", "usage_limit": 5},
    )

    assert response.status_code == 201, response.text
    code = response.json()
    assert response.headers["location"] == f"/v1/discount-codes/{code['id']}"
    assert {k: code[k] for k in ("code", "kind", "value", "usage_limit", "times_used")} == {
        "code": "SUMMER-10",
        "kind": "percentage",
        "value": "10",
        "usage_limit": 5,
        "times_used": 0,
    }
    assert code["active"] is True
    assert client.get(response.headers["location"], headers=tenant.headers).json() == code


def test_codes_are_listed_in_code_order_page_by_page(client: TestClient, tenant: ApiTenant) -> None:
    for name in ("ZETA", "ALPHA", "MID", "BETA"):
        _define(client, tenant, code=name, kind="free_shipping")

    pages = walk_pages(client, "/v1/discount-codes", tenant.headers, limit=3)

    assert [[c["code"] for c in page] for page in pages] == [["ALPHA", "BETA", "MID"], ["ZETA"]]


def test_a_code_defined_twice_in_any_case_is_409(client: TestClient, tenant: ApiTenant) -> None:
    _define(client, tenant, code="SAVE10", kind="percentage", value="10")

    response = client.post(
        "/v1/discount-codes",
        headers=tenant.headers,
        json={"code": "save10", "kind": "fixed_amount", "value": "5", "currency": "EUR"},
    )

    assert_problem(response, 409, "already_exists")
    assert [
        c["kind"] for c in client.get("/v1/discount-codes", headers=tenant.headers).json()["items"]
    ] == ["percentage"]


def test_another_tenant_may_define_the_same_code(
    client: TestClient, tenant: ApiTenant, other_tenant: ApiTenant
) -> None:
    mine = _define(client, tenant, code="SAVE10", kind="percentage", value="10")

    theirs = _define(client, other_tenant, code="SAVE10", kind="percentage", value="20")

    assert theirs["id"] != mine["id"]
    response = client.get(f"/v1/discount-codes/{mine['id']}", headers=other_tenant.headers)
    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize(
    ("body", "code", "pointers"),
    [
        ({"code": "P", "kind": "percentage", "value": "0"}, "invalid_request", ["#/value"]),
        ({"code": "P", "kind": "percentage", "value": "101"}, "invalid_request", ["#/value"]),
        ({"code": "F", "kind": "fixed_amount", "value": "5"}, "invalid_request", ["#/currency"]),
        (
            {"code": "F", "kind": "fixed_amount", "value": "5.001", "currency": "EUR"},
            "invalid_request",
            ["#/value"],
        ),
        ({"code": "S", "kind": "free_shipping", "value": "3"}, "invalid_request", ["#/value"]),
        (
            {"code": "S", "kind": "free_shipping", "currency": "EUR"},
            "invalid_request",
            ["#/currency"],
        ),
        (
            {
                "code": "D",
                "kind": "percentage",
                "value": "5",
                "starts_at": TOMORROW,
                "ends_at": YESTERDAY,
            },
            "invalid_request",
            ["#/ends_at"],
        ),
        (
            {"code": "D", "kind": "percentage", "value": "5", "ends_at": "2030-01-01T00:00:00"},
            "validation_failed",  # every time the API takes needs an offset (UtcTime)
            ["#/ends_at"],
        ),
        (
            {"code": "two words", "kind": "percentage", "value": "5"},
            "validation_failed",
            ["#/code"],
        ),
        ({"code": "K", "kind": "buy_one_get_one"}, "validation_failed", ["#/kind"]),
        (
            {"code": "U", "kind": "percentage", "value": "5", "usage_limit": 0},
            "validation_failed",
            ["#/usage_limit"],
        ),
        (
            {"code": "X", "kind": "percentage", "value": "5", "stackable": True},
            "validation_failed",
            ["#/stackable"],
        ),
    ],
    ids=[
        "zero percent",
        "over 100 percent",
        "fixed amount without currency",
        "fixed amount with three decimals",
        "free shipping with a value",
        "free shipping with a currency",
        "ends before it starts",
        "end without time zone",
        "code with a space",
        "unknown kind",
        "usage limit 0",
        "unknown field",
    ],
)
def test_an_inconsistent_definition_is_refused_with_pointers(
    client: TestClient, tenant: ApiTenant, body: dict[str, Any], code: str, pointers: list[str]
) -> None:
    response = client.post("/v1/discount-codes", headers=tenant.headers, json=body)

    problem = assert_problem(response, 422, code)
    assert [e["pointer"] for e in problem["errors"]] == pointers
    assert client.get("/v1/discount-codes", headers=tenant.headers).json()["items"] == []


def test_an_order_with_valid_codes_is_discounted_and_uses_them(
    client: TestClient, shop: ApiTenant
) -> None:
    _define(client, shop, code="SAVE10", kind="percentage", value="10")
    _define(client, shop, code="FIVE", kind="fixed_amount", value="5", currency="EUR")

    response = _order_with_codes(client, shop, ["save10", " Five "])

    assert response.status_code == 201, response.text
    order = response.json()
    assert order["discount_codes"] == ["SAVE10", "FIVE"]
    assert (order["totals"]["subtotal"], order["totals"]["discount_total"], order["total"]) == (
        "100.00",
        "15.00",
        "85.00",
    )
    assert order["timeline"][0]["data"]["discount_codes"] == ["SAVE10", "FIVE"]
    assert _times_used(client, shop) == {"FIVE": 1, "SAVE10": 1}


@pytest.mark.parametrize(
    ("definition", "given", "why"),
    [
        (None, "NOPE", "does not exist"),
        ({"kind": "percentage", "value": "10", "active": False}, "CODE", "not active"),
        ({"kind": "percentage", "value": "10", "starts_at": TOMORROW}, "CODE", "not started yet"),
        ({"kind": "percentage", "value": "10", "ends_at": YESTERDAY}, "CODE", "expired"),
        (
            {"kind": "fixed_amount", "value": "5", "currency": "EUR", "min_subtotal": "500"},
            "CODE",
            "order subtotal below the minimum of 500.00 EUR",
        ),
        (
            {"kind": "fixed_amount", "value": "5", "currency": "USD"},
            "CODE",
            "only for orders in USD",
        ),
        (
            {"kind": "percentage", "value": "10", "per_customer_limit": 1},
            "CODE",
            "limited per customer, and the order has no customer email",
        ),
    ],
    ids=[
        "unknown",
        "inactive",
        "not started",
        "expired",
        "below minimum",
        "other currency",
        "per customer without email",
    ],
)
def test_an_order_with_a_code_that_does_not_apply_is_422_naming_the_code(
    client: TestClient,
    shop: ApiTenant,
    definition: dict[str, Any] | None,
    given: str,
    why: str,
) -> None:
    _define(client, shop, code="GOOD", kind="percentage", value="5")
    if definition is not None:
        _define(client, shop, code="CODE", **definition)

    response = _order_with_codes(client, shop, ["good", given.lower()])

    problem = assert_problem(response, 422, "invalid_request")
    assert given in problem["detail"]
    assert problem["codes"] == [given]
    assert problem["errors"] == [{"pointer": "#/discount_codes/1", "detail": f"{given}: {why}"}]
    assert client.get("/v1/orders", headers=shop.headers).json()["items"] == []
    assert _times_used(client, shop)["GOOD"] == 0


def test_a_code_used_up_by_one_order_is_refused_for_the_next(
    client: TestClient, shop: ApiTenant
) -> None:
    _define(
        client, shop, code="ONCE", kind="fixed_amount", value="5", currency="EUR", usage_limit=1
    )
    _define(client, shop, code="SAVE10", kind="percentage", value="10")
    first = _order_with_codes(client, shop, ["ONCE"])
    assert first.status_code == 201, first.text

    response = _order_with_codes(client, shop, ["SAVE10", "ONCE"])

    problem = assert_problem(response, 422, "invalid_request")
    assert problem["errors"] == [{"pointer": "#/discount_codes/1", "detail": "ONCE: used up"}]
    assert "ONCE" in problem["detail"]
    assert _times_used(client, shop) == {"ONCE": 1, "SAVE10": 0}
    assert [o["id"] for o in client.get("/v1/orders", headers=shop.headers).json()["items"]] == [
        first.json()["id"]
    ]


def test_a_code_over_its_per_customer_limit_is_refused_for_that_customer_only(
    client: TestClient, shop: ApiTenant
) -> None:
    _define(client, shop, code="WELCOME", kind="percentage", value="10", per_customer_limit=1)
    first = _order_with_codes(client, shop, ["WELCOME"], customer={"email": "ann@example.com"})
    assert first.status_code == 201, first.text

    again = _order_with_codes(client, shop, ["WELCOME"], customer={"email": "ANN@example.com"})
    bob = _order_with_codes(client, shop, ["WELCOME"], customer={"email": "bob@example.com"})

    problem = assert_problem(again, 422, "invalid_request")
    assert problem["errors"] == [
        {"pointer": "#/discount_codes/0", "detail": "WELCOME: already used by this customer"}
    ]
    assert bob.status_code == 201, bob.text


def test_a_code_given_twice_is_refused_at_its_second_place(
    client: TestClient, shop: ApiTenant
) -> None:
    _define(client, shop, code="SAVE10", kind="percentage", value="10")

    response = _order_with_codes(client, shop, ["SAVE10", "save10"])

    problem = assert_problem(response, 422, "invalid_request")
    assert problem["errors"] == [{"pointer": "#/discount_codes/1", "detail": "SAVE10: given twice"}]
    assert _times_used(client, shop) == {"SAVE10": 0}
