"""An order edited before release is routed again as intake routed it, over HTTP with carrier
rate cards, on both databases: the same geocode of its address (the API's offline
geocoder), the tenant's profile and the rate cards; its fulfilment order keeps a carrier
service, and it ships.

Rate cards are deployment-wide, so this module runs on a database of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import create_app
from oms.services.checks import find_invariant_violations
from tests.api.fulfilment_support import get_json, post_json
from tests.api.support import (
    ApiTenant,
    TestClient,
    api_settings_for,
    create_product,
    new_operator_headers,
    new_tenant,
    set_on_hand,
)
from tests.databases import ENGINES, own_database

US_RATES = """
- carrier: parcelco
  code: ground
  name: ParcelCo Ground
  currency: USD
  zones:
    distance_bands:
      - {up_to_km: 50, zone: local}
      - {up_to_km: .inf, zone: far}
  prices:
    - {zone: local, transit_days: 1, per_kg_over: "0.50",
       breaks: [{up_to_grams: 5000, price: "6.00"}]}
    - {zone: far, transit_days: 3, per_kg_over: "1.00",
       breaks: [{up_to_grams: 5000, price: "12.00"}]}
"""
# No coordinates: the API's geocoder places it by its ZIP code.
NEW_YORK = {
    "name": "Pat Doe",
    "line1": "350 5th Ave",
    "city": "New York",
    "region": "NY",
    "postal_code": "10001",
    "country": "US",
}
CARD = {"gateway": "test", "token": "tok_approve"}


@pytest.fixture(scope="module", params=ENGINES)
def api_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from own_database(request, "edit_routing")


@pytest.fixture(scope="module")
def api_uow(api_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(api_engine)


@pytest.fixture(scope="module")
def client(api_engine: Engine, api_uow: SqlUnitOfWorkFactory) -> Iterator[TestClient]:
    app = create_app(api_settings_for(str(api_engine.url)), engine=api_engine)
    with TestClient(app) as client:
        imported = client.post(
            "/v1/carrier-services/import",
            headers=new_operator_headers(api_uow),
            json={"format": "yaml", "document": US_RATES},
        )
        assert imported.status_code == 200, imported.text
        yield client


@pytest.fixture
def shop(api_uow: SqlUnitOfWorkFactory, client: TestClient) -> ApiTenant:
    tenant = new_tenant(api_uow)
    response = client.post(
        "/v1/locations",
        headers=tenant.headers,
        json={
            "code": "NJ-1",
            "name": "Newark",
            "latitude": 40.73,
            "longitude": -74.17,
            "address": {"country": "US", "region": "NJ", "line1": "1 Dock St", "city": "Newark"},
            "boxes": [
                {
                    "code": "M",
                    "length_mm": 400,
                    "width_mm": 300,
                    "height_mm": 200,
                    "max_weight_grams": 10000,
                }
            ],
        },
    )
    assert response.status_code == 201, response.text
    create_product(client, tenant, "TEE", price="20.00", currency="USD", weight_grams=300)
    create_product(client, tenant, "MUG", price="8.00", currency="USD", weight_grams=400)
    set_on_hand(client, tenant, "TEE", "NJ-1", 10)
    set_on_hand(client, tenant, "MUG", "NJ-1", 10)
    return tenant


def _edit(
    client: TestClient, shop: ApiTenant, order: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    response = client.patch(
        f"/v1/orders/{order['id']}",
        headers={**shop.headers, "If-Match": f'"{order["version"]}"'},
        json=body,
    )
    assert response.status_code == 200, response.text
    edited: dict[str, Any] = response.json()
    return edited


def _routing(client: TestClient, shop: ApiTenant, order_id: str) -> dict[str, Any]:
    routing: dict[str, Any] = get_json(client, shop, f"/v1/orders/{order_id}/routing")
    return routing


def _routed_by_cost(routing: dict[str, Any]) -> tuple[Any, ...]:
    return (
        (routing.get("destination") or {}).get("precision"),
        [r["method"] for r in routing["rounds"]],
        [(p["location"], p.get("carrier"), p.get("service")) for p in routing["packages"]],
    )


def test_an_order_edited_before_release_is_routed_as_intake_routed_it_and_ships(
    client: TestClient, shop: ApiTenant, api_uow: SqlUnitOfWorkFactory
) -> None:
    placed = post_json(
        client,
        shop,
        "/v1/orders",
        {
            "currency": "USD",
            "lines": [{"sku": "TEE", "quantity": 1}],
            "customer": {"email": "pat@example.com", "name": "Pat Doe"},
            "shipping_address": NEW_YORK,
        },
        201,
    )
    at_intake = _routing(client, shop, placed["id"])
    assert _routed_by_cost(at_intake) == (
        "postal_code",
        ["exact"],
        [("NJ-1", "parcelco", "ground")],
    )

    edited = _edit(
        client,
        shop,
        placed,
        {"lines": [{"line_no": 1, "quantity": 2}, {"sku": "MUG", "quantity": 1}]},
    )

    after_edit = _routing(client, shop, placed["id"])
    assert _routed_by_cost(after_edit) == _routed_by_cost(at_intake)
    assert after_edit["destination"] == at_intake["destination"]
    assert after_edit["profile_version"] == at_intake["profile_version"]
    assert edited["routing_profile_version"] == placed["routing_profile_version"]
    paid = post_json(client, shop, f"/v1/orders/{placed['id']}/payments/authorize", CARD)
    assert paid["released_at"] is not None
    (fo,) = get_json(client, shop, f"/v1/orders/{placed['id']}/fulfillment-orders")["items"]
    assert (fo["carrier"], fo["service"]) == ("parcelco", "ground")
    wave = post_json(client, shop, "/v1/locations/NJ-1/pick-waves", {"max_orders": 10}, 201)
    post_json(client, shop, f"/v1/pick-waves/{wave['id']}/confirm")
    post_json(
        client,
        shop,
        f"/v1/fulfillment-orders/{fo['id']}/packages",
        {"scans": ["TEE", "TEE", "MUG"]},
        201,
    )

    shipped = post_json(client, shop, f"/v1/fulfillment-orders/{fo['id']}/shipments", None, 201)

    assert (shipped["carrier"], shipped["service"]) == ("parcelco", "ground")
    broken = [v for v in find_invariant_violations(uow_factory=api_uow) if v.tenant_id == shop.id]
    assert broken == []


def test_an_order_whose_address_is_edited_is_routed_to_the_new_place(
    client: TestClient, shop: ApiTenant
) -> None:
    placed = post_json(
        client,
        shop,
        "/v1/orders",
        {
            "currency": "USD",
            "lines": [{"sku": "TEE", "quantity": 1}],
            "customer": {"email": "pat@example.com", "name": "Pat Doe"},
            "shipping_address": NEW_YORK,
        },
        201,
    )
    assert _routing(client, shop, placed["id"])["packages"][0]["shipping"] == "6.00"
    los_angeles = {
        **NEW_YORK,
        "line1": "1 Main St",
        "city": "Los Angeles",
        "region": "CA",
        "postal_code": "90012",
    }

    _edit(client, shop, placed, {"shipping_address": los_angeles})

    routing = _routing(client, shop, placed["id"])
    assert _routed_by_cost(routing) == ("postal_code", ["exact"], [("NJ-1", "parcelco", "ground")])
    assert routing["packages"][0]["shipping"] == "12.00"  # far now


def test_an_order_no_carrier_service_can_take_is_held_before_anyone_picks_it(
    client: TestClient, shop: ApiTenant
) -> None:
    # The geocoder cannot place it, and the rate card prices only by distance.
    outlying = {**NEW_YORK, "city": "Wake Island", "region": "79", "postal_code": "96898"}
    outlying["country"] = "UM"
    placed = post_json(
        client,
        shop,
        "/v1/orders",
        {
            "currency": "USD",
            "lines": [{"sku": "TEE", "quantity": 1}],
            "customer": {"email": "pat@example.com", "name": "Pat Doe"},
            "shipping_address": outlying,
            "payment": CARD,
        },
        201,
    )

    held = get_json(client, shop, f"/v1/orders/{placed['id']}")
    assert held["released_at"] is None
    assert _open_holds(held) == ["no_carrier_service"]
    routing = _routing(client, shop, placed["id"])
    assert [(p["location"], p.get("unpriced")) for p in routing["packages"]] == [("NJ-1", True)]
    assert get_json(client, shop, f"/v1/orders/{placed['id']}/fulfillment-orders")["items"] == []
    assert get_json(client, shop, "/v1/inventory/TEE")["reserved"] == 1

    fixed = _edit(client, shop, held, {"shipping_address": NEW_YORK})

    assert _open_holds(fixed) == []
    assert fixed["released_at"] is not None
    (fo,) = get_json(client, shop, f"/v1/orders/{placed['id']}/fulfillment-orders")["items"]
    assert (fo["carrier"], fo["service"]) == ("parcelco", "ground")


def _open_holds(order: dict[str, Any]) -> list[str]:
    return sorted(h["reason"] for h in order["holds"] if h["released_at"] is None)
