"""The returns API with the names integrations rely on, on both databases."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.orders import Order
from tests.api.returns_fixtures import client, uow
from tests.api.support import ApiTenant, TestClient, assert_problem, new_tenant
from tests.integration.returns_support import (
    assert_books_balance,
    open_shop,
    returns_engine,
    shipped_order,
    stock_at_near,
)

__all__ = ["client", "returns_engine", "uow"]


@pytest.fixture
def shop(uow: SqlUnitOfWorkFactory) -> ApiTenant:
    tenant = new_tenant(uow, "returns shop")
    open_shop(uow, tenant.id)
    return tenant


def _post(
    client: TestClient, shop: ApiTenant, path: str, body: Any = None, key: str | None = None
) -> Any:
    headers = dict(shop.headers) | ({"Idempotency-Key": key} if key else {})
    return client.post(path, headers=headers, json=body)


def _open(
    client: TestClient,
    shop: ApiTenant,
    order: Order,
    *lines: tuple[int, int, str],
    key: str | None = None,
) -> Any:
    return _post(
        client,
        shop,
        f"/v1/orders/{order.id}/returns",
        {
            "lines": [{"line_no": n, "quantity": q, "reason": r} for n, q, r in lines],
            "resolution": "refund",
        },
        key,
    )


def test_request_approve_receive_refund_through_the_api(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    order = shipped_order(uow, shop.id, ("X", 2), ("Y", 1))
    created = _open(client, shop, order, (1, 2, "changed_mind"), key="rma-1")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "requested"
    replay = _open(client, shop, order, (1, 2, "changed_mind"), key="rma-1")
    assert (replay.status_code, replay.json()["id"]) == (200, body["id"])

    queue = client.get("/v1/returns", headers=shop.headers, params={"status": "requested"})
    assert [r["id"] for r in queue.json()["items"]] == [body["id"]]

    early = _post(client, shop, f"/v1/returns/{body['id']}/refund")
    assert_problem(early, 409)
    approved = _post(client, shop, f"/v1/returns/{body['id']}/approve", {"note": "ok"})
    assert approved.json()["status"] == "approved"
    before = stock_at_near(uow, shop.id, "X")
    received = _post(
        client,
        shop,
        f"/v1/returns/{body['id']}/receive",
        {
            "location": "NEAR",
            "lines": [
                {"line_no": 1, "quantity": 1, "disposition": "restock"},
                {"line_no": 1, "quantity": 1, "disposition": "quarantine"},
            ],
        },
    )
    assert received.json()["status"] == "received", received.text
    assert stock_at_near(uow, shop.id, "X") == (before[0] + 1, before[1] + 1)
    assert_books_balance(uow, shop.id)

    refunded = _post(client, shop, f"/v1/returns/{body['id']}/refund", key="refund-1")
    assert refunded.status_code == 200, refunded.text
    assert (refunded.json()["status"], refunded.json()["refund_amount"]) == ("refunded", "20.00")
    again = _post(client, shop, f"/v1/returns/{body['id']}/refund", key="refund-1")
    assert again.json() == refunded.json()
    assert_problem(_post(client, shop, f"/v1/returns/{body['id']}/refund", key="other"), 409)

    read = client.get(f"/v1/returns/{body['id']}", headers=shop.headers).json()
    assert (read["lines"][0]["restocked"], read["lines"][0]["quarantined"]) == (1, 1)
    got = client.get(f"/v1/orders/{order.id}", headers=shop.headers).json()
    assert (got["payment_status"], got["refund_due"]) == ("partially_refunded", "0.00")
    assert got["return_status"] == "partially_returned"


def test_bad_returns_answer_problems_with_pointers(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    order = shipped_order(uow, shop.id, ("X", 1))
    too_many = assert_problem(_open(client, shop, order, (1, 2, "changed_mind")), 422)
    assert [e["pointer"] for e in too_many["errors"]] == ["#/lines/0/quantity"]
    unknown = assert_problem(_open(client, shop, order, (1, 1, "no_reason")), 422)
    assert [e["pointer"] for e in unknown["errors"]] == ["#/lines/0/reason"]
    assert_problem(client.get(f"/v1/returns/{UUID(int=7)}", headers=shop.headers), 404)
    opened = _open(client, shop, order, (1, 1, "changed_mind")).json()
    no_note = _post(client, shop, f"/v1/returns/{opened['id']}/reject", {})
    assert_problem(no_note, 422)
    wrong_place = _post(client, shop, f"/v1/returns/{opened['id']}/approve")
    assert wrong_place.status_code == 200
    nowhere = _post(
        client,
        shop,
        f"/v1/returns/{opened['id']}/receive",
        {"location": "MOON", "lines": [{"line_no": 1, "quantity": 1, "disposition": "restock"}]},
    )
    assert [e["pointer"] for e in assert_problem(nowhere, 422)["errors"]] == ["#/location"]


def test_another_tenant_sees_none_of_the_returns(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    order = shipped_order(uow, shop.id, ("X", 1))
    opened = _open(client, shop, order, (1, 1, "defective")).json()
    stranger = new_tenant(uow, "stranger")
    assert_problem(client.get(f"/v1/returns/{opened['id']}", headers=stranger.headers), 404)
    assert client.get("/v1/returns", headers=stranger.headers).json()["items"] == []
    assert_problem(_post(client, stranger, f"/v1/returns/{opened['id']}/refund"), 404)


def test_the_return_policy_is_read_and_replaced(client: TestClient, shop: ApiTenant) -> None:
    assert client.get("/v1/return-policy", headers=shop.headers).json()["window_days"] == 30
    put = client.put(
        "/v1/return-policy",
        headers=shop.headers,
        json={"window_days": 14, "restocking_fee_percent": "5"},
    )
    assert (put.json()["window_days"], put.json()["restocking_fee_percent"]) == (14, "5")
    bad = client.put("/v1/return-policy", headers=shop.headers, json={"window_days": "x"})
    assert [e["pointer"] for e in assert_problem(bad, 422)["errors"]] == ["#/window_days"]


def test_an_approved_return_gets_a_label_through_the_carrier_port(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    order = shipped_order(uow, shop.id, ("Y", 1))
    opened = _open(client, shop, order, (1, 1, "changed_mind")).json()
    early = _post(client, shop, f"/v1/returns/{opened['id']}/label", {"location": "NEAR"})
    assert_problem(early, 409)
    _post(client, shop, f"/v1/returns/{opened['id']}/approve")
    labelled = _post(client, shop, f"/v1/returns/{opened['id']}/label", {"location": "NEAR"})
    assert labelled.status_code == 200, labelled.text
    label = labelled.json()["label"]
    assert (label["carrier"], label["customer_paid"]) == ("acme", False)
    assert label["tracking_url"].endswith(label["tracking_number"])
    refused = _post(
        client,
        shop,
        f"/v1/returns/{opened['id']}/label",
        {"location": "NEAR", "carrier": "acme", "service": "teleport"},
    )
    assert refused.json()["label"] == label  # one label per return: the one bought


def test_a_lost_parcel_claim_through_the_api_reships_at_no_charge(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    order = shipped_order(uow, shop.id, ("X", 1))
    claimed = _post(
        client,
        shop,
        f"/v1/orders/{order.id}/claims",
        {"lines": [{"line_no": 1, "quantity": 1}], "kind": "lost", "resolution": "reship"},
    )
    assert claimed.status_code == 201, claimed.text
    body = claimed.json()
    assert (body["status"], body["resolution"], body["lines"][0]["reason"]) == (
        "approved",
        "reship",
        "lost_in_transit",
    )
    reship = client.get(f"/v1/orders/{body['exchange_order_id']}", headers=shop.headers).json()
    assert (reship["channel"], reship["totals"]["total"]) == ("claim", "0.00")
    refused = _post(
        client,
        shop,
        f"/v1/orders/{order.id}/returns",
        {
            "lines": [{"line_no": 1, "quantity": 1, "reason": "changed_mind"}],
            "resolution": "reship",
        },
    )
    assert [e["pointer"] for e in assert_problem(refused, 422)["errors"]] == ["#/resolution"]


def test_the_customer_asks_for_a_return_on_the_status_page_with_number_and_email(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    order = shipped_order(uow, shop.id, ("X", 1))
    with uow(readonly=True) as read:
        tenant = read.tenants.get(shop.id)
    assert tenant is not None
    path = f"/status/{tenant.slug}/returns"
    ask = {
        "number": str(order.number),
        "email": "ERIKA@example.com",
        "lines": [{"line_no": 1, "quantity": 1, "reason": "defective"}],
    }
    wrong = client.post(path, json=ask | {"email": "someone@example.com"})
    assert assert_problem(wrong, 404)["detail"] == "We could not find an order with these details"
    made = client.post(path, json=ask)
    assert made.status_code == 201, made.text
    assert set(made.json()) == {"id", "status", "exchange"}
    assert made.json()["exchange"] is None
    assert made.json()["status"] == "approved"
    staff_view = client.get(f"/v1/returns/{made.json()['id']}", headers=shop.headers).json()
    assert staff_view["created_by"] == f"customer:order {order.number}"


def test_an_order_read_says_requested_while_a_return_is_open_and_nothing_came_back(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    order = shipped_order(uow, shop.id, ("X", 2))

    def return_status() -> str:
        got = client.get(f"/v1/orders/{order.id}", headers=shop.headers)
        assert got.status_code == 200, got.text
        status: str = got.json()["return_status"]
        return status

    assert return_status() == "none"
    first = _open(client, shop, order, (1, 1, "changed_mind")).json()
    assert return_status() == "requested"
    _post(client, shop, f"/v1/returns/{first['id']}/reject", {"note": "worn"})
    assert return_status() == "none"
    second = _open(client, shop, order, (1, 1, "changed_mind")).json()
    _post(client, shop, f"/v1/returns/{second['id']}/approve")
    assert return_status() == "requested"
    _post(
        client,
        shop,
        f"/v1/returns/{second['id']}/receive",
        {"location": "NEAR", "lines": [{"line_no": 1, "quantity": 1, "disposition": "restock"}]},
    )
    assert return_status() == "partially_returned"
