"""Customers and risk rules over HTTP: order history by email, and rules that send orders to
fraud review."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.order_support import clean_order, open_hold_reasons, paid_order, stock_shop
from tests.api.support import ApiTenant, TestClient, assert_problem


@pytest.fixture
def shop(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    return stock_shop(client, tenant)


def _add_rule(client: TestClient, tenant: ApiTenant, kind: str, **params: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/risk-rules", headers=tenant.headers, json={"kind": kind, "params": params}
    )
    assert response.status_code == 201, response.text
    rule: dict[str, Any] = response.json()
    return rule


def _by_email(client: TestClient, tenant: ApiTenant, email: str) -> list[dict[str, Any]]:
    response = client.get("/v1/customers", headers=tenant.headers, params={"email": email})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# --- customers -----------------------------------------------------------------------------


def test_orders_with_one_email_in_any_case_belong_to_one_customer(
    client: TestClient, shop: ApiTenant
) -> None:
    first = paid_order(client, shop, customer={"email": "Ann@Example.com", "name": "Ann"})
    second = clean_order(client, shop, ("MUG", 2), customer={"email": "ann@EXAMPLE.com "})
    paid_order(client, shop, customer={"email": "bob@example.com"})

    [customer] = _by_email(client, shop, "ANN@example.COM")

    assert (customer["email"], customer["name"], customer["orders_count"]) == (
        "ann@example.com",
        "Ann",
        2,
    )
    assert customer["first_order_at"] == first["created_at"]
    assert customer["last_order_at"] == second["created_at"]
    assert first["customer_id"] == second["customer_id"] == customer["id"]


def test_a_customer_shows_their_orders_newest_first(client: TestClient, shop: ApiTenant) -> None:
    first = paid_order(client, shop, customer={"email": "ann@example.com"})
    second = clean_order(client, shop, ("MUG", 2), customer={"email": "ann@example.com"})
    paid_order(client, shop, customer={"email": "bob@example.com"})

    response = client.get(f"/v1/customers/{first['customer_id']}", headers=shop.headers)

    assert response.status_code == 200, response.text
    customer = response.json()
    assert (customer["email"], customer["orders_count"]) == ("ann@example.com", 2)
    assert [
        (o["id"], o["name"], o["status"], o["payment_status"], o["total"], o["currency"])
        for o in customer["orders"]
    ] == [
        (second["id"], second["name"], "on_hold", "pending", "10.00", "EUR"),
        (first["id"], first["name"], "open", "paid", "50.00", "EUR"),
    ]


def test_an_order_without_email_makes_no_customer(client: TestClient, shop: ApiTenant) -> None:
    order = paid_order(client, shop)

    assert order["customer_id"] is None
    response = client.get("/v1/customers", headers=shop.headers)
    assert response.json() == {"items": [], "next_cursor": None}


def test_customers_list_oldest_first_and_an_unknown_email_finds_none(
    client: TestClient, shop: ApiTenant
) -> None:
    for email in ("cat@example.com", "ann@example.com", "bob@example.com"):
        paid_order(client, shop, customer={"email": email})

    listed = client.get("/v1/customers", headers=shop.headers).json()["items"]

    assert [c["email"] for c in listed] == ["cat@example.com", "ann@example.com", "bob@example.com"]
    assert _by_email(client, shop, "dan@example.com") == []


def test_another_tenants_customer_is_404(
    client: TestClient, shop: ApiTenant, other_tenant: ApiTenant
) -> None:
    order = paid_order(client, shop, customer={"email": "ann@example.com"})

    response = client.get(f"/v1/customers/{order['customer_id']}", headers=other_tenant.headers)

    assert_problem(response, 404, "not_found")
    assert _by_email(client, other_tenant, "ann@example.com") == []


# --- risk rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "flagged"), [(1, False), (2, False), (3, True)], ids=["50", "100", "150"]
)
def test_an_order_above_the_value_limit_goes_to_fraud_review(
    client: TestClient, shop: ApiTenant, units: int, flagged: bool
) -> None:
    rule = _add_rule(client, shop, "order_value_above", amount="100", currency="EUR")

    order = paid_order(client, shop, ("TEE", units))

    assert order["risk"]["flagged"] is flagged
    if not flagged:
        assert (order["risk"]["matches"], order["status"]) == ([], "open")
        return
    assert order["risk"]["matches"] == [
        {
            "rule_id": rule["id"],
            "kind": "order_value_above",
            "detail": "order total 150.00 EUR is above 100.00 EUR",
        }
    ]
    assert (order["status"], order["released_at"]) == ("on_hold", None)
    assert open_hold_reasons(order) == ["fraud_review"]
    [hold] = order["holds"]
    assert hold["note"] == "order total 150.00 EUR is above 100.00 EUR"
    assert [e["type"] for e in order["timeline"]] == [
        "order.placed",
        "payment.authorized",
        "payment.captured",
        "hold.placed",
    ]
    assert order["timeline"][0]["data"]["risk"] == order["risk"]


@pytest.mark.parametrize(
    ("email", "flagged"),
    [
        ("buyer@mailinator.com", True),
        ("Buyer@MAILINATOR.com", True),
        ("buyer@eu.mailinator.com", True),
        ("buyer@notmailinator.com", False),
        ("buyer@example.com", False),
    ],
)
def test_an_email_of_a_blocked_domain_goes_to_fraud_review(
    client: TestClient, shop: ApiTenant, email: str, flagged: bool
) -> None:
    rule = _add_rule(client, shop, "blocked_domain", domains=["Mailinator.com"])

    order = paid_order(client, shop, customer={"email": email})

    assert order["risk"]["flagged"] is flagged
    assert [m["rule_id"] for m in order["risk"]["matches"]] == ([rule["id"]] if flagged else [])
    assert open_hold_reasons(order) == (["fraud_review"] if flagged else [])


def test_the_third_order_from_one_email_within_the_window_goes_to_fraud_review(
    client: TestClient, shop: ApiTenant
) -> None:
    rule = _add_rule(client, shop, "email_velocity", max_orders=2, window_hours=1)

    orders = [paid_order(client, shop, customer={"email": "ann@example.com"}) for _ in range(3)]
    stranger = paid_order(client, shop, customer={"email": "bob@example.com"})

    assert [o["risk"]["flagged"] for o in orders] == [False, False, True]
    assert orders[2]["risk"]["matches"] == [
        {
            "rule_id": rule["id"],
            "kind": "email_velocity",
            "detail": "3 orders from this email within 1 hour, more than the limit of 2",
        }
    ]
    assert open_hold_reasons(orders[2]) == ["fraud_review"]
    assert (stranger["risk"]["flagged"], stranger["status"]) == (False, "open")


BERLIN = {
    "name": "Max",
    "line1": "Unter den Linden 1",
    "city": "Berlin",
    "postal_code": "10117",
    "country": "DE",
}


@pytest.mark.parametrize(
    ("kind", "params", "fields", "detail"),
    [
        (
            "country_mismatch",
            {},
            {"billing_address": {**BERLIN, "country": "AT", "postal_code": "1010", "city": "Wien"}},
            "billing country AT differs from shipping country DE",
        ),
        ("country_mismatch", {}, {"billing_address": BERLIN}, None),
        (
            "blocked_email",
            {"emails": ["Fraud@Example.com"]},
            {"customer": {"email": "fraud@EXAMPLE.com"}},
            "email fraud@example.com is blocked",
        ),
        (
            "blocked_email",
            {"emails": ["fraud@example.com"]},
            {"customer": {"email": "a@b.de"}},
            None,
        ),
        (
            "blocked_address",
            {
                "addresses": [
                    {"line1": "unter den  linden 1", "postal_code": "10 117", "country": "de"}
                ]
            },
            {},
            "shipping address is blocked",
        ),
        (
            "blocked_address",
            {
                "addresses": [
                    {"line1": "Unter den Linden 2", "postal_code": "10117", "country": "DE"}
                ]
            },
            {},
            None,
        ),
        (
            "new_customer_value_above",
            {"amount": "40", "currency": "EUR"},
            {"customer": {"email": "new@example.com"}},
            "first order of a new customer, total 50.00 EUR is above 40.00 EUR",
        ),
        (
            "new_customer_value_above",
            {"amount": "50", "currency": "EUR"},
            {"customer": {"email": "new@example.com"}},
            None,
        ),
    ],
    ids=[
        "countries differ",
        "countries agree",
        "blocked email in another case",
        "other email",
        "blocked address spelled differently",
        "neighbouring address",
        "new customer above the limit",
        "new customer at the limit",
    ],
)
def test_each_kind_of_rule_flags_the_orders_it_describes(
    client: TestClient,
    shop: ApiTenant,
    kind: str,
    params: dict[str, Any],
    fields: dict[str, Any],
    detail: str | None,
) -> None:
    rule = _add_rule(client, shop, kind, **params)

    order = paid_order(client, shop, **{"shipping_address": BERLIN, **fields})

    expected = [] if detail is None else [{"rule_id": rule["id"], "kind": kind, "detail": detail}]
    assert order["risk"] == {"flagged": detail is not None, "matches": expected}
    assert open_hold_reasons(order) == ([] if detail is None else ["fraud_review"])


def test_only_a_customers_first_order_counts_as_new(client: TestClient, shop: ApiTenant) -> None:
    _add_rule(client, shop, "new_customer_value_above", amount="40", currency="EUR")

    first = paid_order(client, shop, customer={"email": "ann@example.com"})
    second = paid_order(client, shop, customer={"email": "Ann@Example.com"})

    assert (first["risk"]["flagged"], second["risk"]["flagged"]) == (True, False)


def test_a_deactivated_rule_stays_listed_but_flags_nothing(
    client: TestClient, shop: ApiTenant
) -> None:
    rule = _add_rule(client, shop, "order_value_above", amount="10", currency="EUR")
    kept = _add_rule(client, shop, "blocked_email", emails=["Fraud@Example.com"])

    response = client.delete(f"/v1/risk-rules/{rule['id']}", headers=shop.headers)

    assert (response.status_code, response.content) == (204, b"")
    listed = client.get("/v1/risk-rules", headers=shop.headers).json()["items"]
    assert [(r["id"], r["kind"], r["params"], r["active"]) for r in listed] == [
        (rule["id"], "order_value_above", {"amount": "10.00", "currency": "EUR"}, False),
        (kept["id"], "blocked_email", {"emails": ["fraud@example.com"]}, True),
    ]
    assert paid_order(client, shop)["risk"] == {"flagged": False, "matches": []}
    assert_problem(
        client.delete(f"/v1/risk-rules/{rule['id']}", headers=shop.headers), 404, "not_found"
    )


def test_risk_rules_are_the_tenants_own(
    client: TestClient, shop: ApiTenant, other_tenant: ApiTenant
) -> None:
    rule = _add_rule(client, shop, "order_value_above", amount="10", currency="EUR")
    stock_shop(client, other_tenant)

    assert client.get("/v1/risk-rules", headers=other_tenant.headers).json()["items"] == []
    assert paid_order(client, other_tenant)["risk"] == {"flagged": False, "matches": []}
    response = client.delete(f"/v1/risk-rules/{rule['id']}", headers=other_tenant.headers)
    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize(
    ("body", "code", "pointers"),
    [
        ({"kind": "order_value_above", "params": {"amount": "100"}}, None, ["#/params/currency"]),
        (
            {"kind": "order_value_above", "params": {"amount": "1.005", "currency": "EUR"}},
            None,
            ["#/params/amount"],
        ),
        (
            {"kind": "order_value_above", "params": {"amount": "-1", "currency": "EUR"}},
            None,
            ["#/params/amount"],
        ),
        (
            {"kind": "order_value_above", "params": {"amount": "100", "currency": "EURO"}},
            None,
            ["#/params/currency"],
        ),
        (
            {"kind": "email_velocity", "params": {"max_orders": 0, "window_hours": 1}},
            None,
            ["#/params/max_orders"],
        ),
        (
            {"kind": "email_velocity", "params": {"max_orders": 2, "window_hours": 9000}},
            None,
            ["#/params/window_hours"],
        ),
        (
            {"kind": "email_velocity", "params": {"max_orders": 2, "window_hours": 1, "x": 1}},
            None,
            ["#/params/x"],
        ),
        ({"kind": "blocked_domain", "params": {"domains": []}}, None, ["#/params/domains"]),
        (
            {"kind": "blocked_domain", "params": {"domains": ["ok.com", "not a domain"]}},
            None,
            ["#/params/domains/1"],
        ),
        ({"kind": "blocked_email", "params": {"emails": ["nobody"]}}, None, ["#/params/emails/0"]),
        ({"kind": "gut_feeling", "params": {}}, "validation_failed", ["#/kind"]),
        ({"kind": "country_mismatch", "params": [1]}, "validation_failed", ["#/params"]),
    ],
    ids=[
        "value without currency",
        "amount with three decimals",
        "negative amount",
        "unknown currency",
        "max orders 0",
        "window over a year",
        "unknown parameter",
        "no domains",
        "not a domain",
        "not an email",
        "unknown kind",
        "params not an object",
    ],
)
def test_a_risk_rule_with_bad_parameters_is_refused_with_pointers(
    client: TestClient,
    tenant: ApiTenant,
    body: dict[str, Any],
    code: str | None,
    pointers: list[str],
) -> None:
    response = client.post("/v1/risk-rules", headers=tenant.headers, json=body)

    problem = assert_problem(response, 422, code or "invalid_request")
    assert [e["pointer"] for e in problem["errors"]] == pointers
    assert client.get("/v1/risk-rules", headers=tenant.headers).json()["items"] == []
