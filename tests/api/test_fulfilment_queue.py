"""A 3PL's floor: the operator sees one of its warehouses' queue across every merchant."""

from __future__ import annotations

from uuid import uuid4

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from tests.api.order_support import VALID_ADDRESS
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_product,
    new_tenant,
    place_order,
    set_on_hand,
)

PAID = {"gateway": "manual", "captured": True}


def _merchant_with_an_order(
    client: TestClient,
    api_uow: SqlUnitOfWorkFactory,
    operator: dict[str, str],
    location: dict[str, str],
    sku: str,
) -> tuple[ApiTenant, str]:
    merchant = new_tenant(api_uow, f"merchant {sku}")
    granted = client.post(
        f"/v1/locations/{location['id']}/grants",
        headers=operator,
        json={"tenant_id": str(merchant.id)},
    )
    assert granted.status_code == 204, granted.text
    create_product(client, merchant, sku)
    set_on_hand(client, merchant, sku, location["code"], 5)
    order = place_order(client, merchant, (sku, 1), shipping_address=VALID_ADDRESS, payment=PAID)
    return merchant, order["id"]


def test_an_operator_sees_its_warehouse_queue_across_merchants_and_each_merchant_only_its_own(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, operator_headers: dict[str, str]
) -> None:
    code = f"OPS-{uuid4().hex[:6]}"
    response = client.post(
        "/v1/locations", headers=operator_headers, json={"code": code, "name": "3PL hall"}
    )
    assert response.status_code == 201, response.text
    location = response.json()
    first, first_order = _merchant_with_an_order(client, api_uow, operator_headers, location, "A-1")
    second, second_order = _merchant_with_an_order(
        client, api_uow, operator_headers, location, "B-1"
    )

    floor = client.get(f"/v1/fulfillment-orders?location={code}", headers=operator_headers)
    mine = client.get(f"/v1/fulfillment-orders?location={code}", headers=first.headers)

    assert floor.status_code == 200, floor.text
    assert {(fo["tenant_id"], fo["order_id"]) for fo in floor.json()["items"]} == {
        (str(first.id), first_order),
        (str(second.id), second_order),
    }
    assert [fo["order_id"] for fo in mine.json()["items"]] == [first_order]
    assert_problem(client.get("/v1/fulfillment-orders", headers=operator_headers), 422)
    assert_problem(
        client.get("/v1/fulfillment-orders?location=NOPE", headers=operator_headers), 422
    )
