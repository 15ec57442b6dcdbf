"""Push-back to Shopify end to end, on SQLite and PostgreSQL: an order of a Shopify
connection is placed, picked, packed and shipped through the use cases, ``oms worker``
runs (markers queued, the outbox fanned out and delivered), and a fake shop on loopback
receives the fulfilment with its tracking number and the stock levels: once per level in
one ``inventorySetQuantities``, with the latest figures. A 429's ``Retry-After`` and a
THROTTLED answer are waited out (the sleeper injected); a shop down for a while gets
everything once it is back.

Labels come from the table-rate carriers, whose rate cards are deployment-wide: this
module runs on databases of its own.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine

from oms.adapters.channels.credentials import FernetCipher
from oms.adapters.channels.shopify_push import ShopifyFulfilmentSink
from oms.adapters.channels.shopify_stock import ShopifyStockSink
from oms.adapters.db.repositories.channels import SqlChannelRepository
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.event_data import render_event_data
from oms.config import Settings
from oms.domain.channels import ChannelConnection, ChannelKind, SyncOutcome
from oms.domain.delivery_schedule import DeliveryStatus
from oms.services.channels import create_channel
from oms.services.stock_push import queue_stock_pushes
from oms.worker.runner import Worker
from tests.builders import order_of, place, set_stock
from tests.databases import ENGINES, migrated_database_url
from tests.integration.test_fulfilment import _fo_at, _open_shop, _pack, _pick, _prepared, _ship
from tests.integration.test_routing import COLOGNE
from tests.shopify_server import API_PATH, FakeShop, shop_running

TOKEN = "shpat_stock_token"
EXTERNAL_ID = "5872311409921734519"
ORDER_GID = f"gid://shopify/Order/{EXTERNAL_ID}"
ITEM_X, ITEM_Y = "gid://shopify/InventoryItem/9001", "gid://shopify/InventoryItem/9002"
NEAR, BONN = "gid://shopify/Location/101", "gid://shopify/Location/102"
T0 = datetime(2031, 3, 3, 9, 30, tzinfo=UTC)
"""The worker's clock: later than any change the use cases stamp with the time now."""


@pytest.fixture(scope="module", params=ENGINES)
def stock_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    for url in migrated_database_url(request, request.param, "stockpush"):
        engine = _prepared(Settings(database_url=url, db_max_overflow=20))
        yield engine
        engine.dispose()


@pytest.fixture
def uow_factory(stock_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(stock_engine)


class World:
    """A tenant selling X and Y through a Shopify shop, and the worker's clock."""

    def __init__(self, engine: Engine, uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID):
        self.uow_factory = uow_factory
        self.tenant_id = _open_shop(uow_factory, tenant_id)
        self.channels = SqlChannelRepository(engine, FernetCipher("stock-push-test-key"))
        self.now = T0
        self.slept: list[float] = []

    def connect(self, shop: FakeShop) -> ChannelConnection:
        return create_channel(
            channels=self.channels,
            tenant_id=self.tenant_id,
            kind=ChannelKind.SHOPIFY,
            name="alpine",
            settings={
                "shop_domain": "alpine.myshopify.com",
                "api_base_url": shop.base_url + API_PATH,
                "shopify_locations": {"NEAR": "101", "BONN": BONN},
            },
            credentials={"access_token": TOKEN, "webhook_secret": "s"},
            location_codes=("NEAR", "BONN"),
            sku_mapping={"SHOP-X": "X"},
            push_stock=True,
            at=T0,
        )

    def run_worker(self, *, later: timedelta = timedelta(0)) -> None:
        """``oms worker --once`` at ``now + later``: queue the stock pushes (debounce
        window passed), fan out and deliver what is due."""
        self.now += later
        clock: Callable[[], datetime] = lambda: self.now  # noqa: E731

        def queue() -> int:
            return queue_stock_pushes(
                uow_factory=self.uow_factory, channels=self.channels, now=clock()
            )

        Worker(
            uow_factory=self.uow_factory,
            sinks=[
                ShopifyFulfilmentSink(channels=self.channels, sleep=self.slept.append),
                ShopifyStockSink(channels=self.channels, sleep=self.slept.append),
            ],
            render=render_event_data,
            threads=2,
            idle_seconds=0.01,
            clock=clock,
            rng=random.Random(7),
            periodic=[(0.0, queue)],
        ).run(once=True)

    def place_pick_pack_ship(self) -> Any:
        command = replace(
            order_of(("X", 2), ("Y", 1), channel=f"shopify:{self.connection.id}"),
            external_id=EXTERNAL_ID,
            shipping_address=COLOGNE,
        )
        order = place(self.uow_factory, self.tenant_id, command).order
        fo = _fo_at(self.uow_factory, self.tenant_id, order.id, "NEAR")
        _pick(self.uow_factory, self.tenant_id, "NEAR")
        package = _pack(self.uow_factory, self.tenant_id, fo.id, "X", "X", "Y")
        return _ship(self.uow_factory, self.tenant_id, fo.id, [package])

    connection: ChannelConnection


def fake_shop(**fields: Any) -> FakeShop:
    shop = FakeShop(access_token=TOKEN, **fields)
    shop.variants = {"SHOP-X": ITEM_X, "Y": ITEM_Y}
    shop.fulfillment_orders[ORDER_GID] = [
        {
            "id": "gid://shopify/FulfillmentOrder/700",
            "status": "OPEN",
            "lineItems": {
                "nodes": [
                    {"id": "gid://shopify/FulfillmentOrderLineItem/1", "sku": "SHOP-X",
                     "remainingQuantity": 2},
                    {"id": "gid://shopify/FulfillmentOrderLineItem/2", "sku": "Y",
                     "remainingQuantity": 1},
                ]
            },
        }
    ]  # fmt: skip
    return shop


@pytest.fixture
def world(stock_engine: Engine, uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> World:
    made = World(stock_engine, uow_factory, tenant_id)
    set_stock(uow_factory, made.tenant_id, "X", "NEAR", 10)
    set_stock(uow_factory, made.tenant_id, "Y", "NEAR", 5)
    set_stock(uow_factory, made.tenant_id, "X", "BONN", 4)
    set_stock(uow_factory, made.tenant_id, "Z", "FAR", 7)  # a location the shop does not sell
    return made


def quantity_sets(shop: FakeShop) -> list[dict[tuple[str, str], int]]:
    return [
        {(q["inventoryItemId"], q["locationId"]): q["quantity"] for q in sent["quantities"]}
        for sent in shop.inventory_sets
    ]


def test_a_shipped_order_reaches_the_shop_as_a_fulfilment_and_its_stock_in_one_push(
    world: World,
) -> None:
    shop = fake_shop()
    with shop_running(shop):
        world.connection = world.connect(shop)
        shipment = world.place_pick_pack_ship()
        world.run_worker()
        # Stock moves again (a count at NEAR, twice): one more push, the latest figure.
        set_stock(world.uow_factory, world.tenant_id, "X", "NEAR", 12)
        set_stock(world.uow_factory, world.tenant_id, "X", "NEAR", 11)
        world.run_worker(later=timedelta(minutes=1))
    (fulfilment,) = shop.fulfillments
    assert fulfilment["trackingInfo"]["number"] == shipment.tracking_number
    assert fulfilment["trackingInfo"]["company"] == shipment.carrier
    assert fulfilment["lineItemsByFulfillmentOrder"][0]["fulfillmentOrderLineItems"] == [
        {"id": "gid://shopify/FulfillmentOrderLineItem/1", "quantity": 2},
        {"id": "gid://shopify/FulfillmentOrderLineItem/2", "quantity": 1},
    ]
    # Placed (reserved), packed and shipped before the worker ran: one push of every level
    # the shop sells, with what is available after the shipment (X: 10 - 2, Y: 5 - 1).
    first, second = quantity_sets(shop)
    assert first == {(ITEM_X, NEAR): 8, (ITEM_Y, NEAR): 4, (ITEM_X, BONN): 4}
    assert second == {(ITEM_X, NEAR): 11}
    assert {(s["name"], s["reason"], s["ignoreCompareQuantity"]) for s in shop.inventory_sets} == {
        ("available", "correction", True)
    }
    # Inventory items looked up by SKU once, then remembered.
    lookups = [c for c in shop.graphql_calls if "productVariants" in c["query"]]
    assert len(lookups) == 1
    assert lookups[0]["variables"]["query"] == 'sku:"SHOP-X" OR sku:"Y"'
    assert world.channels.inventory_items(
        world.tenant_id, world.connection.id, ["SHOP-X", "Y"]
    ) == {"SHOP-X": ITEM_X, "Y": ITEM_Y}
    log = world.channels.entries(world.tenant_id, world.connection.id, limit=10)
    assert {(e.operation, e.outcome) for e in log} == {
        ("inventorySetQuantities", SyncOutcome.OK),
        ("fulfillmentCreate", SyncOutcome.OK),
    }


def test_a_429_and_a_throttled_answer_are_waited_out_as_the_shop_says(world: World) -> None:
    shop = fake_shop(retry_after="7", throttled=1)
    with shop_running(shop):
        world.connection = world.connect(shop)
        world.run_worker()  # the first stock push: looked up after THROTTLED, set after 429
        assert quantity_sets(shop) == [{(ITEM_X, NEAR): 10, (ITEM_Y, NEAR): 5, (ITEM_X, BONN): 4}]
        shop.answers = [429]
        set_stock(world.uow_factory, world.tenant_id, "Y", "NEAR", 3)
        world.run_worker(later=timedelta(minutes=1))
    assert world.slept == [3.0, 7.0]  # (10 - 4) / 2 points a second; then Retry-After
    assert quantity_sets(shop)[1:] == [{(ITEM_Y, NEAR): 3}]


def test_a_shop_down_for_a_while_gets_everything_once_it_is_back(world: World) -> None:
    shop = fake_shop(down=True)
    with shop_running(shop):
        world.connection = world.connect(shop)
        shipment = world.place_pick_pack_ship()
        world.run_worker()
        set_stock(world.uow_factory, world.tenant_id, "Y", "BONN", 6)  # while it is down
        world.run_worker(later=timedelta(minutes=1))
        assert (shop.fulfillments, shop.inventory_sets) == ([], [])
        with world.uow_factory(readonly=True) as uow:
            pending = {
                kind: uow.deliveries.page(
                    world.tenant_id,
                    sink_kind=kind,
                    subscriber_key=str(world.connection.id),
                    status=DeliveryStatus.PENDING,
                    before_id=None,
                    limit=50,
                )
                for kind in ("shopify", "shopify_stock")
            }
        assert (len(pending["shopify"]), len(pending["shopify_stock"])) == (1, 2)
        set_stock(world.uow_factory, world.tenant_id, "X", "NEAR", 20)  # the latest figure
        shop.down = False
        for _ in range(6):  # the retries come due over the next hours
            world.run_worker(later=timedelta(hours=2))
    (fulfilment,) = shop.fulfillments
    assert fulfilment["trackingInfo"]["number"] == shipment.tracking_number
    assert shop.available == {
        (ITEM_X, NEAR): 20,  # counted while the shop was away: the latest figure
        (ITEM_Y, NEAR): 4,
        (ITEM_X, BONN): 4,
        (ITEM_Y, BONN): 6,
    }
