"""A Magento 2 store on loopback: ``oms channels sync`` pulls its orders by searchCriteria
page by page (a bearer token, ``total_count``, a 429 waited out), and shipments go back as
``POST /rest/V1/order/{id}/ship`` with their tracks (SQLite and PostgreSQL)."""

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
from typer.testing import CliRunner

from oms.adapters.channels.credentials import FernetCipher
from oms.adapters.channels.magento import MagentoChannel, order_of_payload
from oms.adapters.channels.magento_push import MagentoShipmentSink
from oms.adapters.db.repositories.channels import SqlChannelRepository
from oms.adapters.payments.registry import gateway_named
from oms.cli import app
from oms.domain.channels import ChannelConnection, ChannelKind, SyncDirection, SyncOutcome
from oms.domain.orders import Actor
from oms.services.channel_orders import backfill_orders
from oms.services.channels import create_channel
from oms.services.events import Event, Outcome
from oms.services.intake import place_order
from oms.services.intake_group import place_alone
from oms.services.ports import OrderFilter, UnitOfWorkFactory
from tests.builders import TESTER, add_location, add_product, set_stock
from tests.magento_server import API_PATH, FakeMagento
from tests.store_server import store_running

FIXTURE = Path(__file__).parent.parent / "fixtures" / "magento" / "order.json"
TOKEN = "m2-integration-token-0123456789"
AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SINCE = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
TRACKING = "1Z999AA10123456784"
FILTER = "searchCriteria[filter_groups][0][filters][0]"


def store_orders(count: int) -> list[dict[str, Any]]:
    base = json.loads(FIXTURE.read_text())
    orders = []
    for n in range(count):
        order = copy.deepcopy(base)
        order["entity_id"] = 1874 + n
        order["increment_id"] = f"{1874 + n:09d}"
        order["updated_at"] = f"2026-12-07 09:{n:02d}:00"
        orders.append(order)
    return orders


def stock(uow_factory: UnitOfWorkFactory, tenant_id: UUID) -> None:
    add_location(uow_factory, tenant_id, "BER")
    for sku in ("BEANIE-GRAPHITE", "SOCKS-3P-4245"):
        add_product(uow_factory, tenant_id, sku)
        set_stock(uow_factory, tenant_id, sku, "BER", 100)


def connect(repo: SqlChannelRepository, tenant_id: UUID, base_url: str) -> ChannelConnection:
    return create_channel(
        channels=repo,
        tenant_id=tenant_id,
        kind=ChannelKind.MAGENTO2,
        name="m2",
        settings={"base_url": base_url},
        credentials={"access_token": TOKEN},
        at=AT,
    )


def repository(engine: Engine) -> SqlChannelRepository:
    return SqlChannelRepository(engine, FernetCipher("m2-secret-key-0123456789"))


def test_a_pull_pages_through_the_store_and_waits_out_its_rate_limit(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    stock(uow_factory, tenant_id)
    repo = repository(engine)
    old = store_orders(6)[5]
    old["updated_at"] = "2026-12-06 23:59:59"  # before the start: not pulled
    # The store's pages are shorter than the 100 asked, to show paging in a few orders.
    store = FakeMagento(TOKEN, orders=[*store_orders(5), old], answers=[200, 429], page_size=2)
    slept: list[float] = []
    with store_running(store):
        connection = connect(repo, tenant_id, store.base_url)
        pull = partial(
            backfill_orders,
            channels=repo,
            uow_factory=uow_factory,
            gateways=gateway_named,
            place=partial(place_alone, uow_factory, gateway_named, None),
            connection=connection,
            store=MagentoChannel(connection, sleep=slept.append),
            since=SINCE,
            actor=Actor("channel", "test"),
            at=AT,
        )
        report = pull()
        again = pull()
    assert (report.created, report.unchanged, report.refused) == (5, 0, 0)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert slept == [2.0]
    assert [r.status for r in store.requests[:5]] == [200, 429, 200, 200, 200]
    pages = [r.query["searchCriteria[currentPage]"][0] for r in store.requests[:4]]
    assert pages == ["1", "2", "2", "3"]
    first = store.requests[0]
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert first.query[f"{FILTER}[value]"] == ["2026-12-07 00:00:00"]
    assert first.query["searchCriteria[sortOrders][0][field]"] == ["entity_id"]
    with uow_factory(readonly=True) as uow:
        found = uow.orders.page(
            tenant_id,
            filters=OrderFilter(channel=connection.order_channel),
            before_id=None,
            limit=100,
        )
    assert sorted(o.external_id for o in found) == [str(1874 + n) for n in range(5)]


def test_paging_stops_at_the_total_count_and_at_a_repeated_last_page(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    from oms.adapters.channels.magento_rest import MagentoRest

    store = FakeMagento(TOKEN, orders=store_orders(3), page_size=2)
    with store_running(store):
        rest = MagentoRest(base_url=store.base_url, access_token=TOKEN)
        pulled = [o["entity_id"] for o in rest.orders_since(SINCE)]
        store.requests.clear()
        store.total_count_extra = 5  # a count that overstates: page 3 repeats page 2
        overstated = [o["entity_id"] for o in rest.orders_since(SINCE)]
        rest.close()
    assert pulled == [1874, 1875, 1876]
    assert overstated == [1874, 1875, 1876]  # nothing twice
    assert [r.query["searchCriteria[currentPage]"] for r in store.requests] == [["1"], ["2"], ["3"]]


def test_the_cli_syncs_a_magento_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_engine: Engine
) -> None:
    url = sqlite_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("OMS_DATABASE_URL", url)
    monkeypatch.setenv("OMS_SECRET_KEY", "cli-secret-key-0123456789")
    from oms.adapters.db.uow import SqlUnitOfWorkFactory
    from oms.services.tenants import create_tenant

    uow_factory = SqlUnitOfWorkFactory(sqlite_engine)
    tenant, _ = create_tenant(uow_factory=uow_factory, name="m2 cli shop")
    stock(uow_factory, tenant.id)
    repo = SqlChannelRepository(sqlite_engine, FernetCipher("cli-secret-key-0123456789"))
    store = FakeMagento(TOKEN, orders=store_orders(3))
    runner = CliRunner()
    with store_running(store):
        connection = connect(repo, tenant.id, store.base_url)
        result = runner.invoke(
            app, ["channels", "sync", str(connection.id), "--since", "2026-12-07T00:00:00Z"]
        )
    assert result.exit_code == 0, result.output
    assert "3 placed, 0 updated, 0 unchanged, 0 refused" in result.stdout
    store.orders = [{"entity_id": 1, "updated_at": "2026-12-07 10:00:00"}]  # no items
    with store_running(store):
        connection.settings["base_url"] = store.base_url
        repo.save(connection)
        garbled = runner.invoke(
            app, ["channels", "sync", str(connection.id), "--since", "2026-12-07T00:00:00Z"]
        )
    assert garbled.exit_code == 1
    assert "not what it documents" in garbled.output
    assert "Traceback" not in garbled.output


def magento_order(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID, base_url: str
) -> tuple[SqlChannelRepository, ChannelConnection, UUID]:
    stock(uow_factory, tenant_id)
    repo = repository(engine)
    connection = connect(repo, tenant_id, base_url)
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
    return Event(
        id=uuid4(),
        tenant_id=tenant_id,
        type="shipment.created",
        created_at=AT,
        data={
            "order_id": str(order_id),
            "carrier": "UPS",
            "service": "Standard",
            "tracking_number": TRACKING,
            "tracking_url": f"https://www.ups.com/track?tracknum={TRACKING}",
            "contents": [
                {"line_no": n, "sku": sku, "quantity": q} for n, (sku, q) in enumerate(contents, 1)
            ],
        },
        topic="shipment.created",
        aggregate_id=order_id,
        detail={},
    )


def deliver(
    sink: MagentoShipmentSink, uow_factory: UnitOfWorkFactory, event: Event
) -> tuple[list[str], Outcome | None]:
    with uow_factory(readonly=True) as uow:
        keys = list(sink.subscribers(uow, event))
        prepared = sink.prepare(uow, event, keys[0]) if keys else None
    if prepared is None:
        return keys, None
    return keys, sink.send(prepared, event=event, key=keys[0], attempt=1)


def test_a_shipment_is_shipped_in_magento_with_its_track_after_a_429(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    store = FakeMagento(TOKEN, orders=store_orders(1), answers=[429], retry_after="4")
    slept: list[float] = []
    with store_running(store):
        repo, connection, order_id = magento_order(engine, uow_factory, tenant_id, store.base_url)
        sink = MagentoShipmentSink(channels=repo, sleep=slept.append)
        event = shipped(tenant_id, order_id, [("BEANIE-GRAPHITE", 2), ("SOCKS-3P-4245", 1)])
        keys, outcome = deliver(sink, uow_factory, event)
        _, again = deliver(sink, uow_factory, event)  # a retry after a lost answer
        sink.close()
    assert keys == [str(connection.id)]
    assert outcome is not None
    assert outcome.delivered
    assert again is not None
    assert again.delivered
    assert slept == [4.0]
    (shipment,) = store.shipments  # the retry shipped nothing twice
    assert shipment["items"] == [
        {"order_item_id": 5531, "qty": 2},  # the configurable's parent line, not its child
        {"order_item_id": 5533, "qty": 1},
    ]
    assert shipment["tracks"] == [
        {"track_number": TRACKING, "title": "UPS Standard", "carrier_code": "ups"}
    ]
    assert shipment["notify"] is True
    ship_calls = [r for r in store.requests if r.method == "POST"]
    assert [r.path for r in ship_calls] == [f"{API_PATH}/order/1874/ship"]
    log = repo.entries(tenant_id, connection.id, limit=5)
    assert [(e.direction, e.operation, e.outcome) for e in log[:2]] == [
        (SyncDirection.OUTBOUND, "ship", SyncOutcome.OK)
    ] * 2


def test_a_store_that_is_down_gets_the_shipment_once_back(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    store = FakeMagento(TOKEN, orders=store_orders(1), answers=[503, 502])
    with store_running(store):
        repo, _, order_id = magento_order(engine, uow_factory, tenant_id, store.base_url)
        sink = MagentoShipmentSink(channels=repo, sleep=lambda _: None)
        event = shipped(tenant_id, order_id, [("SOCKS-3P-4245", 1)])
        outcomes = [deliver(sink, uow_factory, event)[1] for _ in range(3)]
        sink.close()
    assert [(o.delivered, o.final, o.status_code) for o in outcomes if o] == [
        (False, False, 503),
        (False, False, 502),
        (True, False, 200),
    ]
    (shipment,) = store.shipments
    assert shipment["items"] == [{"order_item_id": 5533, "qty": 1}]


def test_a_hold_in_magento_holds_the_order_until_magento_releases_it(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    from oms.domain.holds import HoldReason
    from oms.domain.status import OrderStatus
    from oms.services.orders import get_order

    stock(uow_factory, tenant_id)
    repo = repository(engine)
    (order,) = store_orders(1)
    order.update(state="holded", status="holded")
    store = FakeMagento(TOKEN, orders=[order])
    with store_running(store):
        connection = connect(repo, tenant_id, store.base_url)
        pull = partial(
            backfill_orders,
            channels=repo,
            uow_factory=uow_factory,
            gateways=gateway_named,
            place=partial(place_alone, uow_factory, gateway_named, None),
            connection=connection,
            store=MagentoChannel(connection),
            since=SINCE,
            actor=Actor("channel", str(connection.id)),
            at=AT,
        )
        pull()
        with uow_factory(readonly=True) as uow:
            (placed,) = uow.orders.page(
                tenant_id,
                filters=OrderFilter(channel=connection.order_channel),
                before_id=None,
                limit=10,
            )
        held = get_order(uow_factory=uow_factory, tenant_id=tenant_id, order_id=placed.id)
        order.update(state="processing", status="processing", updated_at="2026-12-07 11:00:00")
        pull()
        released = get_order(uow_factory=uow_factory, tenant_id=tenant_id, order_id=placed.id)
    assert held.status is OrderStatus.ON_HOLD
    (hold,) = [h for h in held.open_holds if h.reason is HoldReason.MANUAL]
    assert hold.note == "on hold in Magento (#000001874)"
    assert released.status is OrderStatus.OPEN
    assert not [h for h in released.open_holds if h.reason is HoldReason.MANUAL]
