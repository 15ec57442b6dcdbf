"""Wherever a request names a location, its id and its code both name it (one resolver,
``oms.domain.catalogue.location_named``): paths, bodies and query parameters alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_location,
    create_product,
    set_on_hand,
)

BOSTON = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Way",
    "city": "Boston",
    "region": "MA",
    "postal_code": "02110",
    "country": "US",
}
SMALL_BOX = {
    "code": "S",
    "length_mm": 200,
    "width_mm": 150,
    "height_mm": 100,
    "max_weight_grams": 5_000,
}
PAID = {"gateway": "manual", "captured": True}


@pytest.fixture
def shop(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    """WH-1 (priority 1) and WH-2 with 5 TEE each; STORE-1 takes pickups and has 2."""
    create_location(client, tenant, "WH-1", priority=1)
    create_location(client, tenant, "WH-2", priority=2)
    store = client.post(
        "/v1/locations",
        headers=tenant.headers,
        json={"code": "STORE-1", "name": "Store", "kind": "store", "can_pickup": True},
    )
    assert store.status_code == 201, store.text
    create_product(client, tenant, "TEE", weight_grams=200)
    for code, units in (("WH-1", 5), ("WH-2", 5), ("STORE-1", 2)):
        set_on_hand(client, tenant, "TEE", code, units)
    return tenant


def _location(client: TestClient, tenant: ApiTenant, code: str) -> dict[str, Any]:
    listed = client.get("/v1/locations", headers=tenant.headers, params={"limit": 50})
    found: dict[str, Any] = next(loc for loc in listed.json()["items"] if loc["code"] == code)
    return found


def _order(client: TestClient, tenant: ApiTenant, **fields: Any) -> dict[str, Any]:
    body = {"currency": "EUR", "lines": [{"sku": "TEE", "quantity": 1}], "payment": PAID}
    response = client.post("/v1/orders", headers=tenant.headers, json={**body, **fields})
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


Call = Callable[[TestClient, ApiTenant, str], httpx.Response]

CALLS: dict[str, tuple[str, Call]] = {
    "GET /v1/locations/{location}": (
        "WH-1",
        lambda c, t, ref: c.get(f"/v1/locations/{ref}", headers=t.headers),
    ),
    "PUT /v1/locations/{location}/boxes": (
        "WH-1",
        lambda c, t, ref: c.put(
            f"/v1/locations/{ref}/boxes", headers=t.headers, json={"boxes": [SMALL_BOX]}
        ),
    ),
    "PUT /v1/locations/{location}/bins": (
        "WH-1",
        lambda c, t, ref: c.put(
            f"/v1/locations/{ref}/bins",
            headers=t.headers,
            json={"bins": [{"sku": "TEE", "bin": "A-1"}]},
        ),
    ),
    "GET /v1/locations/{location}/bins": (
        "WH-1",
        lambda c, t, ref: c.get(f"/v1/locations/{ref}/bins", headers=t.headers),
    ),
    "POST /v1/locations/{location}/pick-waves": (
        "WH-1",
        lambda c, t, ref: c.post(f"/v1/locations/{ref}/pick-waves", headers=t.headers, json={}),
    ),
    "POST /v1/inventory/adjustments #/location": (
        "WH-2",
        lambda c, t, ref: c.post(
            "/v1/inventory/adjustments",
            headers=t.headers,
            json={"sku": "TEE", "location": ref, "delta": 1, "reason": "found one"},
        ),
    ),
    "GET /v1/inventory/{sku}/movements ?location": (
        "WH-2",
        lambda c, t, ref: c.get(
            "/v1/inventory/TEE/movements", headers=t.headers, params={"location": ref}
        ),
    ),
    "GET /v1/fulfillment-orders ?location": (
        "WH-1",
        lambda c, t, ref: c.get(
            "/v1/fulfillment-orders", headers=t.headers, params={"location": ref}
        ),
    ),
    "GET /v1/pick-waves ?location": (
        "WH-1",
        lambda c, t, ref: c.get("/v1/pick-waves", headers=t.headers, params={"location": ref}),
    ),
    "POST /v1/orders #/pickup_location": (
        "STORE-1",
        lambda c, t, ref: c.post(
            "/v1/orders",
            headers=t.headers,
            json={
                "currency": "EUR",
                "lines": [{"sku": "TEE", "quantity": 1}],
                "pickup_location": ref,
                "customer": {"email": "ada@example.com"},
            },
        ),
    ),
    "POST /v1/rates #/origin": (
        "WH-1",
        lambda c, t, ref: c.post(
            "/v1/rates",
            headers=t.headers,
            json={"origin": ref, "destination": BOSTON, "weight_grams": 200},
        ),
    ),
}


@pytest.mark.parametrize("by", ["id", "code"])
@pytest.mark.parametrize("route", list(CALLS))
def test_a_location_is_named_by_its_id_or_its_code(
    client: TestClient, shop: ApiTenant, route: str, by: str
) -> None:
    code, call = CALLS[route]
    location = _location(client, shop, code)
    _order(client, shop, shipping_address=BOSTON)  # some work at WH-1 for the floor routes

    response = call(client, shop, location[by])

    assert response.status_code in (200, 201), response.text
    if route.startswith("GET /v1/locations/{location}"):
        assert response.json().get("id", location["id"]) == location["id"]


@pytest.mark.parametrize("by", ["id", "code"])
def test_an_order_is_rerouted_away_from_a_location_named_by_id_or_code(
    client: TestClient, shop: ApiTenant, by: str
) -> None:
    order = _order(client, shop, shipping_address=BOSTON)
    first = _location(client, shop, "WH-1")
    assert [a["location"] for a in order["allocations"]] == ["WH-1"]

    response = client.post(
        f"/v1/orders/{order['id']}/reroute",
        headers=shop.headers,
        json={"exclude_locations": [first[by]], "reason": "WH-1 is closed today"},
    )

    assert response.status_code == 200, response.text
    live = [a["location"] for a in response.json()["allocations"] if a["quantity"] > 0]
    assert live == ["WH-2"]


@pytest.mark.parametrize("by", ["id", "code"])
def test_a_fulfilment_order_moves_to_a_location_named_by_id_or_code(
    client: TestClient, shop: ApiTenant, by: str
) -> None:
    order = _order(client, shop, shipping_address=BOSTON)
    fos = client.get(f"/v1/orders/{order['id']}/fulfillment-orders", headers=shop.headers)
    (fo,) = fos.json()["items"]
    target = _location(client, shop, "WH-2")

    moved = client.post(
        f"/v1/fulfillment-orders/{fo['id']}/move",
        headers=shop.headers,
        json={"location": target[by]},
    )

    assert moved.status_code == 200, moved.text
    assert [f["location"] for f in moved.json() if f["status"] != "cancelled"] == ["WH-2"]


@pytest.mark.parametrize("by", ["id", "code"])
def test_an_operator_grants_a_location_named_by_id_or_code(
    client: TestClient, tenant: ApiTenant, operator_headers: dict[str, str], by: str
) -> None:
    code = f"HUB-{by.upper()}-{str(tenant.id)[-8:]}"
    hub = client.post("/v1/locations", headers=operator_headers, json={"code": code, "name": "Hub"})
    assert hub.status_code == 201, hub.text

    granted = client.post(
        f"/v1/locations/{hub.json()[by]}/grants",
        headers=operator_headers,
        json={"tenant_id": str(tenant.id)},
    )

    assert granted.status_code == 204, granted.text
    seen = client.get(f"/v1/locations/{code}", headers=tenant.headers)
    assert seen.json()["id"] == hub.json()["id"]


def test_another_tenants_location_is_not_found_by_id_or_code(
    client: TestClient, shop: ApiTenant, other_tenant: ApiTenant
) -> None:
    theirs = create_location(client, other_tenant, "THEIRS-ONLY")

    for ref in (theirs["id"], theirs["code"]):
        assert_problem(client.get(f"/v1/locations/{ref}", headers=shop.headers), 404)
        refused = client.post(
            "/v1/inventory/adjustments",
            headers=shop.headers,
            json={"sku": "TEE", "location": ref, "delta": 1, "reason": "probe"},
        )
        assert [e["pointer"] for e in assert_problem(refused, 422)["errors"]] == ["#/location"]


def test_a_routing_profile_names_locations_by_id_or_code_and_keeps_their_codes(
    client: TestClient, shop: ApiTenant
) -> None:
    first, second = _location(client, shop, "WH-1"), _location(client, shop, "WH-2")

    saved = client.put(
        "/v1/routing-profile",
        headers=shop.headers,
        json={
            "excluded_locations": [first["id"]],
            "daily_capacity": {second["id"]: 40},
            "handling_cost": {"WH-2": "1.50"},
            "safety_stock": {"NOT-YET-BUILT": 2},  # a location to come keeps its code
        },
    )

    assert saved.status_code == 200, saved.text
    profile = saved.json()
    assert profile["excluded_locations"] == ["WH-1"]
    assert (profile["daily_capacity"], profile["handling_cost"]) == ({"WH-2": 40}, {"WH-2": "1.50"})
    assert profile["safety_stock"] == {"NOT-YET-BUILT": 2}
    order = _order(client, shop, shipping_address=BOSTON)
    assert [a["location"] for a in order["allocations"]] == ["WH-2"]


def test_a_routing_profile_naming_one_location_twice_is_refused(
    client: TestClient, shop: ApiTenant
) -> None:
    first = _location(client, shop, "WH-1")

    refused = client.put(
        "/v1/routing-profile",
        headers=shop.headers,
        json={"daily_capacity": {first["id"]: 5, "WH-1": 6}},
    )

    pointers = [e["pointer"] for e in assert_problem(refused, 422)["errors"]]
    assert pointers == ["#/daily_capacity/WH-1"]
