"""Warehouse screens for a 3PL's floor: short picks reported from the wave page (written off
at the location, in the timeline under the user, refused with a pointer for a count the
list did not ask for), and an operator location's open work across merchants, each row
naming its merchant; merchant users refused."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.users import Role, User
from tests.api.order_support import VALID_ADDRESS
from tests.api.portal_pages import read
from tests.api.portal_support import csrf_of, new_user, sign_in
from tests.api.support import (
    ApiTenant,
    TestClient,
    create_product,
    new_tenant,
    place_order,
    set_on_hand,
)

PAID = {"gateway": "manual", "captured": True}


@pytest.fixture
def hall(client: TestClient, operator_headers: dict[str, str]) -> dict[str, Any]:
    code = f"HALL-{uuid4().hex[:6]}"
    response = client.post(
        "/v1/locations", headers=operator_headers, json={"code": code, "name": "3PL hall"}
    )
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def _merchant(
    client: TestClient,
    api_uow: SqlUnitOfWorkFactory,
    operator: dict[str, str],
    hall: dict[str, Any],
    name: str,
) -> ApiTenant:
    merchant = new_tenant(api_uow, name)
    granted = client.post(
        f"/v1/locations/{hall['id']}/grants", headers=operator, json={"tenant_id": str(merchant.id)}
    )
    assert granted.status_code == 204, granted.text
    create_product(client, merchant, "TEE")
    set_on_hand(client, merchant, "TEE", hall["code"], 5)
    return merchant


def _order(client: TestClient, merchant: ApiTenant, units: int = 2) -> dict[str, Any]:
    return place_order(
        client, merchant, ("TEE", units), shipping_address=VALID_ADDRESS, payment=PAID
    )


@pytest.fixture
def staff(api_uow: SqlUnitOfWorkFactory) -> User:
    return new_user(api_uow, Role.OPERATOR_STAFF)


def _on_hand(client: TestClient, merchant: ApiTenant, code: str) -> int:
    stock = client.get("/v1/inventory/TEE", headers=merchant.headers).json()
    return int({row["location"]: row["on_hand"] for row in stock["locations"]}[code])


def test_a_short_pick_is_written_off_and_lands_in_the_timeline_under_the_user(
    client: TestClient,
    api_uow: SqlUnitOfWorkFactory,
    operator_headers: dict[str, str],
    hall: dict[str, Any],
    staff: User,
) -> None:
    merchant = _merchant(client, api_uow, operator_headers, hall, "Short Shop")
    order = _order(client, merchant)
    sign_in(client, staff)
    queue = f"/app/warehouse/{merchant.id}/locations/{hall['code']}"
    made = client.post(
        f"{queue}/waves",
        data={"csrf_token": csrf_of(client.get(queue).text), "max_orders": "5"},
        follow_redirects=False,
    )
    wave_page = made.headers["location"]
    shown = client.get(wave_page).text
    [field] = re.findall(r'name="(found:[^"]+)"', shown)

    too_many = client.post(f"{wave_page}/found", data={"csrf_token": csrf_of(shown), field: "3"})
    answer = client.post(
        f"{wave_page}/found",
        data={"csrf_token": csrf_of(shown), field: "1"},
        follow_redirects=False,
    )

    assert made.status_code == 303
    assert field == f"found:{field.split(':')[1]}:TEE"
    assert too_many.status_code == 422
    assert f"#/{field}" in too_many.text
    assert answer.status_code == 303, answer.text
    assert "1 unit(s) short" in client.get(answer.headers["location"]).text
    assert _on_hand(client, merchant, hall["code"]) == 4
    events = client.get(f"/v1/orders/{order['id']}/events", headers=merchant.headers).json()
    [short] = [e for e in events["items"] if e["type"] == "fulfillment_order.short_picked"]
    assert short["actor"] == f"user:{staff.id}"
    assert short["data"]["short"] == [{"sku": "TEE", "units": 1}]


def test_the_floor_shows_every_merchants_open_work_naming_each(
    client: TestClient,
    api_uow: SqlUnitOfWorkFactory,
    operator_headers: dict[str, str],
    hall: dict[str, Any],
    staff: User,
) -> None:
    first = _merchant(client, api_uow, operator_headers, hall, f"Floor A {uuid4().hex[:4]}")
    second = _merchant(client, api_uow, operator_headers, hall, f"Floor B {uuid4().hex[:4]}")
    orders = {first.id: _order(client, first), second.id: _order(client, second, 1)}
    sign_in(client, staff)

    picker = client.get("/app/warehouse").text
    floor = client.get(f"/app/warehouse/floor/{hall['code']}")
    unknown = client.get("/app/warehouse/floor/NOPE-404")

    assert f"/app/warehouse/floor/{hall['code']}" in picker
    assert floor.status_code == 200
    rows = read(floor.text).tables["floor"][1:]
    names = {first.id: "Floor A", second.id: "Floor B"}
    assert sorted((row[0][:7], row[1]) for row in rows) == sorted(
        (names[tenant], f"#{order['number']}") for tenant, order in orders.items()
    )
    for tenant, order in orders.items():
        assert f"/app/warehouse/{tenant}/locations/{hall['code']}" in floor.text
        assert f"#{order['number']}" in floor.text
    assert unknown.status_code == 404


def test_merchant_users_may_not_see_the_floor(
    client: TestClient,
    api_uow: SqlUnitOfWorkFactory,
    operator_headers: dict[str, str],
    hall: dict[str, Any],
) -> None:
    merchant = _merchant(client, api_uow, operator_headers, hall, "Nosy Shop")
    sign_in(client, new_user(api_uow, Role.MERCHANT_ADMIN, merchant.id))

    answer = client.get(f"/app/warehouse/floor/{hall['code']}")

    assert answer.status_code == 403
