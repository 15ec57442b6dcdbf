"""Cart reservations over HTTP: holding stock for a checkout, giving it back, and an order
taking it over."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine, update

from oms.adapters.db.tables import cart_reservations
from tests.api.order_support import PAID, VALID_ADDRESS, stock_shop
from tests.api.support import ApiTenant, TestClient, assert_problem, order_body, stock_of


@pytest.fixture
def shop(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    """TEE and MUG, 5 units each."""
    return stock_shop(client, tenant, units=5)


def _reserve(client: TestClient, tenant: ApiTenant, *lines: tuple[str, int], **fields: Any) -> Any:
    body = {"lines": [{"sku": sku, "quantity": units} for sku, units in lines], **fields}
    return client.post("/v1/reservations", headers=tenant.headers, json=body)


def _reserved(client: TestClient, tenant: ApiTenant, *lines: tuple[str, int]) -> dict[str, Any]:
    response = _reserve(client, tenant, *lines)
    assert response.status_code == 201, response.text
    reservation: dict[str, Any] = response.json()
    return reservation


def _available(client: TestClient, tenant: ApiTenant) -> dict[str, int]:
    return {sku: stock_of(client, tenant, sku)["available"] for sku in ("TEE", "MUG")}


def _order(client: TestClient, tenant: ApiTenant, *lines: tuple[str, int], **fields: Any) -> Any:
    body = order_body(*lines, shipping_address=VALID_ADDRESS, payment=PAID, **fields)
    return client.post("/v1/orders", headers=tenant.headers, json=body)


def test_a_reservation_holds_the_stock_until_it_expires(
    client: TestClient, shop: ApiTenant
) -> None:
    response = _reserve(client, shop, ("TEE", 3), ("MUG", 1), ttl_seconds=600)

    assert response.status_code == 201, response.text
    reservation = response.json()
    assert response.headers["location"] == f"/v1/reservations/{reservation['id']}"
    assert (reservation["status"], reservation["order_id"], reservation["closed_at"]) == (
        "active",
        None,
        None,
    )
    assert [(ln["line_no"], ln["sku"], ln["quantity"]) for ln in reservation["lines"]] == [
        (1, "TEE", 3),
        (2, "MUG", 1),
    ]
    lifetime = datetime.fromisoformat(reservation["expires_at"]) - datetime.fromisoformat(
        reservation["created_at"]
    )
    assert lifetime == timedelta(seconds=600)
    assert _available(client, shop) == {"TEE": 2, "MUG": 4}
    read = client.get(f"/v1/reservations/{reservation['id']}", headers=shop.headers)
    assert read.json() == reservation


def test_reserving_more_than_is_available_is_409_and_holds_nothing(
    client: TestClient, shop: ApiTenant
) -> None:
    _reserved(client, shop, ("TEE", 3))

    response = _reserve(client, shop, ("MUG", 1), ("TEE", 3))

    problem = assert_problem(response, 409, "insufficient_stock")
    assert problem["shortages"] == [{"sku": "TEE", "requested": 3, "available": 2}]
    assert _available(client, shop) == {"TEE": 2, "MUG": 5}


@pytest.mark.parametrize(
    ("fields", "code", "pointer"),
    [
        ({"ttl_seconds": 3601}, "invalid_request", "#/ttl_seconds"),
        ({"ttl_seconds": 0}, "validation_failed", "#/ttl_seconds"),
        ({"lines": []}, "validation_failed", "#/lines"),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "invalid_request", "#/lines/0/sku"),
        ({"lines": [{"sku": "TEE", "quantity": 0}]}, "validation_failed", "#/lines/0/quantity"),
        ({"cart": "abc"}, "validation_failed", "#/cart"),
    ],
    ids=["longer than the policy", "zero ttl", "no lines", "unknown sku", "zero units", "unknown"],
)
def test_a_bad_reservation_is_refused_with_a_pointer(
    client: TestClient, shop: ApiTenant, fields: dict[str, Any], code: str, pointer: str
) -> None:
    body = {"lines": [{"sku": "TEE", "quantity": 1}], **fields}

    response = client.post("/v1/reservations", headers=shop.headers, json=body)

    problem = assert_problem(response, 422, code)
    assert [e["pointer"] for e in problem["errors"]] == [pointer]
    assert _available(client, shop) == {"TEE": 5, "MUG": 5}


def test_the_longest_reservation_follows_the_tenant_policy(
    client: TestClient, shop: ApiTenant
) -> None:
    response = client.put(
        "/v1/policies", headers=shop.headers, json={"reservation_max_ttl_minutes": 120}
    )
    assert response.status_code == 200, response.text

    assert _reserve(client, shop, ("TEE", 1), ttl_seconds=7200).status_code == 201
    problem = assert_problem(_reserve(client, shop, ("TEE", 1), ttl_seconds=7201), 422)
    assert problem["errors"] == [{"pointer": "#/ttl_seconds", "detail": "from 1 to 7200"}]


def test_releasing_a_reservation_gives_the_stock_back_once(
    client: TestClient, shop: ApiTenant
) -> None:
    reservation = _reserved(client, shop, ("TEE", 3))
    path = f"/v1/reservations/{reservation['id']}/release"

    first = client.post(path, headers=shop.headers)
    again = client.post(path, headers=shop.headers)

    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "released"
    assert first.json()["closed_at"] is not None
    assert again.json() == first.json()
    assert _available(client, shop) == {"TEE": 5, "MUG": 5}


def _age(api_engine: Engine, reservation: dict[str, Any], by: timedelta) -> None:
    """Move a reservation's expiry ``by`` into the past: the test's clock, not the wall's."""
    expires_at = datetime.fromisoformat(reservation["expires_at"]) - by
    with api_engine.begin() as conn:
        conn.execute(
            update(cart_reservations)
            .where(cart_reservations.c.id == UUID(reservation["id"]))
            .values(expires_at=expires_at)
        )


def test_a_reservation_past_its_time_expires_and_gives_the_stock_back(
    client: TestClient, shop: ApiTenant, api_engine: Engine
) -> None:
    response = _reserve(client, shop, ("TEE", 4), ttl_seconds=60)
    assert response.status_code == 201, response.text
    reservation = response.json()
    assert _available(client, shop) == {"TEE": 1, "MUG": 5}

    _age(api_engine, reservation, timedelta(seconds=61))

    read = client.get(f"/v1/reservations/{reservation['id']}", headers=shop.headers).json()
    assert read["status"] == "expired"
    assert _available(client, shop) == {"TEE": 5, "MUG": 5}


def test_an_order_takes_over_its_reservation_instead_of_reserving_again(
    client: TestClient, shop: ApiTenant
) -> None:
    reservation = _reserved(client, shop, ("TEE", 4))
    assert_problem(_order(client, shop, ("TEE", 4), allow_backorder=False), 409)

    response = _order(
        client, shop, ("TEE", 4), allow_backorder=False, reservation_id=reservation["id"]
    )

    assert response.status_code == 201, response.text
    order = response.json()
    assert [(a["sku"], a["quantity"]) for a in order["allocations"]] == [("TEE", 4)]
    assert order["timeline"][0]["data"]["reservation"] == {
        "id": reservation["id"],
        "status": "consumed",
    }
    assert stock_of(client, shop, "TEE")["reserved"] == 4
    read = client.get(f"/v1/reservations/{reservation['id']}", headers=shop.headers).json()
    assert (read["status"], read["order_id"]) == ("consumed", order["id"])
    release = client.post(f"/v1/reservations/{reservation['id']}/release", headers=shop.headers)
    assert_problem(release, 409, "illegal_transition")
    assert stock_of(client, shop, "TEE")["reserved"] == 4


def test_an_order_smaller_than_its_reservation_gives_the_rest_back(
    client: TestClient, shop: ApiTenant
) -> None:
    reservation = _reserved(client, shop, ("TEE", 4), ("MUG", 2))

    response = _order(client, shop, ("TEE", 1), reservation_id=reservation["id"])

    assert response.status_code == 201, response.text
    assert _available(client, shop) == {"TEE": 4, "MUG": 5}


def test_an_order_with_a_released_reservation_reserves_stock_like_any_other(
    client: TestClient, shop: ApiTenant
) -> None:
    reservation = _reserved(client, shop, ("TEE", 2))
    client.post(f"/v1/reservations/{reservation['id']}/release", headers=shop.headers)

    response = _order(client, shop, ("TEE", 2), reservation_id=reservation["id"])

    assert response.status_code == 201, response.text
    assert response.json()["timeline"][0]["data"]["reservation"] == {
        "id": reservation["id"],
        "status": "released",
    }
    assert stock_of(client, shop, "TEE")["reserved"] == 2


def test_an_order_naming_an_unknown_reservation_is_422(
    client: TestClient, shop: ApiTenant, other_tenant: ApiTenant
) -> None:
    stock_shop(client, other_tenant)
    theirs = _reserved(client, other_tenant, ("TEE", 1))

    for reservation_id in (theirs["id"], "00000000-0000-7000-8000-000000000000"):
        response = _order(client, shop, ("TEE", 1), reservation_id=reservation_id)
        problem = assert_problem(response, 422, "invalid_request")
        assert [e["pointer"] for e in problem["errors"]] == ["#/reservation_id"]
    assert _available(client, shop) == {"TEE": 5, "MUG": 5}
