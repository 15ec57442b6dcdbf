"""Orders over HTTP: intake and reservation, cancelling, and listing with cursors and filters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from oms.config import Settings
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_location,
    create_product,
    place_order,
    set_on_hand,
    stock_of,
    walk_pages,
)


def _allocated(order: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(sku, location id, units still reserved) of every allocation."""
    return sorted((a["sku"], a["location_id"], a["quantity"]) for a in order["allocations"])


def _event_types(order: dict[str, Any]) -> list[str]:
    return [event["type"] for event in order["timeline"]]


def _quantities(order: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {line["sku"]: line["quantities"] for line in order["lines"]}


def _stocked_location(
    client: TestClient, tenant: ApiTenant, code: str, priority: int, stock: dict[str, int]
) -> str:
    location = create_location(client, tenant, code, priority=priority)
    for sku, units in stock.items():
        set_on_hand(client, tenant, sku, code, units)
    location_id: str = location["id"]
    return location_id


@pytest.fixture
def shop(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    """Products TEE and MUG, a bundle KIT (2 TEE + 1 MUG) and a digital E-BOOK."""
    create_product(client, tenant, "TEE", price="15.00")
    create_product(client, tenant, "MUG", price="7.50")
    create_product(
        client,
        tenant,
        "KIT",
        price="30.00",
        kind="bundle",
        components=[{"sku": "TEE", "quantity": 2}, {"sku": "MUG", "quantity": 1}],
    )
    create_product(client, tenant, "E-BOOK", price="9.99", kind="digital")
    return tenant


def test_placing_an_order_answers_201_with_lines_allocations_statuses_and_timeline(
    client: TestClient, shop: ApiTenant
) -> None:
    wh = _stocked_location(client, shop, "WH-1", 10, {"TEE": 5, "MUG": 5})

    response = client.post(
        "/v1/orders",
        headers=shop.headers,
        json={
            "currency": "EUR",
            "channel": "web",
            "customer": {"email": "Ann@Example.com", "name": "Ann"},
            "lines": [{"sku": "TEE", "quantity": 2}, {"sku": "MUG", "quantity": 1}],
        },
    )

    assert response.status_code == 201, response.text
    order = response.json()
    assert response.headers["location"] == f"/v1/orders/{order['id']}"
    open_holds = [hold for hold in order.get("holds", []) if hold["released_at"] is None]
    assert order["status"] == ("on_hold" if open_holds else "open")
    assert (order["fulfillment_status"], order["payment_status"]) == ("unfulfilled", "pending")
    assert [(line["line_no"], line["sku"], line["total"]) for line in order["lines"]] == [
        (1, "TEE", "30.00"),
        (2, "MUG", "7.50"),
    ]
    assert order["total"] == "37.50"
    assert _quantities(order)["TEE"] == {
        "ordered": 2,
        "allocated": 2,
        "backordered": 0,
        "shipped": 0,
        "delivered": 0,
        "cancelled": 0,
        "returned": 0,
    }
    assert _allocated(order) == [("MUG", wh, 1), ("TEE", wh, 2)]
    assert order["customer"]["email"] == "ann@example.com"
    assert order["timeline"][0]["type"] == "order.placed"
    assert _event_types(order).count("order.placed") == 1
    assert client.get(f"/v1/orders/{order['id']}", headers=shop.headers).json() == order
    assert stock_of(client, shop, "TEE")["reserved"] == 2


def test_one_location_with_everything_is_preferred_to_a_split(
    client: TestClient, shop: ApiTenant
) -> None:
    _stocked_location(client, shop, "FIRST", 10, {"TEE": 5, "MUG": 0})
    second = _stocked_location(client, shop, "SECOND", 20, {"TEE": 5, "MUG": 5})

    order = place_order(client, shop, ("TEE", 2), ("MUG", 2))

    assert _allocated(order) == [("MUG", second, 2), ("TEE", second, 2)]


def test_without_a_single_location_lines_split_in_priority_order(
    client: TestClient, shop: ApiTenant
) -> None:
    # Codes sort the other way round from priorities: priority decides, not the code.
    low = _stocked_location(client, shop, "A-LOW", 50, {"TEE": 3})
    high = _stocked_location(client, shop, "Z-HIGH", 10, {"TEE": 2})
    _stocked_location(client, shop, "M-LAST", 90, {"TEE": 3})

    order = place_order(client, shop, ("TEE", 4))

    assert _allocated(order) == sorted([("TEE", high, 2), ("TEE", low, 2)])
    assert _quantities(order)["TEE"]["allocated"] == 4


def test_units_no_location_has_are_backordered(client: TestClient, shop: ApiTenant) -> None:
    wh = _stocked_location(client, shop, "WH-1", 10, {"TEE": 3})

    order = place_order(client, shop, ("TEE", 5))

    assert _quantities(order)["TEE"]["allocated"] == 3
    assert _quantities(order)["TEE"]["backordered"] == 2
    assert _allocated(order) == [("TEE", wh, 3)]
    stock = stock_of(client, shop, "TEE")
    assert (stock["reserved"], stock["available"]) == (3, 0)


def test_a_bundle_reserves_its_components(client: TestClient, shop: ApiTenant) -> None:
    wh = _stocked_location(client, shop, "WH-1", 10, {"TEE": 10, "MUG": 10})

    order = place_order(client, shop, ("KIT", 3))

    assert _quantities(order)["KIT"]["allocated"] == 3
    assert _allocated(order) == [("MUG", wh, 3), ("TEE", wh, 6)]
    assert stock_of(client, shop, "TEE")["reserved"] == 6
    assert stock_of(client, shop, "MUG")["reserved"] == 3
    assert stock_of(client, shop, "KIT")["available"] == 2  # min(4 // 2, 7 // 1)


def test_a_digital_line_needs_no_stock(client: TestClient, shop: ApiTenant) -> None:
    order = place_order(client, shop, ("E-BOOK", 2), allow_backorder=False)

    assert _quantities(order)["E-BOOK"]["allocated"] == 2
    assert _quantities(order)["E-BOOK"]["backordered"] == 0
    assert order["allocations"] == []


def test_cancelling_releases_the_reservations(client: TestClient, shop: ApiTenant) -> None:
    _stocked_location(client, shop, "WH-1", 10, {"TEE": 10, "MUG": 10})
    placed = place_order(client, shop, ("KIT", 2), ("TEE", 1), ("MUG", 20))

    response = client.post(
        f"/v1/orders/{placed['id']}/cancel", headers=shop.headers, json={"reason": "fraud"}
    )

    assert response.status_code == 200, response.text
    order = response.json()
    assert order["status"] == "cancelled"
    cancelled = [e for e in order["timeline"] if e["type"] == "order.cancelled"]
    assert [event["reason"] for event in cancelled] == ["fraud"]
    assert {sku: q["cancelled"] for sku, q in _quantities(order).items()} == {
        "KIT": 2,
        "TEE": 1,
        "MUG": 20,
    }
    assert all(a["quantity"] == 0 for a in order["allocations"])
    for sku in ("TEE", "MUG"):
        stock = stock_of(client, shop, sku)
        assert (stock["on_hand"], stock["reserved"], stock["available"]) == (10, 0, 10)


def test_cancelling_again_changes_nothing(client: TestClient, shop: ApiTenant) -> None:
    _stocked_location(client, shop, "WH-1", 10, {"TEE": 10})
    placed = place_order(client, shop, ("TEE", 4))
    first = client.post(f"/v1/orders/{placed['id']}/cancel", headers=shop.headers)
    place_order(client, shop, ("TEE", 4))  # a second release would eat this reservation

    again = client.post(f"/v1/orders/{placed['id']}/cancel", headers=shop.headers)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert _event_types(again.json()).count("order.cancelled") == 1
    assert stock_of(client, shop, "TEE")["reserved"] == 4


def test_the_order_list_walks_every_order_once_newest_first(
    client: TestClient, shop: ApiTenant
) -> None:
    placed = [place_order(client, shop, ("E-BOOK", n))["id"] for n in range(1, 8)]

    pages = walk_pages(client, "/v1/orders", shop.headers, limit=3)

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [order["id"] for page in pages for order in page] == placed[::-1]
    assert all(order["timeline"] is None for page in pages for order in page)


def test_the_order_list_uses_the_default_page_size_without_a_limit(
    client: TestClient, shop: ApiTenant, api_settings: Settings
) -> None:
    for _ in range(api_settings.default_page_size + 1):
        place_order(client, shop, ("E-BOOK", 1))

    page = client.get("/v1/orders", headers=shop.headers).json()

    assert len(page["items"]) == api_settings.default_page_size
    assert page["next_cursor"] is not None


@dataclass(frozen=True)
class History:
    """Four orders placed one after another; the third one cancelled."""

    ids: dict[str, str]
    created: dict[str, datetime]
    statuses: dict[str, str]

    def at(self, name: str, *, offset_hours: int = 0, plus: timedelta = timedelta()) -> str:
        """When ``name`` was created, as ISO 8601 in the given UTC offset."""
        zone = timezone(timedelta(hours=offset_hours))
        return (self.created[name] + plus).astimezone(zone).isoformat()


@pytest.fixture
def history(client: TestClient, shop: ApiTenant) -> History:
    ids: dict[str, str] = {}
    created: dict[str, datetime] = {}
    for name, channel, email in [
        ("first", "web", "ann@example.com"),
        ("second", "shopify", "bob@example.com"),
        ("third", "web", "bob@example.com"),
        ("fourth", "web", "ann@example.com"),
    ]:
        order = place_order(client, shop, ("E-BOOK", 1), channel=channel, customer={"email": email})
        ids[name], created[name] = order["id"], datetime.fromisoformat(order["created_at"])
    cancelled = client.post(f"/v1/orders/{ids['third']}/cancel", headers=shop.headers)
    assert cancelled.status_code == 200
    statuses = {
        name: client.get(f"/v1/orders/{order_id}", headers=shop.headers).json()["status"]
        for name, order_id in ids.items()
    }
    assert sorted(created.values()) == list(created.values())
    return History(ids=ids, created=created, statuses=statuses)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(lambda _: {}, ["fourth", "third", "second", "first"], id="none"),
        pytest.param(lambda _: {"channel": "shopify"}, ["second"], id="channel"),
        pytest.param(
            lambda _: {"customer_email": "BOB@example.com"}, ["third", "second"], id="email"
        ),
        pytest.param(
            lambda h: {"created_from": h.at("third")}, ["fourth", "third"], id="from-inclusive"
        ),
        pytest.param(
            lambda h: {"created_to": h.at("third")}, ["second", "first"], id="to-exclusive"
        ),
        pytest.param(
            lambda h: {"created_from": h.at("second", offset_hours=2)},
            ["fourth", "third", "second"],
            id="from-in-another-offset",
        ),
        pytest.param(
            lambda h: {
                "created_from": h.at("first", plus=timedelta(microseconds=1)),
                "created_to": h.at("fourth", offset_hours=-5),
            },
            ["third", "second"],
            id="from-and-to",
        ),
        pytest.param(
            lambda _: {"channel": "web", "customer_email": "ann@example.com"},
            ["fourth", "first"],
            id="channel-and-email",
        ),
        pytest.param(
            lambda _: {"channel": "shopify", "status": "cancelled"}, [], id="channel-and-status"
        ),
    ],
)
def test_order_filters_combine_with_and(
    client: TestClient,
    shop: ApiTenant,
    history: History,
    params: Callable[[History], dict[str, str]],
    expected: list[str],
) -> None:
    name_of = {order_id: name for name, order_id in history.ids.items()}

    pages = walk_pages(client, "/v1/orders", shop.headers, limit=2, params=params(history))

    assert [name_of[order["id"]] for page in pages for order in page] == expected


def test_the_status_filter_returns_exactly_the_orders_in_that_status(
    client: TestClient, shop: ApiTenant, history: History
) -> None:
    assert history.statuses["third"] == "cancelled"

    for status in {*history.statuses.values(), "closed"}:
        response = client.get("/v1/orders", headers=shop.headers, params={"status": status})

        found = [order["id"] for order in response.json()["items"]]
        wanted = [history.ids[n] for n in reversed(history.ids) if history.statuses[n] == status]
        assert found == wanted, status


@pytest.mark.parametrize("name", ["created_from", "created_to"])
def test_a_time_filter_without_a_timezone_answers_422(
    client: TestClient, tenant: ApiTenant, name: str
) -> None:
    response = client.get(
        "/v1/orders", headers=tenant.headers, params={name: "2025-03-01T12:00:00"}
    )

    body = assert_problem(response, 422)
    assert [error["pointer"] for error in body["errors"]] == [f"query:{name}"]


def test_an_unknown_status_filter_answers_422(client: TestClient, tenant: ApiTenant) -> None:
    response = client.get("/v1/orders", headers=tenant.headers, params={"status": "lost"})

    body = assert_problem(response, 422, "validation_failed")
    assert [error["pointer"] for error in body["errors"]] == ["query:status"]
