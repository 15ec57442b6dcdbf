"""Every error is RFC 9457 ``application/problem+json`` with one status per kind of error.

Field errors carry JSON pointers into the request body; refused writes leave no trace.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest

from oms.config import Settings
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_location,
    create_product,
    fill_path,
    order_body,
    place_order,
    served_routes,
    set_on_hand,
    stock_of,
)

LISTS = ["/v1/products", "/v1/locations", "/v1/inventory", "/v1/orders"]


def _pointers(body: dict[str, Any]) -> list[str]:
    return [error["pointer"] for error in body["errors"]]


def _order_ids(client: TestClient, tenant: ApiTenant) -> list[str]:
    response = client.get("/v1/orders", headers=tenant.headers, params={"limit": 50})
    return [order["id"] for order in response.json()["items"]]


@pytest.fixture
def stocked(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    """A tenant with 10 of IN-STOCK and 1 of SHORT at WH-1."""
    create_location(client, tenant, "WH-1")
    for sku, units in (("IN-STOCK", 10), ("SHORT", 1)):
        create_product(client, tenant, sku)
        set_on_hand(client, tenant, sku, "WH-1", units)
    return tenant


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        pytest.param(order_body(("A", 0)), "#/lines/0/quantity", id="quantity-zero"),
        pytest.param(order_body(("A", "two")), "#/lines/0/quantity", id="quantity-text"),
        pytest.param(order_body(("A", 1), ("", 1)), "#/lines/1/sku", id="blank-sku"),
        pytest.param({"lines": [{"sku": "A", "quantity": 1}]}, "#/currency", id="no-currency"),
        pytest.param(order_body(("A", 1), currency="EURO"), "#/currency", id="bad-currency"),
        pytest.param(order_body(), "#/lines", id="no-lines"),
        pytest.param(order_body(("A", 1), channel="Web Shop"), "#/channel", id="bad-channel"),
        pytest.param(
            order_body(("A", 1), shipping_address={"country": "Germany"}),
            "#/shipping_address/country",
            id="nested-field",
        ),
        pytest.param(order_body(("A", 1), colour="red"), "#/colour", id="unknown-field"),
        pytest.param(
            {"currency": "EUR", "lines": [{"sku": "A", "quantity": 1, "discount": "5"}]},
            "#/lines/0/discount",
            id="unknown-nested-field",
        ),
        pytest.param(order_body(("A", 1), **{"a/b": 1}), "#/a~1b", id="pointer-escaping"),
    ],
)
def test_an_invalid_order_body_names_the_field_with_a_json_pointer(
    client: TestClient, tenant: ApiTenant, body: dict[str, Any], pointer: str
) -> None:
    response = client.post("/v1/orders", headers=tenant.headers, json=body)

    problem = assert_problem(response, 422, "validation_failed")
    assert _pointers(problem) == [pointer]
    assert all(error["detail"] for error in problem["errors"])


@pytest.mark.parametrize(
    ("path", "body", "pointer"),
    [
        pytest.param(
            "/v1/products",
            {"sku": "X", "name": "X", "price": "1", "currency": "ZZZ"},
            "#/currency",
            id="unknown-currency",
        ),
        pytest.param(
            "/v1/products",
            {"sku": "KIT", "name": "Kit", "price": "1", "currency": "EUR", "kind": "bundle"},
            "#/components",
            id="bundle-without-components",
        ),
        pytest.param(
            "/v1/inventory/adjustments",
            {"sku": "NOPE", "location": "WH-1", "delta": 1, "reason": "r"},
            "#/sku",
            id="adjusting-an-unknown-sku",
        ),
        pytest.param("/v1/orders", order_body(("NOPE", 1)), "#/lines/0/sku", id="unknown-sku"),
    ],
)
def test_a_rule_broken_by_the_body_names_the_field_with_a_json_pointer(
    client: TestClient, tenant: ApiTenant, path: str, body: dict[str, Any], pointer: str
) -> None:
    response = client.post(path, headers=tenant.headers, json=body)

    assert _pointers(assert_problem(response, 422)) == [pointer]


@pytest.mark.parametrize(
    "raw", [b'{"currency": "EUR",', b"not json", b'{"currency": "EUR"}}', b""], ids=repr
)
def test_a_body_that_is_not_json_answers_422(
    client: TestClient, tenant: ApiTenant, raw: bytes
) -> None:
    response = client.post(
        "/v1/orders",
        headers={**tenant.headers, "Content-Type": "application/json"},
        content=raw,
    )

    assert_problem(response, 422, "validation_failed")


@pytest.mark.parametrize("path", ["/nope", "/v1", "/v1/nope", "/v1/orders/x/y"])
def test_an_unknown_route_answers_404_problem(
    client: TestClient, tenant: ApiTenant, path: str
) -> None:
    assert_problem(client.get(path, headers=tenant.headers), 404, "not_found")


@pytest.mark.parametrize(
    "template",
    [
        "/v1/orders",
        "/v1/products",
        "/v1/orders/{order_id}",
        "/v1/orders/{order_id}/cancel",
        "/healthz",
    ],
)
def test_a_wrong_method_answers_405_problem_listing_every_allowed_method(
    client: TestClient, tenant: ApiTenant, template: str
) -> None:
    allowed = {m for m, path in served_routes(client.app) if path == template}  # type: ignore[arg-type]
    wrong = next(m for m in ("PUT", "DELETE", "PATCH", "POST", "GET") if m not in allowed)
    path = fill_path(template, str(uuid4())) if "{" in template else template

    response = client.request(wrong, path, headers=tenant.headers)

    assert_problem(response, 405, "method_not_allowed")
    assert {m.strip() for m in response.headers["allow"].split(",")} - {"HEAD"} == allowed


def _padded_order(size: int) -> bytes:
    """A valid order for one digital item, padded with JSON whitespace to ``size`` bytes."""
    raw = json.dumps(order_body(("E-BOOK", 1))).encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


def _chunks(raw: bytes) -> Iterator[bytes]:
    for start in range(0, len(raw), 1_000):
        yield raw[start : start + 1_000]


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(("extra_bytes", "status"), [(0, 201), (1, 413)], ids=["at", "over"])
def test_a_body_over_max_body_bytes_answers_413_and_writes_nothing(
    client: TestClient,
    tenant: ApiTenant,
    api_settings: Settings,
    streamed: bool,
    extra_bytes: int,
    status: int,
) -> None:
    create_product(client, tenant, "E-BOOK", kind="digital")
    raw = _padded_order(api_settings.max_body_bytes + extra_bytes)

    response = client.post(
        "/v1/orders",
        headers={**tenant.headers, "Content-Type": "application/json"},
        content=_chunks(raw) if streamed else raw,
    )

    assert ("content-length" in response.request.headers) is not streamed
    assert response.status_code == status, response.text
    if status == 413:
        assert_problem(response, 413, "body_too_large")
        assert _order_ids(client, tenant) == []


@pytest.mark.parametrize("path", LISTS)
def test_a_page_larger_than_max_page_size_answers_422(
    client: TestClient, tenant: ApiTenant, api_settings: Settings, path: str
) -> None:
    at_most = api_settings.max_page_size

    assert client.get(path, headers=tenant.headers, params={"limit": at_most}).status_code == 200
    too_many = client.get(path, headers=tenant.headers, params={"limit": at_most + 1})
    assert _pointers(assert_problem(too_many, 422)) == ["query:limit"]
    assert_problem(client.get(path, headers=tenant.headers, params={"limit": 0}), 422)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_CURSORS = [
    pytest.param(path, cursor, id=f"{path.rsplit('/', 1)[1]}-{name}")
    for path in LISTS
    for name, cursor in (("not-base64", "!!!"), ("not-utf8", _b64(b"\xff\xfe")))
] + [pytest.param("/v1/orders", _b64(b"not-an-order-id"), id="orders-not-an-order-id")]


@pytest.mark.parametrize(("path", "cursor"), BAD_CURSORS)
def test_a_cursor_this_api_did_not_make_answers_422(
    client: TestClient, tenant: ApiTenant, path: str, cursor: str
) -> None:
    response = client.get(path, headers=tenant.headers, params={"cursor": cursor})

    assert _pointers(assert_problem(response, 422)) == ["query:cursor"]


def test_an_order_with_more_lines_than_max_order_lines_answers_422(
    client: TestClient, tenant: ApiTenant, api_settings: Settings
) -> None:
    create_product(client, tenant, "E-BOOK", kind="digital")
    most = api_settings.max_order_lines

    at_limit = client.post(
        "/v1/orders", headers=tenant.headers, json=order_body(*[("E-BOOK", 1)] * most)
    )
    over = client.post(
        "/v1/orders", headers=tenant.headers, json=order_body(*[("E-BOOK", 1)] * (most + 1))
    )

    assert at_limit.status_code == 201, at_limit.text
    assert _pointers(assert_problem(over, 422)) == ["#/lines"]
    assert _order_ids(client, tenant) == [at_limit.json()["id"]]


@pytest.mark.parametrize(
    ("path", "first", "again", "read_back"),
    [
        pytest.param(
            "/v1/products",
            {"sku": "DUP", "name": "First", "price": "1.00", "currency": "EUR"},
            {"sku": "DUP", "name": "Second", "price": "2.00", "currency": "EUR"},
            "/v1/products/{id}",
            id="sku",
        ),
        pytest.param(
            "/v1/locations",
            {"code": "DUP", "name": "First"},
            {"code": "DUP", "name": "Second"},
            "/v1/locations/{id}",
            id="location-code",
        ),
    ],
)
def test_a_taken_name_answers_409_and_keeps_the_first(
    client: TestClient,
    tenant: ApiTenant,
    path: str,
    first: dict[str, Any],
    again: dict[str, Any],
    read_back: str,
) -> None:
    created = client.post(path, headers=tenant.headers, json=first)
    assert created.status_code == 201, created.text

    response = client.post(path, headers=tenant.headers, json=again)

    assert_problem(response, 409, "already_exists")
    kept = client.get(read_back.format(id=created.json()["id"]), headers=tenant.headers)
    assert kept.json()["name"] == "First"


@pytest.mark.parametrize("change", [{"set_on_hand": 2}, {"delta": -8}], ids=["count", "delta"])
def test_an_adjustment_leaving_less_on_hand_than_reserved_answers_409(
    client: TestClient, stocked: ApiTenant, change: dict[str, int]
) -> None:
    place_order(client, stocked, ("IN-STOCK", 3))
    before = stock_of(client, stocked, "IN-STOCK")

    response = client.post(
        "/v1/inventory/adjustments",
        headers=stocked.headers,
        json={"sku": "IN-STOCK", "location": "WH-1", "reason": "recount", **change},
    )

    assert assert_problem(response, 409, "stock_reserved")["reserved"] == 3
    assert stock_of(client, stocked, "IN-STOCK") == before
    assert (before["on_hand"], before["reserved"]) == (10, 3)


def test_a_short_order_without_backorders_answers_409_and_writes_nothing(
    client: TestClient, stocked: ApiTenant
) -> None:
    earlier = place_order(client, stocked, ("IN-STOCK", 1))
    before = [stock_of(client, stocked, sku) for sku in ("IN-STOCK", "SHORT")]

    response = client.post(
        "/v1/orders",
        headers=stocked.headers,
        json=order_body(("IN-STOCK", 2), ("SHORT", 3), allow_backorder=False),
    )

    problem = assert_problem(response, 409, "insufficient_stock")
    assert problem["short_skus"] == ["SHORT"]
    assert problem["shortages"] == [{"sku": "SHORT", "requested": 3, "available": 1}]
    assert _order_ids(client, stocked) == [earlier["id"]]
    assert [stock_of(client, stocked, sku) for sku in ("IN-STOCK", "SHORT")] == before


def test_an_idempotency_key_reused_with_another_body_answers_422(
    client: TestClient, stocked: ApiTenant
) -> None:
    headers = {**stocked.headers, "Idempotency-Key": uuid4().hex}
    first = client.post("/v1/orders", headers=headers, json=order_body(("IN-STOCK", 1)))

    response = client.post("/v1/orders", headers=headers, json=order_body(("IN-STOCK", 2)))

    assert first.status_code == 201, first.text
    assert_problem(response, 422, "idempotency_key_reused")
    assert _order_ids(client, stocked) == [first.json()["id"]]
    assert stock_of(client, stocked, "IN-STOCK")["reserved"] == 1


def test_an_idempotency_key_repeated_with_the_same_body_returns_the_first_order(
    client: TestClient, stocked: ApiTenant
) -> None:
    headers = {**stocked.headers, "Idempotency-Key": uuid4().hex}
    body = order_body(("IN-STOCK", 2))

    first = client.post("/v1/orders", headers=headers, json=body)
    again = client.post("/v1/orders", headers=headers, json=body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["location"] == f"/v1/orders/{first.json()['id']}"
    assert _order_ids(client, stocked) == [first.json()["id"]]
    assert stock_of(client, stocked, "IN-STOCK")["reserved"] == 2


def test_the_same_channel_and_external_id_returns_the_first_order(
    client: TestClient, stocked: ApiTenant
) -> None:
    copy = order_body(("IN-STOCK", 2), channel="shopify", external_id="#1001")

    first = client.post("/v1/orders", headers=stocked.headers, json=copy)
    again = client.post("/v1/orders", headers=stocked.headers, json=copy)
    other_channel = client.post(
        "/v1/orders", headers=stocked.headers, json={**copy, "channel": "amazon"}
    )

    assert (first.status_code, again.status_code, other_channel.status_code) == (201, 200, 201)
    assert again.json() == first.json()
    assert other_channel.json()["id"] != first.json()["id"]
    assert stock_of(client, stocked, "IN-STOCK")["reserved"] == 4
