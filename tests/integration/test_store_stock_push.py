"""Stock levels to WooCommerce and Magento 2 end to end, on SQLite and PostgreSQL: stock
moves (an order placed, counts), ``oms worker`` runs (markers queued, the outbox fanned out
and delivered), and a fake store on loopback receives the figures, each SKU once in one
batch with the latest figure: WooCommerce one total per product or variation over the
locations the connection sells, Magento one source item per location. A 429's
``Retry-After`` is waited out (the sleeper injected); a store down for a while gets
everything once it is back.

The worker claims every tenant's due markers: this module runs on databases of its own,
so no other test's worker takes its markers.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine

from oms.adapters.channels.credentials import FernetCipher
from oms.adapters.channels.magento_stock import MagentoStockSink
from oms.adapters.channels.woocommerce_stock import WooCommerceStockSink
from oms.adapters.db.engine import build_engine
from oms.adapters.db.repositories.channels import SqlChannelRepository
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.event_data import render_event_data
from oms.config import Settings
from oms.domain.channels import ChannelConnection, ChannelKind, SyncOutcome
from oms.domain.delivery_schedule import DeliveryStatus
from oms.services.channels import create_channel
from oms.services.stock_push import queue_stock_pushes
from oms.worker.runner import Worker
from tests.builders import add_location, add_product, order_of, place, set_stock
from tests.databases import ENGINES, migrated_database_url
from tests.magento_server import API_PATH as MAGENTO_API
from tests.magento_server import FakeMagento
from tests.store_server import store_running
from tests.woocommerce_server import API_PATH as WOO_API
from tests.woocommerce_server import FakeWooCommerce

KEY, SECRET, TOKEN = "ck_stock_0123", "cs_stock_3210", "magento-stock-token"
T0 = datetime(2031, 3, 3, 9, 30, tzinfo=UTC)
"""The worker's clock: later than any change the use cases stamp with the time now."""
MUG, TEA = 311, 412  # the WooCommerce ids: a simple product, a variation of product 400
TEA_PARENT = 400


@pytest.fixture(scope="module", params=ENGINES)
def store_stock_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    for url in migrated_database_url(request, request.param, "storestock"):
        engine = build_engine(Settings(database_url=url, db_max_overflow=20))
        yield engine
        engine.dispose()


@pytest.fixture
def uow_factory(store_stock_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(store_stock_engine)


class World:
    """A tenant selling MUG and TEA from LEJ and BER (FAR sold elsewhere), the worker's
    clock and what it slept."""

    def __init__(self, engine: Engine, uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID):
        self.uow_factory = uow_factory
        self.tenant_id = tenant_id
        self.channels = SqlChannelRepository(engine, FernetCipher("store-stock-test-key"))
        self.now = T0
        self.slept: list[float] = []
        for code in ("LEJ", "BER", "FAR"):
            add_location(uow_factory, tenant_id, code)
        for sku in ("MUG", "TEA", "Z"):
            add_product(uow_factory, tenant_id, sku)
        self.stock("MUG", "LEJ", 10)
        self.stock("MUG", "BER", 4)
        self.stock("TEA", "LEJ", 5)
        self.stock("Z", "FAR", 7)  # a location the store does not sell

    def stock(self, sku: str, location: str, units: int) -> None:
        set_stock(self.uow_factory, self.tenant_id, sku, location, units)

    def connect(self, kind: ChannelKind, settings: dict[str, Any]) -> ChannelConnection:
        credentials = (
            {"consumer_key": KEY, "consumer_secret": SECRET, "webhook_secret": "w"}
            if kind is ChannelKind.WOOCOMMERCE
            else {"access_token": TOKEN}
        )
        return create_channel(
            channels=self.channels,
            tenant_id=self.tenant_id,
            kind=kind,
            name=f"{kind.value} shop",
            settings=settings,
            credentials=credentials,
            location_codes=("LEJ", "BER"),
            sku_mapping={"STORE-MUG": "MUG"},
            push_stock=True,
            at=T0,
        )

    def place_order(self) -> None:
        """Two MUG and one TEA reserved, wherever routing takes them."""
        place(self.uow_factory, self.tenant_id, order_of(("MUG", 2), ("TEA", 1)))

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
                WooCommerceStockSink(channels=self.channels, sleep=self.slept.append),
                MagentoStockSink(channels=self.channels, sleep=self.slept.append),
            ],
            render=render_event_data,
            threads=2,
            idle_seconds=0.01,
            clock=clock,
            rng=random.Random(7),
            periodic=[(0.0, queue)],
        ).run(once=True)

    def pending(self, connection: ChannelConnection, sink_kind: str) -> int:
        with self.uow_factory(readonly=True) as uow:
            return len(
                uow.deliveries.page(
                    self.tenant_id,
                    sink_kind=sink_kind,
                    subscriber_key=str(connection.id),
                    status=DeliveryStatus.PENDING,
                    before_id=None,
                    limit=50,
                )
            )


@pytest.fixture
def world(store_stock_engine: Engine, uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> World:
    return World(store_stock_engine, uow_factory, tenant_id)


# WooCommerce ------------------------------------------------------------------------------


def woo_store(**fields: Any) -> FakeWooCommerce:
    store = FakeWooCommerce(KEY, SECRET, **fields)
    store.products = [
        {"id": MUG, "sku": "STORE-MUG", "type": "simple", "parent_id": 0,
         "manage_stock": False, "stock_quantity": None},
        {"id": TEA_PARENT, "sku": "TEA-BOX", "type": "variable", "parent_id": 0,
         "manage_stock": False, "stock_quantity": None},
        {"id": TEA, "sku": "TEA", "type": "variation", "parent_id": TEA_PARENT,
         "manage_stock": "parent", "stock_quantity": None},
    ]  # fmt: skip
    return store


def stock_quantities(store: FakeWooCommerce) -> dict[int, tuple[Any, Any]]:
    return {p["id"]: (p["manage_stock"], p["stock_quantity"]) for p in store.products}


def woo_batches(store: FakeWooCommerce) -> list[tuple[str, dict[int, int]]]:
    return [
        (parent, {u["id"]: u["stock_quantity"] for u in updates})
        for parent, updates in store.batches
    ]


def test_woocommerce_gets_each_skus_total_over_the_sold_locations_in_one_batch(
    world: World,
) -> None:
    store = woo_store()
    with store_running(store):
        connection = world.connect(ChannelKind.WOOCOMMERCE, {"store_url": store.base_url})
        world.place_order()
        world.run_worker()
        # Counted again at BER, twice: one more push, the latest figure.
        world.stock("MUG", "BER", 9)
        world.stock("MUG", "BER", 6)
        world.run_worker(later=timedelta(minutes=1))
    # MUG: 10 + 4 less the 2 reserved; TEA: 5 less 1; Z (only at FAR) is not sold there.
    assert woo_batches(store) == [
        ("", {MUG: 12}),
        (str(TEA_PARENT), {TEA: 4}),
        ("", {MUG: 14}),  # 10 + 6 - 2
    ]
    assert all(u["manage_stock"] is True for _, updates in store.batches for u in updates)
    assert stock_quantities(store) == {
        MUG: (True, 14),
        TEA_PARENT: (False, None),
        TEA: (True, 4),
    }
    # The products were looked up by the store's SKUs once, then remembered.
    lookups = [r for r in store.requests if r.path == f"{WOO_API}/products"]
    assert [r.query["sku"] for r in lookups] == [["STORE-MUG,TEA"]]
    assert world.channels.inventory_items(world.tenant_id, connection.id, ["STORE-MUG", "TEA"]) == {
        "STORE-MUG": str(MUG),
        "TEA": f"{TEA_PARENT}/{TEA}",
    }
    log = world.channels.entries(world.tenant_id, connection.id, limit=10)
    assert [(e.operation, e.outcome) for e in log] == [("stock_quantity", SyncOutcome.OK)] * 2


def test_woocommerce_429_is_waited_out_as_the_store_says(world: World) -> None:
    store = woo_store(retry_after="7", answers=[429])
    with store_running(store):
        world.connect(ChannelKind.WOOCOMMERCE, {"store_url": store.base_url})
        world.run_worker()
    assert world.slept == [7.0]
    assert [r.status for r in store.requests] == [429, 200, 200, 200]
    assert woo_batches(store) == [("", {MUG: 14}), (str(TEA_PARENT), {TEA: 5})]


def test_woocommerce_down_for_a_while_gets_everything_once_it_is_back(world: World) -> None:
    store = woo_store(down=True)
    with store_running(store):
        connection = world.connect(ChannelKind.WOOCOMMERCE, {"store_url": store.base_url})
        world.place_order()
        world.run_worker()
        world.stock("TEA", "BER", 3)  # while it is down
        world.run_worker(later=timedelta(minutes=1))
        assert store.batches == []
        assert world.pending(connection, "woocommerce_stock") == 2
        world.stock("MUG", "LEJ", 20)  # the latest figure
        store.down = False
        for _ in range(6):  # the retries come due over the next hours
            world.run_worker(later=timedelta(hours=2))
    assert world.pending(connection, "woocommerce_stock") == 0
    # MUG: 20 + 4 - 2; TEA: 5 + 3 - 1 (whichever location the reservations are at).
    assert stock_quantities(store)[MUG] == (True, 22)
    assert stock_quantities(store)[TEA] == (True, 7)


# Magento 2 --------------------------------------------------------------------------------

SOURCES = {"magento_sources": {"LEJ": "leipzig"}}  # BER: its code as it is


def magento_store(**fields: Any) -> FakeMagento:
    return FakeMagento(
        TOKEN, catalogue={"STORE-MUG", "TEA", "Z"}, sources={"leipzig", "BER"}, **fields
    )


def saves(store: FakeMagento) -> list[dict[tuple[str, str], tuple[int, int]]]:
    return [
        {(i["sku"], i["source_code"]): (i["quantity"], i["status"]) for i in items}
        for items in store.source_item_saves
    ]


def reserved_at(world: World) -> dict[tuple[str, str], int]:
    """Where routing reserved the order's units: (SKU, location code) -> units."""
    with world.uow_factory(readonly=True) as uow:
        codes = {loc.id: loc.code for loc in uow.locations.visible_to(world.tenant_id)}
        levels = uow.inventory.levels(world.tenant_id, {"MUG", "TEA"}, sorted(codes, key=str))
    return {(lv.sku, codes[lv.location_id]): lv.reserved for lv in levels if lv.reserved}


def test_magento_gets_a_source_item_per_sold_location_in_one_request(world: World) -> None:
    store = magento_store()
    with store_running(store):
        connection = world.connect(ChannelKind.MAGENTO2, {"base_url": store.base_url, **SOURCES})
        world.place_order()
        reserved = reserved_at(world)
        world.run_worker()
        world.stock("Z", "BER", 9)
        world.stock("Z", "BER", 0)  # sold out there: out of stock at that source
        world.run_worker(later=timedelta(minutes=1))
    assert sum(reserved.values()) == 3

    def expected(sku: str, code: str, on_hand: int) -> tuple[int, int]:
        available = max(0, on_hand - reserved.get((sku, code), 0))
        return available, 1 if available > 0 else 0

    assert saves(store) == [
        {
            ("STORE-MUG", "leipzig"): expected("MUG", "LEJ", 10),
            ("STORE-MUG", "BER"): expected("MUG", "BER", 4),
            ("TEA", "leipzig"): expected("TEA", "LEJ", 5),
        },
        {("Z", "BER"): (0, 0)},
    ]
    assert [r.path for r in store.requests] == [f"{MAGENTO_API}/inventory/source-items"] * 2
    log = world.channels.entries(world.tenant_id, connection.id, limit=10)
    assert [(e.operation, e.outcome) for e in log] == [("source-items", SyncOutcome.OK)] * 2


def test_magento_429_is_waited_out_as_the_store_says(world: World) -> None:
    store = magento_store(retry_after="4", answers=[429])
    with store_running(store):
        world.connect(ChannelKind.MAGENTO2, {"base_url": store.base_url, **SOURCES})
        world.run_worker()
    assert world.slept == [4.0]
    assert [r.status for r in store.requests] == [429, 200]
    assert saves(store) == [
        {
            ("STORE-MUG", "leipzig"): (10, 1),
            ("STORE-MUG", "BER"): (4, 1),
            ("TEA", "leipzig"): (5, 1),
        }
    ]


def test_magento_down_for_a_while_gets_everything_once_it_is_back(world: World) -> None:
    store = magento_store(down=True)
    with store_running(store):
        connection = world.connect(ChannelKind.MAGENTO2, {"base_url": store.base_url, **SOURCES})
        world.run_worker()
        world.stock("TEA", "BER", 3)  # while it is down
        world.run_worker(later=timedelta(minutes=1))
        assert store.source_item_saves == []
        assert world.pending(connection, "magento2_stock") == 2
        world.stock("MUG", "LEJ", 20)  # the latest figure
        store.down = False
        for _ in range(6):  # the retries come due over the next hours
            world.run_worker(later=timedelta(hours=2))
    assert world.pending(connection, "magento2_stock") == 0
    assert {k: v["quantity"] for k, v in store.source_items.items()} == {
        ("STORE-MUG", "leipzig"): 20,
        ("STORE-MUG", "BER"): 4,
        ("TEA", "leipzig"): 5,
        ("TEA", "BER"): 3,
    }


def test_a_sku_magento_has_no_product_of_holds_back_no_other_and_ends_the_delivery(
    world: World,
) -> None:
    store = FakeMagento(TOKEN, catalogue={"STORE-MUG"}, sources={"leipzig", "BER"})
    with store_running(store):
        connection = world.connect(ChannelKind.MAGENTO2, {"base_url": store.base_url, **SOURCES})
        world.run_worker()
        world.run_worker(later=timedelta(hours=2))
    # The three refused together (TEA is unknown), then each alone: MUG's two saved.
    assert [len(r.body["sourceItems"]) for r in store.requests] == [3, 1, 1, 1]
    assert saves(store) == [{("STORE-MUG", "BER"): (4, 1)}, {("STORE-MUG", "leipzig"): (10, 1)}]
    assert world.pending(connection, "magento2_stock") == 0  # not retried
    (entry,) = world.channels.entries(world.tenant_id, connection.id, limit=10)
    assert entry.outcome is SyncOutcome.FAILED
    assert entry.detail == "2 source items saved; refused: TEA at leipzig"
