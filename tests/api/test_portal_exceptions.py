"""The exceptions queue's bulk cancel: the orders of the ticked holds cancelled with one
reason (once per order), a paid one refunded as the API's cancel does, each in the timeline
under the user; a viewer refused; another tenant's hold untouched."""

from __future__ import annotations

import re
from typing import Any

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.users import Role, User
from tests.api.order_support import clean_order, paid_order, stock_shop
from tests.api.portal_support import csrf_of, new_user, sign_in
from tests.api.support import ApiTenant, TestClient


@pytest.fixture
def shop(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    return stock_shop(client, tenant)


@pytest.fixture
def admin(api_uow: SqlUnitOfWorkFactory, shop: ApiTenant) -> User:
    return new_user(api_uow, Role.MERCHANT_ADMIN, shop.id)


def _order(client: TestClient, tenant: ApiTenant, order_id: str) -> dict[str, Any]:
    found: dict[str, Any] = client.get(f"/v1/orders/{order_id}", headers=tenant.headers).json()
    return found


def _held(client: TestClient, tenant: ApiTenant, order: dict[str, Any], reason: str) -> None:
    body = {"reason": reason, "note": "look at it"}
    placed = client.post(f"/v1/orders/{order['id']}/holds", headers=tenant.headers, json=body)
    assert placed.status_code in (200, 201), placed.text


def test_the_orders_of_the_ticked_holds_are_cancelled_and_a_paid_one_refunded(
    client: TestClient, shop: ApiTenant, admin: User
) -> None:
    policy = client.put("/v1/policies", headers=shop.headers, json={"overpayment": "refund"})
    assert policy.status_code == 200, policy.text
    unpaid = clean_order(client, shop)
    paid = paid_order(client, shop)
    _held(client, shop, paid, "manual")
    _held(client, shop, unpaid, "manual")
    left_alone = clean_order(client, shop)
    sign_in(client, admin)
    queue = client.get("/app/exceptions")
    keys = [
        key
        for key in re.findall(r'name="hold" value="([^"]+)"', queue.text)
        if key.split(":")[1] in (unpaid["id"], paid["id"])
    ]

    without_note = client.post(
        "/app/exceptions/cancel",
        data={"csrf_token": csrf_of(queue.text), "hold": keys},
        follow_redirects=False,
    )
    answer = client.post(
        "/app/exceptions/cancel",
        data={"csrf_token": csrf_of(queue.text), "note": "duplicate orders", "hold": keys},
        follow_redirects=False,
    )

    assert len(keys) == 3  # the unpaid order's two holds and the paid one's
    assert "Cancel selected orders" in queue.text
    assert without_note.status_code == 303
    assert "Nothing cancelled" in client.get(without_note.headers["location"]).text
    assert answer.status_code == 303
    assert "2 order(s) cancelled" in client.get(answer.headers["location"]).text
    after_paid, after_unpaid = _order(client, shop, paid["id"]), _order(client, shop, unpaid["id"])
    assert after_paid["status"] == after_unpaid["status"] == "cancelled"
    assert (after_paid["payment_status"], after_paid["refund_due"]) == ("refunded", "0.00")
    assert _order(client, shop, left_alone["id"])["status"] != "cancelled"
    for order in (paid, unpaid):
        events = client.get(f"/v1/orders/{order['id']}/events", headers=shop.headers).json()
        [cancel] = [e for e in events["items"] if e["type"] == "order.cancelled"]
        assert cancel["actor"] == f"user:{admin.id}"
        assert cancel["reason"] == "duplicate orders"


def test_a_viewer_may_not_cancel_and_another_tenants_hold_is_left_alone(
    client: TestClient,
    shop: ApiTenant,
    other_tenant: ApiTenant,
    admin: User,
    api_uow: SqlUnitOfWorkFactory,
) -> None:
    stock_shop(client, other_tenant)
    theirs = clean_order(client, other_tenant)
    [their_hold] = [h for h in theirs["holds"] if h["released_at"] is None]
    viewer = new_user(api_uow, Role.MERCHANT_VIEWER, shop.id)
    forged = f"{other_tenant.id}:{theirs['id']}:{their_hold['id']}"

    sign_in(client, viewer)
    token = csrf_of(client.get("/app/exceptions").text)
    by_viewer = client.post(
        "/app/exceptions/cancel",
        data={"csrf_token": token, "note": "x", "hold": [forged]},
        follow_redirects=False,
    )
    sign_in(client, admin)
    token = csrf_of(client.get("/app/exceptions").text)
    by_admin = client.post(
        "/app/exceptions/cancel",
        data={"csrf_token": token, "note": "x", "hold": [forged]},
        follow_redirects=False,
    )

    assert by_viewer.status_code == 403
    assert by_admin.status_code == 303
    assert "0 order(s) cancelled" in client.get(by_admin.headers["location"]).text
    assert _order(client, other_tenant, theirs["id"])["status"] != "cancelled"
