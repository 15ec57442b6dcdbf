"""Transfers through the API: shipped stock leaves the source, is in transit (visible on
the SKU, sellable nowhere) and arrives at the destination, routing what waits for it."""

from __future__ import annotations

from sqlalchemy import select

from oms.adapters.db.tables import inventory_movements
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.ids import new_id
from oms.services.checks import find_invariant_violations
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_location,
    create_product,
    place_order,
    set_on_hand,
    stock_of,
)


def test_stock_in_transit_is_visible_not_sellable_and_arrives_at_the_destination(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant
) -> None:
    source, target = f"TA-{new_id().hex[-10:]}", f"TB-{new_id().hex[-10:]}"
    create_location(client, tenant, source)
    create_location(client, tenant, target)
    create_product(client, tenant, "TEE")
    set_on_hand(client, tenant, "TEE", source, 10)

    made = client.post(
        "/v1/transfers",
        headers=tenant.headers,
        json={"from": source, "to": target, "lines": [{"sku": "TEE", "quantity": 4}]},
    )
    assert made.status_code == 201, made.text
    url = f"/v1/transfers/{made.json()['id']}"
    assert made.json()["status"] == "draft"
    one = {"lines": [{"sku": "TEE", "quantity": 1}]}
    assert_problem(client.post(f"{url}/receipts", headers=tenant.headers, json=one), 409)
    shipped = client.post(f"{url}/ship", headers=tenant.headers)
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["lines"] == [
        {"sku": "TEE", "quantity": 4, "received": 0, "in_transit": 4}
    ]

    stock = stock_of(client, tenant, "TEE")
    assert (stock["on_hand"], stock["available"]) == (6, 6)
    assert [(t["from"], t["to"], t["quantity"]) for t in stock["in_transit"]] == [
        (source, target, 4)
    ]
    order = place_order(client, tenant, ("TEE", 8))
    assert order["lines"][0]["quantities"]["backordered"] == 2  # the 4 on the road are not for sale

    received = client.post(
        f"{url}/receipts", headers=tenant.headers, json={"lines": [{"sku": "TEE", "quantity": 4}]}
    )
    assert received.status_code == 200, received.text
    assert received.json()["status"] == "received"
    stock = stock_of(client, tenant, "TEE")
    assert stock["in_transit"] == []
    assert {row["location"]: row["on_hand"] for row in stock["locations"]} == {
        source: 6,
        target: 4,
    }
    served = client.get(f"/v1/orders/{order['id']}", headers=tenant.headers).json()
    assert (
        served["lines"][0]["quantities"]["backordered"] == 0
    )  # the arrival routed the waiting units

    mv = inventory_movements.c
    with api_uow.engine.connect() as conn:
        rows = conn.execute(
            select(mv.kind, mv.quantity, mv.reason)
            .where(mv.tenant_id == tenant.id, mv.reference == made.json()["id"])
            .order_by(mv.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("transfer", -4, f"transfer to {target}"),
        ("transfer", 4, f"transfer from {source}"),
    ]
    assert find_invariant_violations(uow_factory=api_uow) == []


def test_a_transfer_cannot_ship_what_is_reserved(client: TestClient, tenant: ApiTenant) -> None:
    source, target = f"TA-{new_id().hex[-10:]}", f"TB-{new_id().hex[-10:]}"
    create_location(client, tenant, source)
    create_location(client, tenant, target)
    create_product(client, tenant, "CAP")
    set_on_hand(client, tenant, "CAP", source, 5)
    place_order(client, tenant, ("CAP", 3))
    made = client.post(
        "/v1/transfers",
        headers=tenant.headers,
        json={"from": source, "to": target, "lines": [{"sku": "CAP", "quantity": 3}]},
    ).json()

    assert_problem(client.post(f"/v1/transfers/{made['id']}/ship", headers=tenant.headers), 409)
    assert stock_of(client, tenant, "CAP")["on_hand"] == 5
