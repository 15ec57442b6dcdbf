"""Who may call: API keys as bearer tokens; operator keys act for a tenant via OMS-Tenant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest

from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_location,
    create_product,
    fill_path,
    order_body,
    served_routes,
    set_on_hand,
)

BAD_CREDENTIALS = [
    pytest.param({}, id="no-authorization-header"),
    pytest.param({"Authorization": "Basic {secret}"}, id="basic-scheme"),
    pytest.param({"Authorization": "{secret}"}, id="no-scheme"),
    pytest.param({"Authorization": "Bearer"}, id="scheme-without-key"),
    pytest.param({"Authorization": "Bearer oms_not-a-key"}, id="unknown-key"),
    pytest.param({"Authorization": "Bearer {secret}x"}, id="altered-key"),
]


@pytest.mark.parametrize("credentials", BAD_CREDENTIALS)
def test_a_request_without_a_valid_key_answers_401_with_a_bearer_challenge(
    client: TestClient, tenant: ApiTenant, credentials: dict[str, str]
) -> None:
    headers = {name: value.format(secret=tenant.secret) for name, value in credentials.items()}

    response = client.get("/v1/orders", headers=headers)

    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"


def test_the_right_key_with_a_lower_case_scheme_is_accepted(
    client: TestClient, tenant: ApiTenant
) -> None:
    response = client.get("/v1/orders", headers={"Authorization": f"bearer {tenant.secret}"})

    assert response.status_code == 200, response.text


def test_every_v1_route_demands_a_key(client: TestClient) -> None:
    routes = sorted(
        (method, path)
        for method, path in served_routes(client.app)  # type: ignore[arg-type]
        if path.startswith("/v1/")
    )
    assert len(routes) >= 10

    answers = {
        (method, path): client.request(
            method, fill_path(path, str(uuid4())) if "{" in path else path, json={}
        )
        for method, path in routes
    }

    assert {route: r.status_code for route, r in answers.items()} == dict.fromkeys(routes, 401)
    assert {r.headers["content-type"] for r in answers.values()} == {"application/problem+json"}


TENANT_ROUTES = [
    ("GET", "/v1/products", None),
    ("GET", "/v1/inventory", None),
    ("GET", "/v1/inventory/ANY-SKU", None),
    ("GET", "/v1/orders", None),
    ("POST", "/v1/products", {"sku": "P", "name": "P", "price": "1.00", "currency": "EUR"}),
    ("POST", "/v1/orders", order_body(("P", 1))),
    ("POST", "/v1/inventory/adjustments", {"sku": "P", "location": "L", "delta": 1, "reason": "r"}),
]


@pytest.mark.parametrize(("method", "path", "body"), TENANT_ROUTES)
def test_an_operator_key_without_oms_tenant_may_not_touch_tenant_data(
    client: TestClient,
    operator_headers: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    response = client.request(method, path, headers=operator_headers, json=body)

    assert_problem(response, 403, "forbidden")


def test_an_operator_key_with_oms_tenant_acts_for_that_tenant(
    client: TestClient,
    operator_headers: dict[str, str],
    tenant: ApiTenant,
    other_tenant: ApiTenant,
) -> None:
    acting = {**operator_headers, "OMS-Tenant": str(tenant.id)}
    create_location(client, tenant, "WH-1")

    product = client.post(
        "/v1/products",
        headers=acting,
        json={
            "sku": "BY-OPERATOR",
            "name": "Set up by the 3PL",
            "price": "5.00",
            "currency": "EUR",
        },
    )
    assert product.status_code == 201, product.text
    set_on_hand(client, tenant, "BY-OPERATOR", "WH-1", 3)
    order = client.post("/v1/orders", headers=acting, json=order_body(("BY-OPERATOR", 2)))
    assert order.status_code == 201, order.text

    own_products = client.get("/v1/products", headers=tenant.headers).json()["items"]
    assert [p["id"] for p in own_products] == [product.json()["id"]]
    own_orders = client.get("/v1/orders", headers=tenant.headers).json()
    assert client.get("/v1/orders", headers=acting).json() == own_orders
    assert [o["id"] for o in own_orders["items"]] == [order.json()["id"]]
    assert client.get("/v1/inventory/BY-OPERATOR", headers=acting).json()["reserved"] == 2
    assert client.get("/v1/products", headers=other_tenant.headers).json()["items"] == []


@pytest.mark.parametrize("whose", ["own", "other"])
def test_a_tenant_key_sending_oms_tenant_is_refused(
    client: TestClient, tenant: ApiTenant, other_tenant: ApiTenant, whose: str
) -> None:
    named = tenant if whose == "own" else other_tenant
    response = client.get("/v1/products", headers={**tenant.headers, "OMS-Tenant": str(named.id)})

    body = assert_problem(response, 422)
    assert [e["pointer"] for e in body["errors"]] == ["header:oms-tenant"]


@pytest.mark.parametrize(
    ("oms_tenant", "status"),
    [
        pytest.param(lambda: str(uuid4()), 404, id="unknown-tenant"),
        pytest.param(lambda: "tenant-42", 422, id="not-a-tenant-id"),
    ],
)
def test_an_operator_naming_a_tenant_that_does_not_exist_is_refused(
    client: TestClient,
    operator_headers: dict[str, str],
    oms_tenant: Callable[[], str],
    status: int,
) -> None:
    response = client.get("/v1/orders", headers={**operator_headers, "OMS-Tenant": oms_tenant()})

    assert_problem(response, status)


def test_a_tenant_key_may_not_grant_locations(client: TestClient, tenant: ApiTenant) -> None:
    response = client.post(
        f"/v1/locations/{uuid4()}/grants",
        headers=tenant.headers,
        json={"tenant_id": str(tenant.id)},
    )

    assert_problem(response, 403, "forbidden")


def test_a_location_an_operator_creates_for_a_tenant_is_usable_by_that_tenant(
    client: TestClient, operator_headers: dict[str, str], tenant: ApiTenant
) -> None:
    acting = {**operator_headers, "OMS-Tenant": str(tenant.id)}
    code = f"FOR-TENANT-{uuid4().hex[:8]}"
    create_product(client, tenant, "STOCKED")

    created = client.post("/v1/locations", headers=acting, json={"code": code, "name": "Store"})

    assert created.status_code == 201, created.text
    assert client.get(f"/v1/locations/{created.json()['id']}", headers=acting).status_code == 200
    assert set_on_hand(client, tenant, "STOCKED", code, 4)["on_hand"] == 4
