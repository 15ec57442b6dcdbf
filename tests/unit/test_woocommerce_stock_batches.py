"""The WooCommerce stock sink against a fake store on loopback, without a database: more
than 100 products are set in requests of at most 100 (WooCommerce's batch limit),
variations through their parent's batch, and an id the store no longer has ends the
delivery naming it."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from oms.adapters.channels.woocommerce_stock import (
    BATCH_SIZE,
    WooCommerceStockJob,
    WooCommerceStockSink,
    item_id_of,
)
from oms.adapters.memory.channels import InMemoryChannelRepository
from oms.services.events import Event
from oms.services.stock_push import STOCK_PUSH_TOPIC
from tests.store_server import store_running
from tests.woocommerce_server import FakeWooCommerce

TENANT = UUID("018f0000-0000-7000-8000-000000000001")
CHANNEL = UUID("018f0000-0000-7000-8000-0000000000c1")
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
    known = {p["sku"]: str(p["id"]) for p in store.products[:125]}  # looked up before
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


def test_an_id_the_store_no_longer_has_ends_the_delivery() -> None:
    store = FakeWooCommerce("ck", "cs")
    store.products = [{"id": 1, "sku": "A", "type": "simple", "parent_id": 0}]
    sink = WooCommerceStockSink(channels=InMemoryChannelRepository())
    with store_running(store):
        outcome = sink.send(
            job(store, {"A": 2, "B": 5}, {"A": "1", "B": "9"}),
            event=EVENT,
            key=str(CHANNEL),
            attempt=1,
        )
    sink.close()
    assert (outcome.delivered, outcome.final) == (False, True)
    assert outcome.error == "the batch refused 9: Invalid ID."
    assert store.products[0]["stock_quantity"] == 2  # the others are set all the same


def test_what_is_remembered_of_a_product_or_a_variation() -> None:
    assert item_id_of({"id": 12, "type": "simple", "parent_id": 0}) == "12"
    assert item_id_of({"id": 13, "type": "variable"}) == "13"
    assert item_id_of({"id": 14, "type": "variation", "parent_id": 12}) == "12/14"
    assert item_id_of({"id": "x", "type": "simple"}) is None
    assert item_id_of({"sku": "no id"}) is None
