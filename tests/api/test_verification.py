"""Verification at intake over HTTP: bad contact details are accepted on hold, normalised where
possible; only a malformed request is refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.order_support import (
    PAID,
    VALID_ADDRESS,
    events_of,
    open_hold_reasons,
    stock_shop,
)
from tests.api.support import ApiTenant, TestClient, assert_problem, order_body

BOSTON = {
    "name": "Ann Smith",
    "line1": "1 Main St",
    "city": "Boston",
    "region": "MA",
    "postal_code": "02110",
    "country": "US",
}


@pytest.fixture
def shop(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    return stock_shop(client, tenant)


def _post(client: TestClient, tenant: ApiTenant, **fields: Any) -> Any:
    body = order_body(("TEE", 1), **{"payment": PAID, **fields})
    return client.post("/v1/orders", headers=tenant.headers, json=body)


@pytest.mark.parametrize(
    ("fields", "findings"),
    [
        (
            {"shipping_address": {**BOSTON, "postal_code": "0211"}},
            [("address_invalid", "#/shipping_address/postal_code")],
        ),
        (
            {"shipping_address": {**BOSTON, "region": "Atlantis"}},
            [("address_invalid", "#/shipping_address/region")],
        ),
        (
            {"shipping_address": {**BOSTON, "region": "CA"}},
            [("address_invalid", "#/shipping_address/postal_code")],
        ),
        (
            {"shipping_address": {**VALID_ADDRESS, "country": "XX"}},
            [("address_invalid", "#/shipping_address/country")],
        ),
        (
            {"shipping_address": {**VALID_ADDRESS, "line1": "   "}},
            [("address_invalid", "#/shipping_address/line1")],
        ),
        ({}, [("address_invalid", "#/shipping_address")]),
        (
            {"shipping_address": VALID_ADDRESS, "customer": {"email": "erika.example.com"}},
            [("contact_invalid", "#/customer/email")],
        ),
        (
            {"shipping_address": VALID_ADDRESS, "customer": {"phone": "12"}},
            [("contact_invalid", "#/customer/phone")],
        ),
        (
            {"shipping_address": {**VALID_ADDRESS, "phone": "call me maybe"}},
            [("contact_invalid", "#/shipping_address/phone")],
        ),
        (
            {
                "shipping_address": {**BOSTON, "postal_code": "0211"},
                "customer": {"email": "ann@", "phone": "12"},
            },
            [
                ("address_invalid", "#/shipping_address/postal_code"),
                ("contact_invalid", "#/customer/email"),
                ("contact_invalid", "#/customer/phone"),
            ],
        ),
    ],
    ids=[
        "US postal code of four digits",
        "unknown region",
        "ZIP code of another state",
        "unknown country",
        "no street line",
        "no shipping address",
        "email without @",
        "phone too short",
        "address phone not a number",
        "everything at once",
    ],
)
def test_an_order_with_bad_contact_details_is_accepted_on_hold_for_each_finding(
    client: TestClient, shop: ApiTenant, fields: dict[str, Any], findings: list[tuple[str, str]]
) -> None:
    response = _post(client, shop, **fields)

    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["status"], order["payment_status"]) == ("on_hold", "paid")
    assert order["released_at"] is None
    assert open_hold_reasons(order) == sorted({reason for reason, _ in findings})
    for reason, pointer in findings:
        [hold] = [h for h in order["holds"] if h["reason"] == reason]
        assert pointer + ": " in hold["note"], hold
    placed = events_of(client, shop, order["id"])[0]
    assert [(f["reason"], f["pointer"]) for f in placed["data"]["verification"]] == findings
    assert [e["type"] for e in events_of(client, shop, order["id"])] == [
        "order.placed",
        "payment.authorized",
        "payment.captured",
        *["hold.placed"] * len({reason for reason, _ in findings}),
    ]


def test_a_bad_postal_code_is_named_with_an_example_in_the_hold_note(
    client: TestClient, shop: ApiTenant
) -> None:
    order = _post(client, shop, shipping_address={**BOSTON, "postal_code": "0211"}).json()

    [hold] = order["holds"]
    assert hold["note"] == (
        "#/shipping_address/postal_code: '0211' is not a ZIP code of United States "
        "(for example 95014)."
    )
    assert hold["created_by"] == "system:oms"


def test_a_zip_code_of_another_state_is_held_with_a_note_naming_both(
    client: TestClient, shop: ApiTenant
) -> None:
    order = _post(client, shop, shipping_address={**BOSTON, "region": "CA"}).json()

    [hold] = order["holds"]
    assert (hold["reason"], hold["note"]) == (
        "address_invalid",
        "#/shipping_address/postal_code: ZIP code 02110 is in MA, not CA.",
    )


@pytest.mark.parametrize(
    ("customer", "address", "expected_customer", "expected_address"),
    [
        (
            {"email": "  Ann.Smith@Example.COM ", "phone": "617-253-1000"},
            {**BOSTON, "country": "us", "region": "massachusetts"},
            {"email": "ann.smith@example.com", "phone": "+16172531000"},
            {"country": "US", "region": "MA"},
        ),
        (
            {"phone": "0221 1234567"},
            {**VALID_ADDRESS, "country": "de", "phone": "+49 (221) 765 4321"},
            {"phone": "+492211234567"},
            {"country": "DE", "phone": "+492217654321"},
        ),
        (
            {"name": "  Ann   Smith "},
            {**BOSTON, "region": "us-ma", "line1": "  1   Main   St ", "postal_code": " 02110 "},
            {"name": "Ann Smith"},
            {"region": "MA", "line1": "1 Main St", "postal_code": "02110"},
        ),
    ],
    ids=["US email and phone", "German phones", "whitespace and prefixed region"],
)
def test_contact_details_are_normalised_and_a_clean_paid_order_is_released(
    client: TestClient,
    shop: ApiTenant,
    customer: dict[str, Any],
    address: dict[str, Any],
    expected_customer: dict[str, str],
    expected_address: dict[str, str],
) -> None:
    response = _post(client, shop, customer=customer, shipping_address=address)

    assert response.status_code == 201, response.text
    order = response.json()
    assert {k: order["customer"][k] for k in expected_customer} == expected_customer
    assert {k: order["shipping_address"][k] for k in expected_address} == expected_address
    assert (order["status"], order["holds"]) == ("open", [])
    assert order["released_at"] is not None
    assert order["timeline"][0]["data"]["verification"] == []


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (order_body(("TEE", 0)), "#/lines/0/quantity"),
        (order_body(("TEE", -1)), "#/lines/0/quantity"),
        (order_body(), "#/lines"),
        (order_body(("TEE", 1), colour="red"), "#/colour"),
        (order_body(("TEE", 1), customer={"mail": "a@b.de"}), "#/customer/mail"),
        (order_body(("TEE", 1), shipping_address={**BOSTON, "zip": "1"}), "#/shipping_address/zip"),
        (
            order_body(("TEE", 1), shipping_address={**BOSTON, "country": "USA"}),
            "#/shipping_address/country",
        ),
        ({"lines": [{"sku": "TEE", "quantity": 1}]}, "#/currency"),
        (order_body(("TEE", 1), payment={"captured": True}), "#/payment/gateway"),
        (order_body(("TEE", 1), discount_codes=[""]), "#/discount_codes/0"),
    ],
    ids=[
        "quantity 0",
        "negative quantity",
        "no lines",
        "unknown field",
        "unknown customer field",
        "unknown address field",
        "three-letter country",
        "no currency",
        "payment without gateway",
        "empty discount code",
    ],
)
def test_a_malformed_order_is_refused_with_422_and_nothing_is_created(
    client: TestClient, shop: ApiTenant, body: dict[str, Any], pointer: str
) -> None:
    response = client.post("/v1/orders", headers=shop.headers, json=body)

    problem = assert_problem(response, 422, "validation_failed")
    assert [e["pointer"] for e in problem["errors"]] == [pointer]
    assert client.get("/v1/orders", headers=shop.headers).json()["items"] == []
