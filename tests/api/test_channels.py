"""/v1/channels and the Shopify webhook receiver, over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine, select

from oms.adapters.channels.shopify import signature_of
from oms.adapters.db.tables import channels as channels_table
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_location,
    create_product,
    set_on_hand,
)

FIXTURE = Path(__file__).parent.parent / "fixtures" / "shopify" / "orders_create.json"
SECRET = "shpss_test_webhook_secret_0123456789"
TOKEN = "shpat_test_access_token_9876543210"
ORDER_ID = "5872311409921734519"


def shopify_body(**changes: Any) -> dict[str, Any]:
    body = {
        "kind": "shopify",
        "name": "Alpine Wool DE",
        "shop_domain": "alpine-wool.myshopify.com",
        "access_token": TOKEN,
        "webhook_secret": SECRET,
    }
    return {**body, **changes}


def connect_shop(client: TestClient, tenant: ApiTenant) -> dict[str, Any]:
    response = client.post("/v1/channels", headers=tenant.headers, json=shopify_body())
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def stock_the_shop(client: TestClient, tenant: ApiTenant) -> None:
    create_location(client, tenant, "BER")
    for sku in ("BEANIE-GRAPHITE", "SOCKS-3P-4245"):
        create_product(client, tenant, sku)
        set_on_hand(client, tenant, sku, "BER", 50)


def fixture_payload() -> dict[str, Any]:
    raw = FIXTURE.read_bytes()
    payload: dict[str, Any] = json.loads(raw)
    return payload


def deliver(
    client: TestClient,
    channel: dict[str, Any],
    raw: bytes,
    *,
    topic: str = "orders/create",
    secret: str = SECRET,
    webhook_id: str = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
) -> Any:
    return client.post(
        channel["webhook_path"],
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": signature_of(raw, secret),
            "X-Shopify-Shop-Domain": "alpine-wool.myshopify.com",
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-API-Version": "2025-01",
        },
    )


def orders_of(client: TestClient, tenant: ApiTenant, channel: dict[str, Any]) -> list[Any]:
    response = client.get(
        "/v1/orders", headers=tenant.headers, params={"channel": channel["order_channel"]}
    )
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


def test_a_connection_never_shows_its_credentials(client: TestClient, tenant: ApiTenant) -> None:
    created = connect_shop(client, tenant)
    assert created["credentials_stored"] == ["access_token", "webhook_secret"]
    assert created["settings"]["api_base_url"] == (
        "https://alpine-wool.myshopify.com/admin/api/2025-01"
    )
    assert created["health"] == "unknown"
    for response in (
        client.get(f"/v1/channels/{created['id']}", headers=tenant.headers),
        client.get("/v1/channels", headers=tenant.headers),
    ):
        assert response.status_code == 200
        assert TOKEN not in response.text
        assert SECRET not in response.text


def test_credentials_are_encrypted_at_rest(
    client: TestClient, tenant: ApiTenant, api_engine: Engine
) -> None:
    created = connect_shop(client, tenant)
    with api_engine.connect() as conn:
        stored = conn.execute(
            select(channels_table.c.credentials).where(channels_table.c.id == UUID(created["id"]))
        ).scalar_one()
    assert TOKEN not in stored
    assert SECRET not in stored
    assert stored.startswith("gAAAA")  # a Fernet token


@pytest.mark.parametrize(
    "body",
    [
        {
            "kind": "woocommerce",
            "name": "Woo shop",
            "store_url": "https://shop.example.com",
            "consumer_key": "ck_1",
            "consumer_secret": "cs_1",
            "webhook_secret": "whs",
        },
        {
            "kind": "magento2",
            "name": "Magento shop",
            "base_url": "https://m2.example.com",
            "access_token": "tok",
        },
        {"kind": "api", "name": "Own API"},
        {"kind": "csv", "name": "Spreadsheets"},
    ],
)
def test_every_kind_of_connection_is_accepted(
    client: TestClient, tenant: ApiTenant, body: dict[str, Any]
) -> None:
    response = client.post("/v1/channels", headers=tenant.headers, json=body)
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == body["kind"]


def test_a_body_of_another_kind_is_refused(client: TestClient, tenant: ApiTenant) -> None:
    response = client.post(
        "/v1/channels", headers=tenant.headers, json={**shopify_body(), "consumer_key": "ck"}
    )
    assert_problem(response, 422)


def test_changing_and_deleting_a_connection(client: TestClient, tenant: ApiTenant) -> None:
    created = connect_shop(client, tenant)
    path = f"/v1/channels/{created['id']}"
    changed = client.patch(
        path, headers=tenant.headers, json={"name": "Alpine Wool AT", "push_stock": True}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["push_stock"]) == ("Alpine Wool AT", True)
    wrong_kind = client.patch(path, headers=tenant.headers, json={"consumer_secret": "x"})
    assert_problem(wrong_kind, 422)
    twice = client.post("/v1/channels", headers=tenant.headers, json=shopify_body(name="X"))
    clash = client.patch(path, headers=tenant.headers, json={"name": twice.json()["name"]})
    assert_problem(clash, 409)
    assert client.delete(path, headers=tenant.headers).status_code == 204
    assert_problem(client.get(path, headers=tenant.headers), 404)


def test_another_tenant_cannot_see_a_connection(
    client: TestClient, tenant: ApiTenant, other_tenant: ApiTenant
) -> None:
    created = connect_shop(client, tenant)
    response = client.get(f"/v1/channels/{created['id']}", headers=other_tenant.headers)
    assert_problem(response, 404)


@pytest.mark.usefixtures("webhook_path")
def test_a_signed_shopify_order_is_placed_as_sent(client: TestClient, tenant: ApiTenant) -> None:
    stock_the_shop(client, tenant)
    channel = connect_shop(client, tenant)
    response = deliver(client, channel, FIXTURE.read_bytes())
    assert response.status_code == 200, response.text
    assert response.json()["created"] is True
    (listed,) = orders_of(client, tenant, channel)
    order = client.get(f"/v1/orders/{listed['id']}", headers=tenant.headers).json()
    assert order["external_id"] == ORDER_ID  # 64 bits, exactly
    assert order["currency"] == "EUR"
    assert order["total"] == "112.85"  # what the shop charged, taxes and discount included
    assert order["payment_status"] == "paid"
    assert order["customer"]["email"] == "lena.hoffmann@example.com"
    assert order["shipping_address"]["line1"] == "Kastanienallee 12"
    assert order["shipping_address"]["region"] == "BE"
    assert order["shipping_address"]["postal_code"] == "10435"
    assert [(ln["sku"], ln["quantity"]) for ln in order["lines"]] == [
        ("BEANIE-GRAPHITE", 2),
        ("SOCKS-3P-4245", 1),
    ]
    assert "Shopify #1042" in order["note"]
    health = client.get(f"/v1/channels/{channel['id']}", headers=tenant.headers).json()
    assert health["health"] == "healthy"


@pytest.mark.usefixtures("webhook_path")
def test_a_wrong_signature_is_refused_and_nothing_stored(
    client: TestClient, tenant: ApiTenant
) -> None:
    stock_the_shop(client, tenant)
    channel = connect_shop(client, tenant)
    raw = FIXTURE.read_bytes()
    refused = deliver(client, channel, raw, secret="not-the-shops-secret")
    assert_problem(refused, 401)
    tampered = raw.replace(b'"quantity": 2', b'"quantity": 9', 1)
    response = client.post(
        channel["webhook_path"],
        content=tampered,
        headers={
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": signature_of(raw, SECRET),
        },
    )
    assert_problem(response, 401)
    unsigned = client.post(channel["webhook_path"], content=raw)
    assert_problem(unsigned, 401)
    assert orders_of(client, tenant, channel) == []
    log = client.get(f"/v1/channels/{channel['id']}/sync-log", headers=tenant.headers).json()[
        "items"
    ]
    assert log == []


@pytest.mark.usefixtures("webhook_path")
def test_the_same_webhook_five_times_at_once_is_one_order(
    client: TestClient, tenant: ApiTenant
) -> None:
    stock_the_shop(client, tenant)
    channel = connect_shop(client, tenant)
    raw = FIXTURE.read_bytes()
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda _: deliver(client, channel, raw), range(5)))
    assert [a.status_code for a in answers] == [200] * 5
    assert sum(a.json()["created"] for a in answers) == 1
    assert len({a.json()["order_id"] for a in answers}) == 1
    (order,) = orders_of(client, tenant, channel)
    stock = client.get("/v1/inventory/BEANIE-GRAPHITE", headers=tenant.headers).json()
    assert stock["reserved"] == 2  # reserved once, not five times
    assert order["external_id"] == ORDER_ID


@pytest.mark.usefixtures("webhook_path")
def test_an_unknown_sku_is_taken_and_held_with_the_reason(
    client: TestClient, tenant: ApiTenant
) -> None:
    stock_the_shop(client, tenant)
    channel = connect_shop(client, tenant)
    payload = fixture_payload()
    payload["line_items"][1]["sku"] = "NOT-IN-CATALOGUE"
    response = deliver(client, channel, json.dumps(payload).encode())
    assert response.status_code == 200, response.text
    order = client.get(f"/v1/orders/{response.json()['order_id']}", headers=tenant.headers).json()
    assert order["status"] == "on_hold"
    (hold,) = [h for h in order["holds"] if h["reason"] == "unknown_sku"]
    assert "NOT-IN-CATALOGUE" in hold["note"]
    assert [ln["sku"] for ln in order["lines"]] == ["BEANIE-GRAPHITE", "NOT-IN-CATALOGUE"]
    assert order["total"] == "112.85"  # the line is kept, so is what the shop charged


def _later(payload: dict[str, Any], at: str, **changes: Any) -> bytes:
    changed = copy.deepcopy(payload)
    changed.update(updated_at=at, **changes)
    return json.dumps(changed).encode()


@pytest.mark.usefixtures("webhook_path")
def test_updates_apply_in_the_shops_order_whatever_the_arrival(
    client: TestClient, tenant: ApiTenant
) -> None:
    stock_the_shop(client, tenant)
    channel = connect_shop(client, tenant)
    pending = fixture_payload()
    pending["financial_status"] = "pending"
    created = _later(pending, "2026-12-07T10:14:24+01:00")
    paid = _later(pending, "2026-12-07T10:20:00+01:00", financial_status="paid")
    cancelled = _later(
        pending,
        "2026-12-07T11:00:00+01:00",
        financial_status="paid",
        cancelled_at="2026-12-07T11:00:00+01:00",
        cancel_reason="customer",
    )
    first = deliver(client, channel, created)
    order_path = f"/v1/orders/{first.json()['order_id']}"
    assert client.get(order_path, headers=tenant.headers).json()["payment_status"] == "pending"
    assert deliver(client, channel, paid, topic="orders/paid").json()["applied"] is True
    assert client.get(order_path, headers=tenant.headers).json()["payment_status"] == "paid"
    # The creation again, late: older than what is applied, it changes nothing.
    late = deliver(client, channel, created, webhook_id="late-copy")
    assert late.json()["applied"] is False
    assert client.get(order_path, headers=tenant.headers).json()["payment_status"] == "paid"
    assert deliver(client, channel, cancelled, topic="orders/cancelled").json()["applied"]
    assert deliver(client, channel, paid, topic="orders/paid").json()["applied"] is False
    assert client.get(order_path, headers=tenant.headers).json()["status"] == "cancelled"
    log = client.get(f"/v1/channels/{channel['id']}/sync-log", headers=tenant.headers).json()[
        "items"
    ]
    assert [e["outcome"] for e in log] == ["ignored", "ok", "ignored", "ok", "ok"]


@pytest.mark.usefixtures("webhook_path")
def test_a_cancellation_arriving_first_places_the_order_cancelled(
    client: TestClient, tenant: ApiTenant
) -> None:
    stock_the_shop(client, tenant)
    channel = connect_shop(client, tenant)
    payload = fixture_payload()
    cancelled = _later(
        payload, "2026-12-07T12:00:00+01:00", cancelled_at="2026-12-07T12:00:00+01:00"
    )
    answer = deliver(client, channel, cancelled, topic="orders/cancelled")
    deliver(client, channel, FIXTURE.read_bytes())
    order = client.get(f"/v1/orders/{answer.json()['order_id']}", headers=tenant.headers).json()
    assert order["status"] == "cancelled"
    stock = client.get("/v1/inventory/BEANIE-GRAPHITE", headers=tenant.headers).json()
    assert stock["reserved"] == 0


@pytest.mark.usefixtures("webhook_path")
def test_many_unpaid_orders_at_once_are_placed_in_groups_without_waiting_forever(
    client: TestClient, tenant: ApiTenant
) -> None:
    # Unpaid orders may be placed in groups (oms.api.intake_groups): more of them at once
    # than the server has threads must all be answered.
    stock_the_shop(client, tenant)
    channel = connect_shop(client, tenant)
    bodies = []
    for n in range(40):
        payload = fixture_payload()
        payload.update(id=int(ORDER_ID) + n, financial_status="pending")
        bodies.append(json.dumps(payload).encode())
    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(lambda raw: deliver(client, channel, raw), bodies))
    assert [a.status_code for a in answers] == [200] * 40
    assert sum(a.json()["created"] for a in answers) == 40
    assert len(orders_of(client, tenant, channel)) == 10  # a page; the rest follow
