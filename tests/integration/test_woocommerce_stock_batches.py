"""The WooCommerce stock sink against a fake store on loopback, with the in-memory
connection store: more
than 100 products are set in requests of at most 100 (WooCommerce's batch limit),
variations through their parent's batch, and an id the store no longer has is forgotten
and looked up again at the retry (the forgetting on both databases too)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import Engine

from oms.adapters.channels.credentials import FernetCipher
from oms.adapters.channels.woocommerce_stock import (
    BATCH_SIZE,
    WooCommerceStockJob,
    WooCommerceStockSink,
    item_id_of,
)
from oms.adapters.db.repositories.channels import SqlChannelRepository
from oms.adapters.memory.channels import InMemoryChannelRepository
from oms.services.events import Event, Outcome
from oms.services.stock_push import STOCK_PUSH_TOPIC
from tests.store_server import store_running
from tests.woocommerce_server import FakeWooCommerce

TENANT = UUID("018f0000-0000-7000-8000-000000000001")
CHANNEL = UUID("018f0000-0000-7000-8000-0000000000c1")
OTHER = UUID("018f0000-0000-7000-8000-0000000000c2")
AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
EVENT = Event(
    id=UUID("018f0000-0000-7000-8000-0000000000e1"),
    tenant_id=TENANT,
    type=STOCK_PUSH_TOPIC,
    created_at=AT,
    data={"channel_id": str(CHANNEL), "levels": []},
    topic=STOCK_PUSH_TOPIC,
    aggregate_id=CHANNEL,
    detail={},
)


def job(store: FakeWooCommerce, quantities: dict[str, int], known: dict[str, str]) -> object:
    return WooCommerceStockJob(
        channel_id=CHANNEL,
        store_url=store.base_url,
        consumer_key="ck",
        consumer_secret="cs",
        quantities=tuple(sorted(quantities.items())),
        known_items=known,
    )


def test_more_than_a_batch_goes_in_requests_of_at_most_100() -> None:
    store = FakeWooCommerce("ck", "cs")
    store.products = [
        {"id": n, "sku": f"S{n:03d}", "type": "simple", "parent_id": 0} for n in range(1, 131)
    ] + [{"id": 500, "sku": "V", "type": "variation", "parent_id": 7}]
    quantities = {f"S{n:03d}": n for n in range(1, 131)} | {"V": 3, "GONE": 1}
    known = {f"S{n:03d}": str(n) for n in range(1, 126)}  # looked up before
    sink = WooCommerceStockSink(channels=InMemoryChannelRepository())
    with store_running(store):
        outcome = sink.send(job(store, quantities, known), event=EVENT, key=str(CHANNEL), attempt=1)
    sink.close()
    assert outcome.delivered
    lookups = [r.query["sku"] for r in store.requests if r.method == "GET"]
    assert lookups == [["GONE,S126,S127,S128,S129,S130,V"]]  # only the SKUs not known
    assert [(parent, len(updates)) for parent, updates in store.batches] == [
        ("", BATCH_SIZE),
        ("", 30),
        ("7", 1),
    ]
    assert {p["id"]: p.get("stock_quantity") for p in store.products} == {
        **{n: n for n in range(1, 131)},
        500: 3,
    }


def test_an_id_the_store_no_longer_has_is_looked_up_again_at_the_retry() -> None:
    store = FakeWooCommerce("ck", "cs")
    # B was product 9 when it was looked up; deleted and made again since, as product 10.
    store.products = [
        {"id": 1, "sku": "A", "type": "simple", "parent_id": 0},
        {"id": 10, "sku": "B", "type": "simple", "parent_id": 0},
    ]
    channels = InMemoryChannelRepository()
    channels.remember_inventory_items(TENANT, CHANNEL, {"A": "1", "B": "9"}, AT)
    sink = WooCommerceStockSink(channels=channels)
    with store_running(store):

        def attempt() -> Outcome:
            known = channels.inventory_items(TENANT, CHANNEL, ["A", "B"])
            return sink.send(
                job(store, {"A": 2, "B": 5}, known), event=EVENT, key=str(CHANNEL), attempt=1
            )

        first = attempt()
        assert (first.delivered, first.final, first.status_code) == (False, False, 400)
        assert "no longer has the products of B" in str(first.error)
        assert store.products[0]["stock_quantity"] == 2  # the others are set all the same
        assert channels.inventory_items(TENANT, CHANNEL, ["A", "B"]) == {"A": "1"}
        again = attempt()
    sink.close()
    assert again.delivered
    assert channels.inventory_items(TENANT, CHANNEL, ["A", "B"]) == {"A": "1", "B": "10"}
    assert {p["id"]: p["stock_quantity"] for p in store.products} == {1: 2, 10: 5}


def test_memory_and_sql_forget_what_they_are_told_to(engine: Engine, tenant_id: UUID) -> None:
    sql = SqlChannelRepository(engine, FernetCipher("forget-items-key"))
    for channels in (InMemoryChannelRepository(), sql):
        channels.remember_inventory_items(tenant_id, CHANNEL, {"A": "1", "B": "2", "C": "3"}, AT)
        channels.remember_inventory_items(tenant_id, OTHER, {"A": "7"}, AT)
        channels.forget_inventory_items(tenant_id, CHANNEL, ["A", "C", "Z"])
        assert channels.inventory_items(tenant_id, CHANNEL, ["A", "B", "C"]) == {"B": "2"}
        assert channels.inventory_items(tenant_id, OTHER, ["A"]) == {"A": "7"}


def test_what_is_remembered_of_a_product_or_a_variation() -> None:
    assert item_id_of({"id": 12, "type": "simple", "parent_id": 0}) == "12"
    assert item_id_of({"id": 13, "type": "variable"}) == "13"
    assert item_id_of({"id": 14, "type": "variation", "parent_id": 12}) == "12/14"
    assert item_id_of({"id": "x", "type": "simple"}) is None
    assert item_id_of({"sku": "no id"}) is None
