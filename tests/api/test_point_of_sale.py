"""Point of sale: POST /v1/orders with channel "pos" and a store_location sells and hands
over at once, exactly once per receipt id, from that store's stock only."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.api.order_support import events_of
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_location,
    create_product,
    order_body,
    set_on_hand,
    stock_of,
)


@pytest.fixture
def store(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    """A tenant with a store (STORE-1: 5 tees) and a warehouse (WH-1: 100 tees)."""
    create_location(client, tenant, "STORE-1")
    create_location(client, tenant, "WH-1", priority=1)
    create_product(client, tenant, "TEE", price="20.00")
    create_product(client, tenant, "CAP", price="7.50")
    set_on_hand(client, tenant, "TEE", "STORE-1", 5)
    set_on_hand(client, tenant, "TEE", "WH-1", 100)
    set_on_hand(client, tenant, "CAP", "STORE-1", 1)
    return tenant


def _sale(receipt: str, *lines: tuple[str, int], **fields: Any) -> dict[str, Any]:
    return order_body(
        *lines, channel="pos", external_id=receipt, store_location="STORE-1", **fields
    )


def _at(stock: dict[str, Any], code: str) -> dict[str, Any]:
    found: dict[str, Any] = next(loc for loc in stock["locations"] if loc["location"] == code)
    return found


def test_a_till_sale_takes_the_store_stock_captures_payment_and_closes_the_order(
    client: TestClient, store: ApiTenant
) -> None:
    response = client.post(
        "/v1/orders", headers=store.headers, json=_sale("R-1", ("TEE", 2), ("CAP", 1))
    )
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["status"], order["fulfillment_status"], order["payment_status"]) == (
        "closed",
        "delivered",
        "paid",
    )
    assert (order["channel"], order["external_id"]) == ("pos", "R-1")
    tee = stock_of(client, store, "TEE")
    assert (_at(tee, "STORE-1")["on_hand"], _at(tee, "STORE-1")["reserved"]) == (3, 0)
    assert _at(tee, "WH-1")["on_hand"] == 100  # never routed elsewhere
    ledger = client.get(
        "/v1/inventory/TEE/movements", headers=store.headers, params={"location": "STORE-1"}
    ).json()["items"]
    assert [(m["kind"], m["quantity"], m["reference"]) for m in ledger][-1] == (
        "shipment",
        -2,
        "pos:R-1",
    )
    types = [event["type"] for event in events_of(client, store, order["id"])]
    assert types[0] == "order.placed"
    assert types.index("fulfillment_order.created") < types.index("fulfillment_order.picked_up")


def test_the_same_receipt_twice_is_one_sale(client: TestClient, store: ApiTenant) -> None:
    first = client.post("/v1/orders", headers=store.headers, json=_sale("R-2", ("TEE", 1)))
    again = client.post("/v1/orders", headers=store.headers, json=_sale("R-2", ("TEE", 1)))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert _at(stock_of(client, store, "TEE"), "STORE-1")["on_hand"] == 4


@pytest.mark.postgres
def test_the_same_receipt_sent_five_times_at_once_sells_once(
    client: TestClient, store: ApiTenant, api_engine: Any
) -> None:
    if api_engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers are a PostgreSQL matter")

    def send(_: int) -> Any:
        return client.post("/v1/orders", headers=store.headers, json=_sale("R-3", ("TEE", 1)))

    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(send, range(5)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert _at(stock_of(client, store, "TEE"), "STORE-1")["on_hand"] == 4


def test_short_stock_at_the_store_is_refused_and_nothing_is_written(
    client: TestClient, store: ApiTenant
) -> None:
    response = client.post("/v1/orders", headers=store.headers, json=_sale("R-4", ("TEE", 6)))
    body = assert_problem(response, 409, "insufficient_stock")
    assert body["shortages"][0]["sku"] == "TEE"
    assert _at(stock_of(client, store, "TEE"), "STORE-1")["on_hand"] == 5
    listed = client.get("/v1/orders", headers=store.headers, params={"channel": "pos"}).json()
    assert listed["items"] == []


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"channel": "api"}, "#/channel"),
        ({"external_id": None}, "#/external_id"),
        ({"pickup_location": "STORE-1"}, "#/pickup_location"),
        ({"store_location": "NOWHERE"}, "#/store_location"),
    ],
)
def test_a_till_sale_needs_the_pos_channel_a_receipt_and_a_known_store(
    client: TestClient, store: ApiTenant, fields: dict[str, Any], pointer: str
) -> None:
    body = {**_sale("R-5", ("TEE", 1)), **fields}
    response = client.post("/v1/orders", headers=store.headers, json=body)
    problem = assert_problem(response, 422)
    assert pointer in [error["pointer"] for error in problem["errors"]], problem
    assert _at(stock_of(client, store, "TEE"), "STORE-1")["on_hand"] == 5
