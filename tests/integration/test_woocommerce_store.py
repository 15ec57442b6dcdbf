"""A WooCommerce store on loopback: ``oms channels sync`` pages through its REST API
(OAuth 1.0a over plain HTTP, ``X-WP-TotalPages``, a 429 waited out), and shipments go back
as a customer note with the tracking number and the status ``completed`` (SQLite and
PostgreSQL)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Engine

from oms.adapters.channels.credentials import FernetCipher
from oms.adapters.channels.store_http import StoreCallFailed
from oms.adapters.channels.woocommerce import WooCommerceChannel, order_of_payload
from oms.adapters.channels.woocommerce_push import (
    WooCommerceCompletion,
    WooCommerceShipmentSink,
)
from oms.adapters.db.repositories.channels import SqlChannelRepository
from oms.adapters.payments.registry import gateway_named
from oms.domain.channels import ChannelConnection, ChannelKind, SyncDirection, SyncOutcome
from oms.domain.orders import Actor
from oms.services.channel_orders import backfill_orders
from oms.services.channels import create_channel
from oms.services.events import Event, Outcome
from oms.services.intake import place_order
from oms.services.intake_group import place_alone
from oms.services.ports import OrderFilter, UnitOfWorkFactory
from tests.builders import TESTER, add_location, add_product, set_stock
from tests.store_server import store_running
from tests.woocommerce_server import API_PATH, FakeWooCommerce

FIXTURE = Path(__file__).parent.parent / "fixtures" / "woocommerce" / "order.json"
KEY, SECRET = "ck_test_0123456789", "cs_test_9876543210"
AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SINCE = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
TRACKING = "00340434161094042557"


def store_orders(count: int) -> list[dict[str, Any]]:
    base = json.loads(FIXTURE.read_text())
    orders = []
    for n in range(count):
        order = copy.deepcopy(base)
        order["id"] = order["number"] = 4817 + n
        order["date_modified_gmt"] = f"2026-12-07T09:{n:02d}:00"
        orders.append(order)
    return orders


def stock(uow_factory: UnitOfWorkFactory, tenant_id: UUID) -> None:
    add_location(uow_factory, tenant_id, "LEJ")
    for sku in ("MUG-STONE-350", "TEA-SENCHA-100G"):
        add_product(uow_factory, tenant_id, sku)
        set_stock(uow_factory, tenant_id, sku, "LEJ", 100)


def connect(engine: Engine, tenant_id: UUID, store_url: str) -> tuple[Any, ChannelConnection]:
    repo = SqlChannelRepository(engine, FernetCipher("woo-secret-key-0123456789"))
    connection = create_channel(
        channels=repo,
        tenant_id=tenant_id,
        kind=ChannelKind.WOOCOMMERCE,
        name="teehaus",
        settings={"store_url": store_url},
        credentials={"consumer_key": KEY, "consumer_secret": SECRET, "webhook_secret": "w"},
        at=AT,
    )
    return repo, connection


def run_backfill(
    uow_factory: UnitOfWorkFactory, repo: Any, connection: ChannelConnection, slept: list[float]
) -> Any:
    return backfill_orders(
        channels=repo,
        uow_factory=uow_factory,
        gateways=gateway_named,
        place=partial(place_alone, uow_factory, gateway_named, None),
        connection=connection,
        store=WooCommerceChannel(connection, sleep=slept.append),
        since=SINCE,
        actor=Actor("channel", "test"),
        at=AT,
    )


def test_a_backfill_pages_through_the_store_and_waits_out_its_rate_limit(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    stock(uow_factory, tenant_id)
    store = FakeWooCommerce(KEY, SECRET, orders=store_orders(5), answers=[200, 429])
    slept: list[float] = []
    with store_running(store):
        repo, connection = connect(engine, tenant_id, store.base_url)
        report = run_backfill(uow_factory, repo, connection, slept)
        again = run_backfill(uow_factory, repo, connection, slept)
    assert (report.created, report.unchanged, report.refused) == (5, 0, 0)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)  # exactly once
    assert slept == [2.0]  # the 429's Retry-After, honoured once
    # Every request was let in by the store's own OAuth 1.0a check (else 401).
    assert [r.status for r in store.requests] == [200, 429, 200, 200] + [200] * 3
    assert [r.query["page"] for r in store.requests[:4]] == [["1"], ["2"], ["2"], ["3"]]
    first = store.requests[0].query
    assert first["modified_after"] == ["2026-12-07T00:00:00"]
    assert (first["dates_are_gmt"], first["orderby"], first["order"]) == (
        ["true"],
        ["id"],
        ["asc"],
    )
    assert first["oauth_signature_method"] == ["HMAC-SHA256"]
    assert all(r.path == f"{API_PATH}/orders" for r in store.requests)
    with uow_factory(readonly=True) as uow:
        found = uow.orders.page(
            tenant_id,
            filters=OrderFilter(channel=connection.order_channel),
            before_id=None,
            limit=100,
        )
    assert sorted(o.external_id for o in found) == [str(4817 + n) for n in range(5)]


def test_a_store_that_stays_down_fails_the_backfill_and_the_health(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    store = FakeWooCommerce(KEY, SECRET, orders=store_orders(1), answers=[503] * 10)
    slept: list[float] = []
    with store_running(store):
        repo, connection = connect(engine, tenant_id, store.base_url)
        with pytest.raises(StoreCallFailed):
            run_backfill(uow_factory, repo, connection, slept)
    assert slept == [1.0, 2.0, 4.0, 8.0, 16.0]
    (entry,) = repo.entries(tenant_id, connection.id, limit=5)
    assert entry.outcome is SyncOutcome.FAILED
    assert repo.get(tenant_id, connection.id).health.value == "failing"


def woo_order(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID, store_url: str
) -> tuple[Any, ChannelConnection, UUID]:
    stock(uow_factory, tenant_id)
    repo, connection = connect(engine, tenant_id, store_url)
    mapped = order_of_payload(json.loads(FIXTURE.read_text()), connection)
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
    """A ``shipment.created`` event as the worker hands it over."""
    return Event(
        id=uuid4(),
        tenant_id=tenant_id,
        type="shipment.created",
        created_at=AT,
        data={
            "order_id": str(order_id),
            "carrier": "DHL",
            "service": "Paket",
            "tracking_number": TRACKING,
            "tracking_url": f"https://www.dhl.de/track?piececode={TRACKING}",
            "contents": [
                {"line_no": n, "sku": sku, "quantity": q} for n, (sku, q) in enumerate(contents, 1)
            ],
        },
        topic="shipment.created",
        aggregate_id=order_id,
        detail={},
    )


def deliver(
    sink: WooCommerceShipmentSink, uow_factory: UnitOfWorkFactory, event: Event
) -> tuple[list[str], Any, Outcome | None]:
    with uow_factory(readonly=True) as uow:
        keys = list(sink.subscribers(uow, event))
        prepared = sink.prepare(uow, event, keys[0]) if keys else None
    if prepared is None:
        return keys, None, None
    return keys, prepared, sink.send(prepared, event=event, key=keys[0], attempt=1)


def test_a_shipment_becomes_a_customer_note_with_its_tracking_after_a_429(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    store = FakeWooCommerce(KEY, SECRET, answers=[429], retry_after="3")
    store.orders = store_orders(1)
    slept: list[float] = []
    with store_running(store):
        repo, connection, order_id = woo_order(engine, uow_factory, tenant_id, store.base_url)
        sink = WooCommerceShipmentSink(channels=repo, sleep=slept.append)
        event = shipped(tenant_id, order_id, [("MUG-STONE-350", 2)])
        keys, prepared, outcome = deliver(sink, uow_factory, event)
        _, _, again = deliver(sink, uow_factory, event)  # a retry after a lost answer
        sink.close()
    assert keys == [str(connection.id)]
    assert outcome is not None
    assert outcome.delivered
    assert again is not None
    assert again.delivered
    assert slept == [3.0]
    (note,) = store.notes["4817"]  # the retry added no second note
    assert note["customer_note"] is True
    assert TRACKING in note["note"]
    assert f"https://www.dhl.de/track?piececode={TRACKING}" in note["note"]
    assert "2 x MUG-STONE-350" in note["note"]
    # Not every line has shipped: the order is not completed yet.
    assert isinstance(prepared, WooCommerceCompletion)
    assert not prepared.complete
    assert store.orders[0]["status"] == "processing"
    assert not [r for r in store.requests if r.method == "PUT"]
    log = repo.entries(tenant_id, connection.id, limit=5)
    assert [(e.direction, e.outcome) for e in log[:2]] == [
        (SyncDirection.OUTBOUND, SyncOutcome.OK)
    ] * 2


def test_the_last_parcel_completes_the_order(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    store = FakeWooCommerce(KEY, SECRET, orders=store_orders(1))
    with store_running(store):
        repo, connection, order_id = woo_order(engine, uow_factory, tenant_id, store.base_url)
        sink = WooCommerceShipmentSink(channels=repo)
        push = WooCommerceCompletion(
            channel_id=connection.id,
            tenant_id=tenant_id,
            store_url=store.base_url,
            consumer_key=KEY,
            consumer_secret=SECRET,
            order_id="4817",
            tracking_number=TRACKING,
            note=f"Tracking number: {TRACKING}",
            complete=True,
        )
        event = shipped(tenant_id, order_id, [("MUG-STONE-350", 2), ("TEA-SENCHA-100G", 1)])
        outcome = sink.send(push, event=event, key=str(connection.id), attempt=1)
        sink.close()
    assert outcome.delivered
    (put,) = [r for r in store.requests if r.method == "PUT"]
    assert (put.path, put.body) == (f"{API_PATH}/orders/4817", {"status": "completed"})
    assert store.orders[0]["status"] == "completed"
    assert [n["note"] for n in store.notes["4817"]] == [f"Tracking number: {TRACKING}"]


def test_a_store_that_is_down_gets_the_note_once_back_and_an_unknown_order_ends_it(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    store = FakeWooCommerce(KEY, SECRET, orders=store_orders(1), answers=[503, 503])
    with store_running(store):
        repo, _, order_id = woo_order(engine, uow_factory, tenant_id, store.base_url)
        sink = WooCommerceShipmentSink(channels=repo, sleep=lambda _: None)
        event = shipped(tenant_id, order_id, [("MUG-STONE-350", 2)])
        outcomes = [deliver(sink, uow_factory, event)[2] for _ in range(3)]
        store.orders = []  # deleted in the store
        gone = deliver(sink, uow_factory, event)[2]
        sink.close()
    assert [(o.delivered, o.final, o.status_code) for o in outcomes if o] == [
        (False, False, 503),
        (False, False, 503),
        (True, False, 200),
    ]
    assert len(store.notes["4817"]) == 1
    assert gone is not None
    assert (gone.delivered, gone.final, gone.status_code) == (
        False,
        True,
        404,
    )


def test_orders_of_other_channels_and_connections_that_do_not_push_are_not_subscribed(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    with store_running(FakeWooCommerce(KEY, SECRET)) as store:
        repo, connection, order_id = woo_order(engine, uow_factory, tenant_id, store.base_url)
        sink = WooCommerceShipmentSink(channels=repo)
        with uow_factory(readonly=True) as uow:
            assert sink.subscribers(uow, shipped(tenant_id, uuid4(), [])) == []
            assert sink.subscribers(uow, shipped(tenant_id, order_id, [])) == [str(connection.id)]
        connection.push_fulfilments = False
        repo.save(connection)
        with uow_factory(readonly=True) as uow:
            assert sink.subscribers(uow, shipped(tenant_id, order_id, [])) == []
        sink.close()
