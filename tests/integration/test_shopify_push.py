"""Fulfilments back to Shopify: the ``shopify`` event sink against a fake shop's Admin
GraphQL API on loopback (fulfillment orders, ``fulfillmentCreate``, 429, a shop down)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Engine

from oms.adapters.channels.credentials import FernetCipher
from oms.adapters.channels.shopify import order_of_payload, parse_order_json
from oms.adapters.channels.shopify_push import FulfilmentPush, ShopifyFulfilmentSink
from oms.adapters.db.repositories.channels import SqlChannelRepository
from oms.adapters.payments.registry import gateway_named
from oms.domain.channels import ChannelConnection, ChannelKind, SyncDirection
from oms.services.channels import create_channel
from oms.services.events import Event
from oms.services.intake import place_order
from oms.services.ports import UnitOfWorkFactory
from tests.builders import TESTER, add_location, add_product, set_stock
from tests.shopify_server import API_PATH, FakeShop, shop_running

FIXTURE = Path(__file__).parent.parent / "fixtures" / "shopify" / "orders_create.json"
TOKEN = "shpat_push_token"
AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ORDER_GID = "gid://shopify/Order/5872311409921734519"


def fulfillment_orders() -> list[dict[str, Any]]:
    return [
        {
            "id": "gid://shopify/FulfillmentOrder/700",
            "status": "OPEN",
            "lineItems": {
                "nodes": [
                    {"id": "gid://shopify/FulfillmentOrderLineItem/1", "sku": "BEANIE-GRAPHITE",
                     "remainingQuantity": 2},
                    {"id": "gid://shopify/FulfillmentOrderLineItem/2", "sku": "SOCKS-3P-4245",
                     "remainingQuantity": 1},
                ]
            },
        }
    ]  # fmt: skip


def shopify_order(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID, base_url: str
) -> tuple[SqlChannelRepository, ChannelConnection, UUID]:
    add_location(uow_factory, tenant_id, "BER")
    for sku in ("BEANIE-GRAPHITE", "SOCKS-3P-4245"):
        add_product(uow_factory, tenant_id, sku)
        set_stock(uow_factory, tenant_id, sku, "BER", 10)
    repo = SqlChannelRepository(engine, FernetCipher("push-secret-key-0123456789"))
    connection = create_channel(
        channels=repo,
        tenant_id=tenant_id,
        kind=ChannelKind.SHOPIFY,
        name="alpine",
        settings={"shop_domain": "alpine.myshopify.com", "api_base_url": base_url + API_PATH},
        credentials={"access_token": TOKEN, "webhook_secret": "s"},
        at=AT,
    )
    mapped = order_of_payload(parse_order_json(FIXTURE.read_bytes()), connection)
    placed = place_order(
        uow_factory=uow_factory,
        gateways=gateway_named,
        tenant_id=tenant_id,
        command=mapped.command,
        actor=TESTER,
        at=AT,
    )
    return repo, connection, placed.order.id


def shipped(tenant_id: UUID, order_id: UUID, contents: list[tuple[str, int]]) -> Event:
    """A ``shipment.created`` event as the worker hands it over (data as the API returns a
    shipment)."""
    return Event(
        id=uuid4(),
        tenant_id=tenant_id,
        type="shipment.created",
        created_at=AT,
        data={
            "order_id": str(order_id),
            "carrier": "DHL",
            "service": "paket",
            "tracking_number": "00340434161094042557",
            "tracking_url": "https://www.dhl.de/track?piececode=00340434161094042557",
            "contents": [
                {"line_no": n, "sku": sku, "quantity": q} for n, (sku, q) in enumerate(contents, 1)
            ],
        },
        topic="shipment.created",
        aggregate_id=order_id,
        detail={},
    )


def deliver(
    sink: ShopifyFulfilmentSink, uow_factory: UnitOfWorkFactory, event: Event
) -> tuple[list[str], Any]:
    with uow_factory(readonly=True) as uow:
        keys = list(sink.subscribers(uow, event))
        prepared = sink.prepare(uow, event, keys[0]) if keys else None
    if prepared is None:
        return keys, None
    return keys, sink.send(prepared, event=event, key=keys[0], attempt=1)


def test_a_shipment_becomes_a_fulfilment_with_its_tracking_after_a_429(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    shop = FakeShop(access_token=TOKEN, answers=[429], retry_after="3")
    shop.fulfillment_orders[ORDER_GID] = fulfillment_orders()
    slept: list[float] = []
    with shop_running(shop):
        repo, connection, order_id = shopify_order(engine, uow_factory, tenant_id, shop.base_url)
        sink = ShopifyFulfilmentSink(channels=repo, sleep=slept.append)
        event = shipped(tenant_id, order_id, [("BEANIE-GRAPHITE", 2)])
        keys, outcome = deliver(sink, uow_factory, event)
        _, again = deliver(sink, uow_factory, event)  # a retry after a lost answer
        sink.close()
    assert keys == [str(connection.id)]
    assert outcome.delivered
    assert again.delivered
    assert slept == [3.0]  # the 429's Retry-After
    (fulfilment,) = shop.fulfillments  # the retry sent nothing twice
    assert fulfilment["trackingInfo"] == {
        "company": "DHL",
        "number": "00340434161094042557",
        "url": "https://www.dhl.de/track?piececode=00340434161094042557",
    }
    assert fulfilment["lineItemsByFulfillmentOrder"] == [
        {
            "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/700",
            "fulfillmentOrderLineItems": [
                {"id": "gid://shopify/FulfillmentOrderLineItem/1", "quantity": 2}
            ],
        }
    ]
    assert shop.graphql_calls[0]["variables"] == {"id": ORDER_GID}
    log = repo.entries(tenant_id, connection.id, limit=5)
    assert [(e.direction, e.operation) for e in log[:2]] == [
        (SyncDirection.OUTBOUND, "fulfillmentCreate")
    ] * 2


def test_a_shop_that_is_down_gets_the_fulfilment_once_back(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    shop = FakeShop(access_token=TOKEN, answers=[503, 503])
    shop.fulfillment_orders[ORDER_GID] = fulfillment_orders()
    with shop_running(shop):
        repo, _, order_id = shopify_order(engine, uow_factory, tenant_id, shop.base_url)
        sink = ShopifyFulfilmentSink(channels=repo, sleep=lambda _: None)
        event = shipped(tenant_id, order_id, [("BEANIE-GRAPHITE", 2), ("SOCKS-3P-4245", 1)])
        outcomes = [deliver(sink, uow_factory, event)[1] for _ in range(3)]
        sink.close()
    # Failed attempts are not final: the outbox retries them on its schedule.
    assert [(o.delivered, o.final, o.status_code) for o in outcomes] == [
        (False, False, 503),
        (False, False, 503),
        (True, False, 200),
    ]
    (fulfilment,) = shop.fulfillments
    (group,) = fulfilment["lineItemsByFulfillmentOrder"]
    assert [i["quantity"] for i in group["fulfillmentOrderLineItems"]] == [2, 1]


def test_orders_of_other_channels_are_not_subscribed(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    with shop_running(FakeShop(access_token=TOKEN)) as shop:
        repo, connection, order_id = shopify_order(engine, uow_factory, tenant_id, shop.base_url)
        sink = ShopifyFulfilmentSink(channels=repo)
        other = shipped(tenant_id, uuid4(), [("BEANIE-GRAPHITE", 1)])
        delivered = shipped(tenant_id, order_id, [("BEANIE-GRAPHITE", 1)])
        delivered = Event(**{**delivered.__dict__, "type": "shipment.delivered"})
        with uow_factory(readonly=True) as uow:
            assert sink.subscribers(uow, other) == []
            assert sink.subscribers(uow, delivered) == []
        sink.close()
    assert connection.push_fulfilments  # it would push, for its own orders' shipments


@pytest.mark.parametrize("mapping", [{"SHOP-BEANIE": "BEANIE-GRAPHITE"}])
def test_the_shops_own_skus_are_sent_back(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID, mapping: dict[str, str]
) -> None:
    with shop_running(FakeShop(access_token=TOKEN)) as shop:
        repo, connection, order_id = shopify_order(engine, uow_factory, tenant_id, shop.base_url)
        connection.sku_mapping = mapping
        repo.save(connection)
        sink = ShopifyFulfilmentSink(channels=repo)
        with uow_factory(readonly=True) as uow:
            event = shipped(tenant_id, order_id, [("BEANIE-GRAPHITE", 1)])
            prepared = sink.prepare(uow, event, str(connection.id))
        sink.close()
    assert isinstance(prepared, FulfilmentPush)
    assert prepared.items == (("SHOP-BEANIE", 1),)
    assert prepared.order_gid == ORDER_GID
