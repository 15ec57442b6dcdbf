"""Shopify webhooks through the intake as API orders go: a new order's copy and sync log
entry commit with it, paid orders are grouped like unpaid ones, and the connection is kept
briefly per process but never past a change or deletion made here. Both databases."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from oms.adapters.db.tables import channel_orders, channel_sync_log, payments
from tests.api.support import ApiTenant, TestClient, assert_problem
from tests.api.test_channels import (
    FIXTURE,
    ORDER_ID,
    SECRET,
    connect_shop,
    deliver,
    fixture_payload,
    orders_of,
    stock_the_shop,
)


def _count(engine: Engine, table: Any, tenant: ApiTenant) -> int:
    with engine.connect() as conn:
        found = conn.execute(
            select(func.count()).select_from(table).where(table.c.tenant_id == tenant.id)
        ).scalar_one()
    return int(found)


def _log(client: TestClient, tenant: ApiTenant, channel: dict[str, Any]) -> list[Any]:
    path = f"/v1/channels/{channel['id']}/sync-log"
    items: list[Any] = client.get(path, headers=tenant.headers).json()["items"]
    return items


@pytest.mark.usefixtures("webhook_path")
def test_the_same_paid_webhook_five_times_at_once_is_one_order_with_one_payment(
    client: TestClient, tenant: ApiTenant, api_engine: Engine
) -> None:
    stock_the_shop(client, tenant)
    channel = connect_shop(client, tenant)
    raw = FIXTURE.read_bytes()  # financial_status paid
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda _: deliver(client, channel, raw), range(5)))
    assert [a.status_code for a in answers] == [200] * 5
    assert sum(a.json()["created"] for a in answers) == 1
    (listed,) = orders_of(client, tenant, channel)
    order = client.get(f"/v1/orders/{listed['id']}", headers=tenant.headers).json()
    assert order["payment_status"] == "paid"
    assert sorted(p["kind"] for p in order["payments"]) == ["authorization", "capture"]
    assert _count(api_engine, payments, tenant) == 2
    assert _count(api_engine, channel_orders, tenant) == 1
    log = _log(client, tenant, channel)
    assert sorted(e["outcome"] for e in log) == ["ignored"] * 4 + ["ok"]
    (placed,) = [e for e in log if e["outcome"] == "ok"]
    assert placed["order_id"] == listed["id"]
    assert placed["external_id"] == ORDER_ID


@pytest.mark.usefixtures("webhook_path")
def test_many_paid_orders_at_once_are_each_placed_paid_and_released_once(
    client: TestClient, tenant: ApiTenant, api_engine: Engine
) -> None:
    stock_the_shop(client, tenant)
    channel = connect_shop(client, tenant)
    bodies = []
    for n in range(24):
        payload = fixture_payload()
        payload.update(id=int(ORDER_ID) + n)
        bodies.append(json.dumps(payload).encode())
    with ThreadPoolExecutor(max_workers=24) as pool:
        answers = list(pool.map(lambda raw: deliver(client, channel, raw), bodies))
    assert [a.status_code for a in answers] == [200] * 24
    assert sum(a.json()["created"] for a in answers) == 24
    assert _count(api_engine, payments, tenant) == 48  # an authorization and a capture each
    assert _count(api_engine, channel_orders, tenant) == 24
    assert _count(api_engine, channel_sync_log, tenant) == 24
    assert {e["outcome"] for e in _log(client, tenant, channel)} == {"ok"}  # its first page
    for answer in answers[:3]:
        order = client.get(f"/v1/orders/{answer.json()['order_id']}", headers=tenant.headers)
        assert order.json()["payment_status"] == "paid"
        assert order.json()["released_at"] is not None


@pytest.mark.usefixtures("webhook_path")
def test_a_changed_webhook_secret_is_used_at_once(client: TestClient, tenant: ApiTenant) -> None:
    stock_the_shop(client, tenant)
    channel = connect_shop(client, tenant)
    payload = fixture_payload()
    assert deliver(client, channel, json.dumps(payload).encode()).status_code == 200  # kept
    changed = client.patch(
        f"/v1/channels/{channel['id']}",
        headers=tenant.headers,
        json={"webhook_secret": "shpss_the_new_secret"},
    )
    assert changed.status_code == 200, changed.text
    payload.update(id=int(ORDER_ID) + 1)
    raw = json.dumps(payload).encode()
    assert_problem(deliver(client, channel, raw, secret=SECRET), 401)
    assert deliver(client, channel, raw, secret="shpss_the_new_secret").status_code == 200


@pytest.mark.usefixtures("webhook_path")
def test_a_deleted_connection_receives_nothing_at_once(
    client: TestClient, tenant: ApiTenant
) -> None:
    stock_the_shop(client, tenant)
    channel = connect_shop(client, tenant)
    payload = fixture_payload()
    assert deliver(client, channel, json.dumps(payload).encode()).status_code == 200  # kept
    deleted = client.delete(f"/v1/channels/{channel['id']}", headers=tenant.headers)
    assert deleted.status_code == 204
    payload.update(id=int(ORDER_ID) + 1)
    assert_problem(deliver(client, channel, json.dumps(payload).encode()), 404)
    assert len(orders_of(client, tenant, channel)) == 1
