"""Input a database cannot store is refused with 4xx on both SQLite and PostgreSQL.

PostgreSQL cannot store or even compare text holding a NUL character, and keeps money in
NUMERIC(18, 4); input beyond either must be refused before it reaches the database.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import Engine

from oms.adapters.carriers.signature import sign
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api import app as app_module
from oms.api.app import create_app
from oms.config import Settings
from oms.services.intake_group import Outcome
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_location,
    create_product,
    new_operator_headers,
    new_tenant,
    order_body,
)

NUL = "\x00"


@pytest.fixture
def own_client(api_settings: Settings, api_engine: Engine) -> Iterator[TestClient]:
    """A client on an app of the test's own (its intake groups have placed nothing yet)."""
    with TestClient(create_app(api_settings, engine=api_engine)) as test_client:
        yield test_client


def _seller(client: TestClient, uow: SqlUnitOfWorkFactory) -> ApiTenant:
    seller = new_tenant(uow)
    create_location(client, seller, "WH-1")
    create_product(client, seller, "TEE")
    return seller


@pytest.fixture
def seller(client: TestClient, api_uow: SqlUnitOfWorkFactory) -> ApiTenant:
    return _seller(client, api_uow)


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
    client: TestClient,
    seller: ApiTenant,
    method: str,
    path: str,
    request_parts: dict[str, Any],
    pointer: str,
) -> None:
    headers = {**seller.headers, **request_parts.get("headers", {})}
    parts = {k: v for k, v in request_parts.items() if k != "headers"}

    response = client.request(method, path, headers=headers, **parts)

    body = assert_problem(response, 422)
    assert [error["pointer"] for error in body["errors"]] == [pointer]
    if pointer.startswith("#/"):
        assert body["errors"][0]["detail"] == "text cannot contain the NUL character"


def test_a_sku_with_a_nul_character_in_the_path_is_not_found(
    client: TestClient, seller: ApiTenant
) -> None:
    response = client.get("/v1/inventory/TEE%00", headers=seller.headers)

    assert_problem(response, 404, "not_found")


def test_an_order_whose_total_cannot_be_stored_answers_422(
    client: TestClient, seller: ApiTenant
) -> None:
    create_product(client, seller, "JET", price="99999999999999")

    response = client.post("/v1/orders", headers=seller.headers, json=order_body(("JET", 2)))

    assert_problem(response, 422)


# Text each column's length allows, sent one character longer than the column (or grown past
# it by the normalising the API does before storing it).
ADDRESS = {"name": "A B", "line1": "Heidestrasse 17", "city": "Koeln", "postal_code": "51147"}
TOO_LONG_FOR_ITS_COLUMN = [
    pytest.param(
        "POST", "/v1/products", {**PRODUCT, "category": "c" * 201}, "#/category", id="category"
    ),
    pytest.param(
        "POST",
        "/v1/locations",
        {
            "code": "WH-9",
            "name": "Nine",
            "boxes": [
                {
                    "code": "B" * 41,
                    "length_mm": 1,
                    "width_mm": 1,
                    "height_mm": 1,
                    "max_weight_grams": 1,
                }
            ],
        },
        "#/boxes/0/code",
        id="location-box",
    ),
    pytest.param(
        "POST",
        f"/v1/fulfillment-orders/{UUID(int=1)}/packages",
        {"scans": ["TEE"], "box": "B" * 41},
        "#/box",
        id="package-box",
    ),
    pytest.param(
        "POST",
        f"/v1/fulfillment-orders/{UUID(int=1)}/shipments",
        {"carrier": "c" * 41},
        "#/carrier",
        id="shipment-carrier",
    ),
    pytest.param(
        "POST",
        f"/v1/fulfillment-orders/{UUID(int=1)}/shipments",
        {"service": "s" * 41},
        "#/service",
        id="shipment-service",
    ),
    pytest.param(
        "POST",
        "/v1/orders",
        order_body(("TEE", 1), customer={"email": "İ" * 320}),
        "#/customer/email",
        id="email-lower-case-doubles",
    ),
    pytest.param(
        "POST",
        "/v1/orders",
        order_body(
            ("TEE", 1), shipping_address={**ADDRESS, "country": "DE", "line1": "\ufdfa" * 30}
        ),
        "#/shipping_address/line1",
        id="street-folded-for-matching-grows",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "pointer"), TOO_LONG_FOR_ITS_COLUMN)
def test_text_too_long_for_its_column_answers_422_naming_the_field(
    client: TestClient,
    seller: ApiTenant,
    method: str,
    path: str,
    body: dict[str, Any],
    pointer: str,
) -> None:
    response = client.request(method, path, headers=seller.headers, json=body)

    problem = assert_problem(response, 422)
    assert [error["pointer"] for error in problem["errors"]] == [pointer]


def test_a_carrier_name_too_long_for_its_column_is_refused_naming_the_line(
    client: TestClient, api_uow: SqlUnitOfWorkFactory
) -> None:
    document = RATE_CARD.replace("carrier: acme", f"carrier: {'a' * 41}")

    response = client.post(
        "/v1/carrier-services/import",
        headers=new_operator_headers(api_uow),
        json={"format": "yaml", "document": document},
    )

    problem = assert_problem(response, 422)
    assert [error["detail"] for error in problem["errors"]] == ["must be at most 40 characters"]


RATE_CARD = """
- carrier: acme
  code: ground
  name: Acme Ground
  currency: EUR
  zones: {distance_bands: [{up_to_km: .inf, zone: all}]}
  prices:
    - {zone: all, transit_days: 2, per_kg_over: "0.80",
       breaks: [{up_to_grams: 5000, price: "7.90"}]}
"""


def test_one_order_too_long_to_store_fails_alone_in_a_group_of_concurrent_orders(
    own_client: TestClient, api_uow: SqlUnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    seller = _seller(own_client, api_uow)
    groups: list[int] = []
    real = app_module.place_group

    def recording(**kwargs: Any) -> list[Outcome]:
        groups.append(len(kwargs["submissions"]))
        return real(**kwargs)

    monkeypatch.setattr(app_module, "place_group", recording)
    good = [order_body(("TEE", 1), external_id=f"good-{n}") for n in range(8)]
    bad = [
        order_body(("TEE", 1), customer={"email": "İ" * 320}),
        order_body(
            ("TEE", 1), shipping_address={**ADDRESS, "country": "DE", "line1": "\ufdfa" * 30}
        ),
    ]
    bodies = [*good[:4], bad[0], *good[4:], bad[1]]

    async def send_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=own_client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://oms") as http:
            return list(
                await asyncio.gather(
                    *(http.post("/v1/orders", headers=seller.headers, json=b) for b in bodies)
                )
            )

    answers = asyncio.run(send_all())

    placed = [a for b, a in zip(bodies, answers, strict=True) if b not in bad]
    refused = [a for b, a in zip(bodies, answers, strict=True) if b in bad]
    assert [a.status_code for a in placed] == [201] * len(good), [a.text for a in placed]
    assert [assert_problem(a, 422)["errors"][0]["pointer"] for a in refused] == [
        "#/customer/email",
        "#/shipping_address/line1",
    ]
    assert sum(groups) == len(bodies)
    assert len(groups) < len(bodies)  # they went in groups


# Valid ISO 8601 with an offset, but before year 1 or after year 9999 once in UTC.
BEFORE_YEAR_1 = "0001-01-01T00:00:00+01:00"
AFTER_YEAR_9999 = "9999-12-31T23:59:59-14:00"
DISCOUNT = {"code": "FAR", "kind": "percentage", "value": "10"}
CARRIER_EVENT = {"id": "e-1", "tracking_number": "T-1", "status": "in_transit"}
TIMES_UTC_CANNOT_HOLD = [
    pytest.param(
        "GET",
        "/v1/orders",
        {"params": {"created_from": BEFORE_YEAR_1}},
        "query:created_from",
        id="created-from",
    ),
    pytest.param(
        "GET",
        "/v1/orders",
        {"params": {"created_to": AFTER_YEAR_9999}},
        "query:created_to",
        id="created-to",
    ),
    pytest.param(
        "POST",
        "/v1/discount-codes",
        {"json": {**DISCOUNT, "ends_at": AFTER_YEAR_9999}},
        "#/ends_at",
        id="discount-ends",
    ),
    pytest.param(
        "POST",
        "/v1/discount-codes",
        {"json": {**DISCOUNT, "starts_at": BEFORE_YEAR_1}},
        "#/starts_at",
        id="discount-starts",
    ),
]


@pytest.mark.parametrize(("method", "path", "request_parts", "pointer"), TIMES_UTC_CANNOT_HOLD)
def test_a_time_that_utc_cannot_represent_answers_422_naming_the_field(
    client: TestClient,
    seller: ApiTenant,
    method: str,
    path: str,
    request_parts: dict[str, Any],
    pointer: str,
) -> None:
    response = client.request(method, path, headers=seller.headers, **request_parts)

    problem = assert_problem(response, 422)
    assert [error["pointer"] for error in problem["errors"]] == [pointer]


def test_a_carrier_event_at_a_time_utc_cannot_represent_answers_422_naming_it(
    client: TestClient,
) -> None:
    raw = json.dumps({"events": [{**CARRIER_EVENT, "occurred_at": AFTER_YEAR_9999}]}).encode()
    secret = client.app.state.oms.settings.carrier_webhook_secret

    response = client.post(
        "/v1/carriers/acme/events",
        content=raw,
        headers={"Content-Type": "application/json", "X-OMS-Signature": sign(raw, secret)},
    )

    problem = assert_problem(response, 422)
    assert [error["pointer"] for error in problem["errors"]] == ["#/events/0/occurred_at"]


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"),
        ("0001-01-01T00:00:00-01:00", "9999-12-31T23:59:59+14:00"),
    ],
)
def test_the_first_and_last_times_utc_can_represent_are_taken(
    client: TestClient, seller: ApiTenant, first: str, last: str
) -> None:
    listed = client.get(
        "/v1/orders", headers=seller.headers, params={"created_from": first, "created_to": last}
    )
    created = client.post(
        "/v1/discount-codes",
        headers=seller.headers,
        json={**DISCOUNT, "starts_at": first, "ends_at": last},
    )

    assert listed.status_code == 200, listed.text
    assert created.status_code == 201, created.text
    assert created.json()["starts_at"].startswith("0001-01-01T")
    assert created.json()["ends_at"].startswith("9999-12-31T")
