"""The WooCommerce webhook receiver over HTTP, on SQLite and PostgreSQL: signed deliveries
through the intake exactly once, the ping, refusals."""

from __future__ import annotations

import copy
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from oms.adapters.channels.woocommerce import signature_of
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_location,
    create_product,
    set_on_hand,
)

FIXTURE = Path(__file__).parent.parent / "fixtures" / "woocommerce" / "order.json"
SECRET = "wc-webhook-secret-'quoted'&0123"
SKUS = ("MUG-STONE-350", "TEA-SENCHA-100G")


def connect_store(client: TestClient, tenant: ApiTenant) -> dict[str, Any]:
    body = {
        "kind": "woocommerce",
        "name": "Teehaus",
        "store_url": "https://teehaus.example.de",
        "consumer_key": "ck_0123456789abcdef0123456789abcdef01234567",
        "consumer_secret": "cs_0123456789abcdef0123456789abcdef01234567",
        "webhook_secret": SECRET,
    }
    response = client.post("/v1/channels", headers=tenant.headers, json=body)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def stock_the_store(client: TestClient, tenant: ApiTenant) -> None:
    create_location(client, tenant, "LEJ")
    for sku in SKUS:
        create_product(client, tenant, sku)
        set_on_hand(client, tenant, sku, "LEJ", 40)


def deliver(
    client: TestClient,
    channel: dict[str, Any],
    raw: bytes,
    *,
    topic: str = "order.created",
    secret: str = SECRET,
    delivery_id: str = "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6",
) -> Any:
    """A delivery with the headers WooCommerce sends (WC_Webhook::deliver)."""
    resource, event = topic.split(".")
    return client.post(
        channel["webhook_path"],
        content=raw,
        headers={
            "Content-Type": "application/json",
            "User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)",
            "X-WC-Webhook-Source": "https://teehaus.example.de/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": signature_of(raw, secret),
            "X-WC-Webhook-ID": "17",
            "X-WC-Webhook-Delivery-ID": delivery_id,
        },
    )


def orders_of(client: TestClient, tenant: ApiTenant, channel: dict[str, Any]) -> list[Any]:
    response = client.get(
        "/v1/orders", headers=tenant.headers, params={"channel": channel["order_channel"]}
    )
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


def sync_log(client: TestClient, tenant: ApiTenant, channel: dict[str, Any]) -> list[Any]:
    path = f"/v1/channels/{channel['id']}/sync-log"
    items: list[Any] = client.get(path, headers=tenant.headers).json()["items"]
    return items


def test_a_signed_woocommerce_order_is_placed_as_sent(
    client: TestClient, tenant: ApiTenant
) -> None:
    stock_the_store(client, tenant)
    channel = connect_store(client, tenant)
    assert channel["webhook_path"] == f"/channels/{channel['id']}/woocommerce/webhooks"
    response = deliver(client, channel, FIXTURE.read_bytes())
    assert response.status_code == 200, response.text
    assert response.json()["created"] is True
    (listed,) = orders_of(client, tenant, channel)
    order = client.get(f"/v1/orders/{listed['id']}", headers=tenant.headers).json()
    assert order["external_id"] == "4817"
    assert order["total"] == "51.41"  # what the store charged: coupon, tax, shipping
    assert order["payment_status"] == "paid"
    assert order["customer"]["email"] == "jonas.becker@example.com"
    assert order["shipping_address"]["line1"] == "Karl-Liebknecht-Straße 9"
    assert [(ln["sku"], ln["quantity"]) for ln in order["lines"]] == [(SKUS[0], 2), (SKUS[1], 1)]
    assert "WooCommerce #4817" in order["note"]
    health = client.get(f"/v1/channels/{channel['id']}", headers=tenant.headers).json()
    assert health["health"] == "healthy"


def test_the_ping_on_webhook_creation_is_answered_and_stores_nothing(
    client: TestClient, tenant: ApiTenant
) -> None:
    channel = connect_store(client, tenant)
    response = client.post(
        channel["webhook_path"],
        content=b"webhook_id=17",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["handled"] is False
    assert orders_of(client, tenant, channel) == []
    assert sync_log(client, tenant, channel) == []


def test_a_wrong_signature_is_refused_and_nothing_stored(
    client: TestClient, tenant: ApiTenant
) -> None:
    stock_the_store(client, tenant)
    channel = connect_store(client, tenant)
    raw = FIXTURE.read_bytes()
    assert_problem(deliver(client, channel, raw, secret="not-the-secret"), 401)
    tampered = raw.replace(b'"quantity": 2', b'"quantity": 9', 1)
    forged = client.post(
        channel["webhook_path"],
        content=tampered,
        headers={
            "X-WC-Webhook-Topic": "order.created",
            "X-WC-Webhook-Signature": signature_of(raw, SECRET),
        },
    )
    assert_problem(forged, 401)
    unsigned = client.post(
        channel["webhook_path"], content=raw, headers={"X-WC-Webhook-Topic": "order.created"}
    )
    assert_problem(unsigned, 401)
    assert orders_of(client, tenant, channel) == []
    assert sync_log(client, tenant, channel) == []


def test_a_shopify_connection_takes_no_woocommerce_webhook(
    client: TestClient, tenant: ApiTenant
) -> None:
    shop = client.post(
        "/v1/channels",
        headers=tenant.headers,
        json={
            "kind": "shopify",
            "name": "Shop",
            "shop_domain": "s.myshopify.com",
            "access_token": "t",
            "webhook_secret": SECRET,
        },
    ).json()
    raw = FIXTURE.read_bytes()
    answer = deliver(
        client, {**shop, "webhook_path": f"/channels/{shop['id']}/woocommerce/webhooks"}, raw
    )
    assert_problem(answer, 404)


def test_the_same_webhook_five_times_at_once_is_one_order(
    client: TestClient, tenant: ApiTenant
) -> None:
    stock_the_store(client, tenant)
    channel = connect_store(client, tenant)
    raw = FIXTURE.read_bytes()
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda _: deliver(client, channel, raw), range(5)))
    assert [a.status_code for a in answers] == [200] * 5
    assert sum(a.json()["created"] for a in answers) == 1
    assert len({a.json()["order_id"] for a in answers}) == 1
    (order,) = orders_of(client, tenant, channel)
    stock = client.get(f"/v1/inventory/{SKUS[0]}", headers=tenant.headers).json()
    assert stock["reserved"] == 2  # reserved once, not five times
    assert order["external_id"] == "4817"


def test_an_unknown_sku_is_taken_and_held_with_the_reason(
    client: TestClient, tenant: ApiTenant
) -> None:
    stock_the_store(client, tenant)
    channel = connect_store(client, tenant)
    payload = json.loads(FIXTURE.read_text())
    payload["line_items"][1]["sku"] = "NOT-IN-CATALOGUE"
    response = deliver(client, channel, json.dumps(payload).encode())
    assert response.status_code == 200, response.text
    order = client.get(f"/v1/orders/{response.json()['order_id']}", headers=tenant.headers).json()
    assert order["status"] == "on_hold"
    (hold,) = [h for h in order["holds"] if h["reason"] == "unknown_sku"]
    assert "NOT-IN-CATALOGUE" in hold["note"]
    assert order["total"] == "51.41"


def _copy(payload: dict[str, Any], modified: str, **changes: Any) -> bytes:
    changed = copy.deepcopy(payload)
    changed.update(date_modified_gmt=modified, **changes)
    return json.dumps(changed).encode()


def test_updates_apply_in_the_stores_order_whatever_the_arrival(
    client: TestClient, tenant: ApiTenant
) -> None:
    stock_the_store(client, tenant)
    channel = connect_store(client, tenant)
    on_hold = json.loads(FIXTURE.read_text())
    on_hold.update(status="on-hold", date_paid=None, date_paid_gmt=None)
    created = _copy(on_hold, "2026-12-07T09:14:24")
    paid = _copy(
        on_hold,
        "2026-12-08T08:00:00",
        status="processing",
        date_paid="2026-12-08T09:00:00",
        date_paid_gmt="2026-12-08T08:00:00",
    )
    cancelled = _copy(on_hold, "2026-12-08T10:00:00", status="cancelled")
    first = deliver(client, channel, created)
    order_path = f"/v1/orders/{first.json()['order_id']}"
    assert client.get(order_path, headers=tenant.headers).json()["payment_status"] == "pending"
    assert deliver(client, channel, paid, topic="order.updated").json()["applied"] is True
    assert client.get(order_path, headers=tenant.headers).json()["payment_status"] == "paid"
    assert deliver(client, channel, created, delivery_id="late").json()["applied"] is False
    assert deliver(client, channel, cancelled, topic="order.updated").json()["applied"] is True
    assert client.get(order_path, headers=tenant.headers).json()["status"] == "cancelled"
    assert [e["outcome"] for e in sync_log(client, tenant, channel)] == [
        "ok",
        "ignored",
        "ok",
        "ok",
    ]


def test_a_signed_body_that_is_not_an_order_is_refused_and_logged(
    client: TestClient, tenant: ApiTenant
) -> None:
    channel = connect_store(client, tenant)
    raw = b'{"id": 4817, "status": "processing"}'
    assert_problem(deliver(client, channel, raw), 422)
    (entry,) = sync_log(client, tenant, channel)
    assert (entry["operation"], entry["outcome"]) == ("webhook order.created", "failed")
