"""Every list answers one shape: ``{"items": [...], "next_cursor": ...}``, paged with
``?limit=`` and ``?cursor=`` (docs/api.md), whether it lists a tenant's products or one
order's shipments."""

from __future__ import annotations

from typing import Any

from tests.api.support import (
    ApiTenant,
    TestClient,
    create_location,
    create_product,
    place_order,
    set_on_hand,
    walk_pages,
)


def _schema(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        node = document["components"]["schemas"][name]
    return node


def _list_routes(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every GET under /v1 whose success answer is a list (a bare array, or a page)."""
    found: dict[str, dict[str, Any]] = {}
    for path, operations in document["paths"].items():
        get = operations.get("get")
        if not path.startswith("/v1/") or get is None:
            continue
        content = get["responses"].get("200", {}).get("content", {})
        body = content.get("application/json", {}).get("schema")
        if body is None:
            continue
        shape = _schema(document, body)
        if shape.get("type") == "array" or "items" in shape.get("properties", {}):
            found[path] = {"shape": shape, "operation": get}
    return found


def test_no_list_answers_a_bare_array(client: TestClient) -> None:
    document = client.get("/openapi.json").json()

    lists = _list_routes(document)

    bare = sorted(path for path, route in lists.items() if route["shape"].get("type") == "array")
    assert bare == []
    assert "/v1/orders/{order_id}/shipments" in lists


def test_every_list_is_a_page_with_a_cursor_and_a_limit(client: TestClient) -> None:
    document = client.get("/openapi.json").json()

    for path, route in _list_routes(document).items():
        properties = route["shape"].get("properties", {})
        parameters = {p["name"] for p in route["operation"].get("parameters", [])}
        assert {"items", "next_cursor"} <= set(properties), path
        assert {"limit", "cursor"} <= parameters, path


def test_an_orders_timeline_pages_through_every_event_in_order(
    client: TestClient, tenant: ApiTenant
) -> None:
    create_location(client, tenant, "WH-1")
    create_product(client, tenant, "TEE")
    set_on_hand(client, tenant, "TEE", "WH-1", 5)
    order = place_order(client, tenant, ("TEE", 1))
    for note in ("first", "second"):
        held = client.post(
            f"/v1/orders/{order['id']}/holds",
            headers=tenant.headers,
            json={"reason": "manual", "note": note},
        )
        assert held.status_code in (200, 201), held.text
        release = client.post(
            f"/v1/orders/{order['id']}/holds/{held.json()['id']}/release",
            headers=tenant.headers,
            json={"note": "checked"},
        )
        assert release.status_code == 200, release.text
    path = f"/v1/orders/{order['id']}/events"
    whole = client.get(path, headers=tenant.headers, params={"limit": 50}).json()

    pages = walk_pages(client, path, tenant.headers, limit=2)

    seqs = [event["seq"] for page in pages for event in page]
    assert seqs == [event["seq"] for event in whole["items"]]
    assert seqs == sorted(set(seqs))
    assert len(seqs) > 2
    assert all(len(page) == 2 for page in pages[:-1])
    assert whole["next_cursor"] is None
