"""Input a database cannot store is refused with 4xx on both SQLite and PostgreSQL.

PostgreSQL cannot store or even compare text holding a NUL character, and keeps money in
NUMERIC(18, 4); input beyond either must be refused before it reaches the database.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import create_app
from tests.api.support import (
    ApiTenant,
    TestClient,
    api_settings_for,
    assert_problem,
    create_location,
    create_product,
    new_tenant,
    order_body,
)

NUL = "\x00"


@pytest.fixture
def any_db_client(engine: Engine) -> Iterator[TestClient]:
    """A client on SQLite, then on PostgreSQL (the root ``engine`` fixture)."""
    settings = api_settings_for(str(engine.url.render_as_string(hide_password=False)))
    with TestClient(create_app(settings, engine=engine)) as test_client:
        yield test_client


@pytest.fixture
def seller(any_db_client: TestClient, uow_factory: SqlUnitOfWorkFactory) -> ApiTenant:
    seller = new_tenant(uow_factory)
    create_location(any_db_client, seller, "WH-1")
    create_product(any_db_client, seller, "TEE")
    return seller


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


PRODUCT = {"sku": "NEW", "name": "New", "price": "1.00", "currency": "EUR"}
ADJUSTMENT = {"sku": "TEE", "location": "WH-1", "delta": 1, "reason": "count"}

TEXT_WITH_NUL = [
    pytest.param(
        "POST", "/v1/products", {"json": {**PRODUCT, "sku": f"A{NUL}B"}}, "#/sku", id="sku"
    ),
    pytest.param(
        "POST", "/v1/products", {"json": {**PRODUCT, "name": f"New{NUL}"}}, "#/name", id="name"
    ),
    pytest.param(
        "POST",
        "/v1/inventory/adjustments",
        {"json": {**ADJUSTMENT, "reason": f"count{NUL}"}},
        "#/reason",
        id="reason",
    ),
    pytest.param(
        "POST", "/v1/orders", {"json": order_body(("TEE", 1), note=NUL)}, "#/note", id="note"
    ),
    pytest.param(
        "POST",
        "/v1/orders",
        {"json": order_body((f"TEE{NUL}", 1))},
        "#/lines/0/sku",
        id="line-sku",
    ),
    pytest.param(
        "POST",
        "/v1/orders",
        {"json": order_body(("TEE", 1), customer={"email": f"a{NUL}@example.com"})},
        "#/customer/email",
        id="customer-email",
    ),
    pytest.param(
        "POST", "/v1/orders", {"json": order_body(("TEE", 1), tags=[NUL])}, "#/tags/0", id="tag"
    ),
    pytest.param(
        "POST",
        "/v1/orders",
        {"json": order_body(("TEE", 1)), "headers": {"Idempotency-Key": f"k{NUL}"}},
        "header:idempotency-key",
        id="idempotency-key",
    ),
    pytest.param(
        "GET", "/v1/orders", {"params": {"channel": f"web{NUL}"}}, "query:channel", id="channel"
    ),
    pytest.param(
        "GET",
        "/v1/orders",
        {"params": {"customer_email": f"a{NUL}"}},
        "query:customer_email",
        id="email-filter",
    ),
    pytest.param(
        "GET", "/v1/products", {"params": {"cursor": _b64(f"A{NUL}")}}, "query:cursor", id="cursor"
    ),
]


@pytest.mark.parametrize(("method", "path", "request_parts", "pointer"), TEXT_WITH_NUL)
def test_text_with_a_nul_character_answers_422_naming_the_field(
    any_db_client: TestClient,
    seller: ApiTenant,
    method: str,
    path: str,
    request_parts: dict[str, Any],
    pointer: str,
) -> None:
    headers = {**seller.headers, **request_parts.get("headers", {})}
    parts = {k: v for k, v in request_parts.items() if k != "headers"}

    response = any_db_client.request(method, path, headers=headers, **parts)

    body = assert_problem(response, 422)
    assert [error["pointer"] for error in body["errors"]] == [pointer]
    if pointer.startswith("#/"):
        assert body["errors"][0]["detail"] == "text cannot contain the NUL character"


def test_a_sku_with_a_nul_character_in_the_path_is_not_found(
    any_db_client: TestClient, seller: ApiTenant
) -> None:
    response = any_db_client.get("/v1/inventory/TEE%00", headers=seller.headers)

    assert_problem(response, 404, "not_found")


def test_an_order_whose_total_cannot_be_stored_answers_422(
    any_db_client: TestClient, seller: ApiTenant
) -> None:
    create_product(any_db_client, seller, "JET", price="99999999999999")

    response = any_db_client.post("/v1/orders", headers=seller.headers, json=order_body(("JET", 2)))

    assert_problem(response, 422)
