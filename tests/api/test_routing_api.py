"""Routing over HTTP: profiles, rate cards, rate shopping, an order's routing and reroute.

Rate cards are deployment-wide, so this module runs on a database of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import create_app
from oms.config import Settings
from tests.api.fulfilment_support import own_engine
from tests.api.support import (
    ApiTenant,
    TestClient,
    api_settings_for,
    assert_problem,
    create_product,
    new_operator_headers,
    new_tenant,
    place_order,
    set_on_hand,
)
from tests.databases import ENGINES
from tests.integration.test_routing import RATES

COLOGNE = {
    "name": "E M",
    "line1": "Heidestrasse 17",
    "city": "Koeln",
    "postal_code": "51147",
    "country": "DE",
    "latitude": 50.94,
    "longitude": 6.96,
}


@pytest.fixture(scope="module", params=ENGINES)
def api_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from own_engine(request, "routing_api")


@pytest.fixture(scope="module")
def api_uow(api_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(api_engine)


@pytest.fixture(scope="module")
def client(api_engine: Engine) -> Iterator[TestClient]:
    settings: Settings = api_settings_for(api_engine.url.render_as_string(hide_password=False))
    with TestClient(create_app(settings, engine=api_engine)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def operator(api_uow: SqlUnitOfWorkFactory, client: TestClient) -> dict[str, str]:
    headers = new_operator_headers(api_uow)
    imported = client.post(
        "/v1/carrier-services/import", headers=headers, json={"format": "yaml", "document": RATES}
    )
    assert imported.status_code == 200, imported.text
    return headers


@pytest.fixture
def shop(api_uow: SqlUnitOfWorkFactory, client: TestClient, operator: dict[str, str]) -> ApiTenant:
    tenant = new_tenant(api_uow)
    for code, lat, lon, priority in (("NEAR", 50.88, 7.06, 50), ("FAR", 48.14, 11.58, 10)):
        response = client.post(
            "/v1/locations",
            headers=tenant.headers,
            json={
                "code": code,
                "name": code,
                "latitude": lat,
                "longitude": lon,
                "priority": priority,
                "address": {"country": "DE"},
            },
        )
        assert response.status_code == 201, response.text
    create_product(client, tenant, "X", weight_grams=500)
    for code in ("NEAR", "FAR"):
        set_on_hand(client, tenant, "X", code, 10)
    return tenant


def test_a_tenant_key_cannot_import_rate_cards(client: TestClient, shop: ApiTenant) -> None:
    response = client.post(
        "/v1/carrier-services/import",
        headers=shop.headers,
        json={"format": "yaml", "document": RATES},
    )
    assert_problem(response, 403, "forbidden")
    listed = client.get("/v1/carrier-services", headers=shop.headers)
    assert [(s["carrier"], s["code"]) for s in listed.json()["items"]] == [("acme", "ground")]


def test_a_bad_rate_card_answers_422_with_a_pointer(
    client: TestClient, operator: dict[str, str]
) -> None:
    response = client.post(
        "/v1/carrier-services/import",
        headers=operator,
        json={"format": "yaml", "document": "- carrier: acme\n"},
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["pointer"].startswith("#/0")


def test_rate_shopping_lists_what_arrives_in_time_cheapest_first(
    client: TestClient, shop: ApiTenant
) -> None:
    near = client.post(
        "/v1/rates",
        headers=shop.headers,
        json={"origin": "NEAR", "destination": COLOGNE, "weight_grams": 1200},
    )
    far = client.post(
        "/v1/rates",
        headers=shop.headers,
        json={"origin": "FAR", "destination": COLOGNE, "weight_grams": 1200},
    )
    assert [(q["service"], q["zone"], q["price"]) for q in near.json()] == [
        ("ground", "local", "4.00")
    ]
    assert far.json()[0]["zone"] == "far"
    unknown = client.post(
        "/v1/rates",
        headers=shop.headers,
        json={"origin": "NOPE", "destination": COLOGNE, "weight_grams": 1},
    )
    assert_problem(unknown, 422)


def test_profile_changes_are_versions_and_orders_record_theirs(
    client: TestClient, shop: ApiTenant
) -> None:
    assert client.get("/v1/routing-profile", headers=shop.headers).json()["version"] == 0
    saved = client.put(
        "/v1/routing-profile",
        headers=shop.headers,
        json={"excluded_locations": ["NEAR"], "split_penalty": "2.50"},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 1
    bad = client.put("/v1/routing-profile", headers=shop.headers, json={"max_locations": 0})
    assert assert_problem(bad, 422)["errors"][0]["pointer"] == "#/max_locations"
    versions = client.get("/v1/routing-profile/versions", headers=shop.headers).json()
    assert [v["version"] for v in versions["items"]] == [1]

    order = place_order(client, shop, ("X", 1), shipping_address=COLOGNE)
    assert order["routing_profile_version"] == 1
    routing = client.get(f"/v1/orders/{order['id']}/routing", headers=shop.headers).json()
    assert [p["location"] for p in routing["packages"]] == ["FAR"]
    assert {"location": "NEAR", "why": "excluded"} in routing["rounds"][0]["rejected"]


def _settings_of(profile: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in profile.items() if k not in ("version", "created_at", "created_by")}


def test_what_get_answers_put_takes_back_unchanged_and_saves_the_same_profile(
    client: TestClient, shop: ApiTenant
) -> None:
    defaults = client.get("/v1/routing-profile", headers=shop.headers).json()
    first = client.put("/v1/routing-profile", headers=shop.headers, json=defaults)
    assert first.status_code == 200, first.text
    assert (first.json()["version"], _settings_of(first.json())) == (1, _settings_of(defaults))
    changed = client.put(
        "/v1/routing-profile",
        headers=shop.headers,
        json={
            "excluded_locations": ["NEAR"],
            "split_penalty": "2.50",
            "handling_cost": {"FAR": "1.25"},
            "daily_capacity": {"BONN": 40},
            "safety_stock": {"NEAR": 2},
            "service_levels": {"standard": 4, "express": 2},
        },
    )
    assert changed.status_code == 200, changed.text
    read = client.get("/v1/routing-profile", headers=shop.headers).json()

    again = client.put("/v1/routing-profile", headers=shop.headers, json=read)

    assert again.status_code == 200, again.text
    assert again.json()["version"] == read["version"] + 1
    assert _settings_of(again.json()) == _settings_of(read)
    assert _settings_of(client.get("/v1/routing-profile", headers=shop.headers).json()) == (
        _settings_of(read)
    )
    # A version from the history goes back unchanged too (its created_at and created_by
    # describe that version; a PUT makes a new one).
    history = client.get("/v1/routing-profile/versions", headers=shop.headers).json()["items"]
    oldest = history[-1]
    assert oldest["version"] == 1
    restored = client.put("/v1/routing-profile", headers=shop.headers, json=oldest)
    assert restored.status_code == 200, restored.text
    assert _settings_of(restored.json()) == _settings_of(oldest) == _settings_of(defaults)


def test_an_order_goes_to_the_cheapest_location_and_can_be_rerouted(
    client: TestClient, shop: ApiTenant
) -> None:
    order = place_order(client, shop, ("X", 2), shipping_address=COLOGNE)
    routing = client.get(f"/v1/orders/{order['id']}/routing", headers=shop.headers).json()
    assert [p["location"] for p in routing["packages"]] == ["NEAR"]
    assert routing["destination"]["precision"] == "given"
    assert order["promised_deliver_by"] is not None

    moved = client.post(
        f"/v1/orders/{order['id']}/reroute",
        headers=shop.headers,
        json={"exclude_locations": ["NEAR"], "reason": "NEAR is closed today"},
    )
    assert moved.status_code == 200, moved.text
    assert [a["location"] for a in moved.json()["allocations"] if a["quantity"]] == ["FAR"]
    assert [e["type"] for e in moved.json()["timeline"]].count("order.rerouted") == 1
    unknown_level = client.post(
        "/v1/orders",
        headers=shop.headers,
        json={
            "currency": "EUR",
            "lines": [{"sku": "X", "quantity": 1}],
            "service_level": "teleport",
        },
    )
    assert assert_problem(unknown_level, 422)["errors"][0]["pointer"] == "#/service_level"
