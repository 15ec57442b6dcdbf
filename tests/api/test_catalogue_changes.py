"""Products and locations are edited in part (PATCH) and archived (DELETE), never erased.

An SKU and a location code never change. An archived product keeps its history but cannot
be ordered; an archived location keeps its history but is not routed to; a location still
holding reserved stock cannot be archived (409).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_location,
    create_product,
    order_body,
    place_order,
    set_on_hand,
    stock_of,
)


def _pointers(response: Any) -> list[str]:
    return sorted(e["pointer"] for e in assert_problem(response, 422)["errors"])


def _patch(client: TestClient, tenant: ApiTenant, path: str, body: dict[str, Any]) -> Any:
    return client.patch(path, headers=tenant.headers, json=body)


# --- products ---------------------------------------------------------------------------------


def test_a_product_is_edited_in_part_and_keeps_what_was_not_named(
    client: TestClient, tenant: ApiTenant
) -> None:
    product = create_product(
        client, tenant, "TEE", price="10.00", weight_grams=200, category="shirts"
    )

    response = _patch(
        client, tenant, f"/v1/products/{product['id']}", {"name": "Tee, black", "price": "12.50"}
    )

    assert response.status_code == 200, response.text
    edited = response.json()
    assert (edited["name"], edited["price"]) == ("Tee, black", "12.50")
    unchanged = {k: v for k, v in edited.items() if k not in ("name", "price")}
    assert unchanged == {k: v for k, v in product.items() if k not in ("name", "price")}
    read = client.get(f"/v1/products/{product['id']}", headers=tenant.headers).json()
    assert read == edited


def test_an_optional_product_field_is_cleared_with_null(
    client: TestClient, tenant: ApiTenant
) -> None:
    product = create_product(
        client, tenant, "BOX", category="gifts", length_mm=10, width_mm=20, height_mm=30
    )

    cleared = _patch(
        client,
        tenant,
        f"/v1/products/{product['id']}",
        {"category": None, "length_mm": None, "width_mm": None, "height_mm": None},
    )

    assert cleared.status_code == 200, cleared.text
    assert [cleared.json()[k] for k in ("category", "length_mm", "width_mm", "height_mm")] == [
        None
    ] * 4


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        pytest.param({"sku": "OTHER"}, ["#/sku"], id="sku-never-changes"),
        pytest.param({"kind": "digital"}, ["#/kind"], id="kind-never-changes"),
        pytest.param({"components": []}, ["#/components"], id="components-never-change"),
        pytest.param({"name": None}, ["#/name"], id="a-name-cannot-be-cleared"),
        pytest.param({"price": "-1"}, ["#/price"], id="negative-price"),
        pytest.param({"currency": "ZZZ"}, ["#/currency"], id="unknown-currency"),
        pytest.param({"length_mm": 10}, ["#/height_mm", "#/width_mm"], id="one-dimension"),
        pytest.param(
            {"download_url": "https://x.example/f"}, ["#/download_url"], id="url-not-digital"
        ),
        pytest.param({"colour": "red"}, ["#/colour"], id="unknown-field"),
    ],
)
def test_a_bad_product_edit_is_refused_with_pointers_and_changes_nothing(
    client: TestClient, tenant: ApiTenant, body: dict[str, Any], pointers: list[str]
) -> None:
    product = create_product(client, tenant, "TEE")

    response = _patch(client, tenant, f"/v1/products/{product['id']}", body)

    assert _pointers(response) == pointers
    assert client.get(f"/v1/products/{product['id']}", headers=tenant.headers).json() == product


def test_an_archived_product_keeps_its_history_but_cannot_be_ordered(
    client: TestClient, tenant: ApiTenant
) -> None:
    create_location(client, tenant, "WH-1")
    product = create_product(client, tenant, "OLD")
    create_product(client, tenant, "NEW")
    set_on_hand(client, tenant, "OLD", "WH-1", 5)
    earlier = place_order(client, tenant, ("OLD", 1))

    archived = client.delete(f"/v1/products/{product['id']}", headers=tenant.headers)

    assert (archived.status_code, archived.content) == (204, b"")
    read = client.get(f"/v1/products/{product['id']}", headers=tenant.headers).json()
    assert read["archived_at"] is not None
    refused = client.post(
        "/v1/orders", headers=tenant.headers, json=order_body(("NEW", 1), ("OLD", 1))
    )
    problem = assert_problem(refused, 422)
    assert [(e["pointer"], "archived" in e["detail"]) for e in problem["errors"]] == [
        ("#/lines/1/sku", True)
    ]
    cart = client.post(
        "/v1/reservations", headers=tenant.headers, json={"lines": [{"sku": "OLD", "quantity": 1}]}
    )
    assert _pointers(cart) == ["#/lines/0/sku"]
    # History stays: the earlier order, the stock and the ledger still read.
    order = client.get(f"/v1/orders/{earlier['id']}", headers=tenant.headers).json()
    assert [line["sku"] for line in order["lines"]] == ["OLD"]
    assert stock_of(client, tenant, "OLD")["reserved"] == 1
    # Archiving again changes nothing; lists can leave archived products out.
    again = client.delete(f"/v1/products/{product['id']}", headers=tenant.headers)
    assert again.status_code == 204
    listed = client.get("/v1/products", headers=tenant.headers, params={"archived": "false"})
    assert [p["sku"] for p in listed.json()["items"]] == ["NEW"]
    everything = client.get("/v1/products", headers=tenant.headers)
    assert [p["sku"] for p in everything.json()["items"]] == ["NEW", "OLD"]


def test_another_tenants_product_cannot_be_edited_or_archived(
    client: TestClient, tenant: ApiTenant, other_tenant: ApiTenant
) -> None:
    theirs = create_product(client, other_tenant, "THEIRS")
    path = f"/v1/products/{theirs['id']}"

    assert_problem(_patch(client, tenant, path, {"name": "mine now"}), 404)
    assert_problem(client.delete(path, headers=tenant.headers), 404)
    assert client.get(path, headers=other_tenant.headers).json() == theirs


# --- locations --------------------------------------------------------------------------------


def test_a_location_is_edited_in_part_by_id_or_code(client: TestClient, tenant: ApiTenant) -> None:
    location = create_location(client, tenant, "WH-1", priority=5)

    by_code = _patch(
        client, tenant, "/v1/locations/WH-1", {"name": "Main warehouse", "can_pickup": True}
    )
    by_id = _patch(
        client,
        tenant,
        f"/v1/locations/{location['id']}",
        {"priority": 1, "address": {"country": "DE", "city": "Koeln"}},
    )

    assert by_code.status_code == 200, by_code.text
    assert by_id.status_code == 200, by_id.text
    edited = by_id.json()
    assert (edited["name"], edited["can_pickup"], edited["priority"]) == (
        "Main warehouse",
        True,
        1,
    )
    assert edited["address"]["city"] == "Koeln"
    assert (edited["code"], edited["kind"], edited["can_ship"]) == ("WH-1", "warehouse", True)


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        pytest.param({"code": "WH-9"}, ["#/code"], id="code-never-changes"),
        pytest.param({"name": None}, ["#/name"], id="a-name-cannot-be-cleared"),
        pytest.param({"latitude": 50.9}, ["#/longitude"], id="latitude-without-longitude"),
        pytest.param({"pickup_cutoff": "25:00"}, ["#/pickup_cutoff"], id="bad-cutoff"),
        pytest.param({"active": False}, ["#/active"], id="archive-with-delete"),
    ],
)
def test_a_bad_location_edit_is_refused_with_pointers_and_changes_nothing(
    client: TestClient, tenant: ApiTenant, body: dict[str, Any], pointers: list[str]
) -> None:
    location = create_location(client, tenant, "WH-1")

    response = _patch(client, tenant, "/v1/locations/WH-1", body)

    assert _pointers(response) == pointers
    assert client.get("/v1/locations/WH-1", headers=tenant.headers).json() == location


def test_a_location_holding_reserved_stock_cannot_be_archived_until_it_is_released(
    client: TestClient, tenant: ApiTenant
) -> None:
    create_location(client, tenant, "WH-1", priority=1)
    create_location(client, tenant, "WH-2", priority=2)
    create_product(client, tenant, "TEE")
    set_on_hand(client, tenant, "TEE", "WH-1", 5)
    set_on_hand(client, tenant, "TEE", "WH-2", 5)
    order = place_order(client, tenant, ("TEE", 2))
    assert [a["location"] for a in order["allocations"]] == ["WH-1"]

    refused = client.delete("/v1/locations/WH-1", headers=tenant.headers)

    assert_problem(refused, 409, "stock_reserved")
    assert client.get("/v1/locations/WH-1", headers=tenant.headers).json()["active"] is True
    cancelled = client.post(f"/v1/orders/{order['id']}/cancel", headers=tenant.headers, json={})
    assert cancelled.status_code == 200, cancelled.text
    archived = client.delete("/v1/locations/WH-1", headers=tenant.headers)
    assert archived.status_code == 204, archived.text
    read = client.get("/v1/locations/WH-1", headers=tenant.headers).json()
    assert (read["active"], read["archived_at"] is not None) == (False, True)
    # Not routed to any more (though it has the better priority), and its stock stays.
    later = place_order(client, tenant, ("TEE", 1))
    assert [a["location"] for a in later["allocations"]] == ["WH-2"]
    at_wh1 = next(
        row for row in stock_of(client, tenant, "TEE")["locations"] if row["location"] == "WH-1"
    )
    assert at_wh1["on_hand"] == 5


def test_an_archived_store_takes_no_pickups(client: TestClient, tenant: ApiTenant) -> None:
    store = client.post(
        "/v1/locations",
        headers=tenant.headers,
        json={"code": "STORE-1", "name": "Store", "kind": "store", "can_pickup": True},
    )
    assert store.status_code == 201, store.text
    create_product(client, tenant, "MUG")
    set_on_hand(client, tenant, "MUG", "STORE-1", 3)
    assert client.delete("/v1/locations/STORE-1", headers=tenant.headers).status_code == 204

    refused = client.post(
        "/v1/orders",
        headers=tenant.headers,
        json=order_body(("MUG", 1), pickup_location="STORE-1", customer={"email": "a@b.example"}),
    )

    assert _pointers(refused) == ["#/pickup_location"]


def test_only_the_owner_edits_or_archives_a_location(
    client: TestClient, tenant: ApiTenant, operator_headers: dict[str, str]
) -> None:
    code = f"HUB-{str(tenant.id)[-8:]}"
    hub = client.post("/v1/locations", headers=operator_headers, json={"code": code, "name": "Hub"})
    assert hub.status_code == 201, hub.text
    granted = client.post(
        f"/v1/locations/{code}/grants",
        headers=operator_headers,
        json={"tenant_id": str(tenant.id)},
    )
    assert granted.status_code == 204, granted.text

    assert_problem(_patch(client, tenant, f"/v1/locations/{code}", {"name": "Mine"}), 403)
    assert_problem(client.delete(f"/v1/locations/{code}", headers=tenant.headers), 403)
    renamed = client.patch(
        f"/v1/locations/{code}", headers=operator_headers, json={"name": "3PL hub"}
    )
    assert renamed.status_code == 200, renamed.text
    assert client.get(f"/v1/locations/{code}", headers=tenant.headers).json()["name"] == "3PL hub"
    archived = client.delete(f"/v1/locations/{code}", headers=operator_headers)
    assert archived.status_code == 204, archived.text
