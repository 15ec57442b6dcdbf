"""``oms channels sync``: a Shopify shop's orders pulled page by page from a fake shop on
loopback, through the intake, patient with the shop's rate limit."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from oms.adapters.channels.credentials import FernetCipher
from oms.adapters.channels.shopify import ShopifyChannel
from oms.adapters.channels.shopify_admin import ShopifyUnavailable
from oms.adapters.db.repositories.channels import SqlChannelRepository
from oms.adapters.payments.registry import gateway_named
from oms.cli import app
from oms.domain.channels import ChannelConnection, ChannelKind, SyncOutcome
from oms.domain.orders import Actor
from oms.services.channel_orders import backfill_orders
from oms.services.channels import create_channel
from oms.services.intake_group import place_alone
from oms.services.ports import OrderFilter, UnitOfWorkFactory
from tests.builders import add_location, add_product, set_stock
from tests.shopify_server import API_PATH, FakeShop, shop_running

FIXTURE = Path(__file__).parent.parent / "fixtures" / "shopify" / "orders_create.json"
TOKEN = "shpat_backfill_token"
AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SINCE = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


def shop_orders(count: int) -> list[dict[str, Any]]:
    base = json.loads(FIXTURE.read_text())
    orders = []
    for n in range(count):
        order = copy.deepcopy(base)
        order["id"] = 5872311409921734519 + n
        order["name"] = f"#{1042 + n}"
        order["updated_at"] = f"2026-12-07T10:{n:02d}:00+01:00"
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
        kind=ChannelKind.SHOPIFY,
        name="alpine",
        settings={"shop_domain": "alpine.myshopify.com", "api_base_url": base_url + API_PATH},
        credentials={"access_token": TOKEN, "webhook_secret": "s"},
        at=AT,
    )


def run_backfill(
    uow_factory: UnitOfWorkFactory,
    repo: SqlChannelRepository,
    connection: ChannelConnection,
    slept: list[float],
) -> Any:
    return backfill_orders(
        channels=repo,
        uow_factory=uow_factory,
        gateways=gateway_named,
        place=partial(place_alone, uow_factory, gateway_named, None),
        connection=connection,
        store=ShopifyChannel(connection, sleep=slept.append),
        since=SINCE,
        actor=Actor("channel", "test"),
        at=AT,
    )


def channel_orders(uow_factory: UnitOfWorkFactory, tenant_id: UUID, channel: str) -> list[Any]:
    with uow_factory(readonly=True) as uow:
        return uow.orders.page(
            tenant_id, filters=OrderFilter(channel=channel), before_id=None, limit=100
        )


def test_a_backfill_pages_through_the_shop_and_waits_out_its_rate_limit(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    stock(uow_factory, tenant_id)
    repo = SqlChannelRepository(engine, FernetCipher("test-secret-key-0123456789"))
    shop = FakeShop(access_token=TOKEN, orders=shop_orders(5), answers=[200, 429])
    slept: list[float] = []
    with shop_running(shop):
        connection = connect(repo, tenant_id, shop.base_url)
        report = run_backfill(uow_factory, repo, connection, slept)
        again = run_backfill(uow_factory, repo, connection, slept)
    assert (report.created, report.unchanged, report.refused) == (5, 0, 0)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)  # exactly once
    assert slept == [2.0]  # the 429's Retry-After, honoured once
    statuses = [r.status for r in shop.requests]
    assert statuses == [200, 429, 200, 200, 200, 200, 200]
    first, *rest = shop.requests
    assert first.query["status"] == ["any"]
    assert first.query["updated_at_min"] == [SINCE.isoformat()]
    assert all(set(r.query) == {"limit", "page_info"} for r in rest[:3])  # cursor only
    assert {r.token for r in shop.requests} == {TOKEN}
    found = channel_orders(uow_factory, tenant_id, connection.order_channel)
    assert sorted(o.external_id for o in found) == [str(5872311409921734519 + n) for n in range(5)]


def test_a_shop_that_stays_down_fails_the_backfill_and_the_health(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    repo = SqlChannelRepository(engine, FernetCipher("test-secret-key-0123456789"))
    shop = FakeShop(access_token=TOKEN, orders=shop_orders(1), answers=[503] * 10)
    slept: list[float] = []
    with shop_running(shop):
        connection = connect(repo, tenant_id, shop.base_url)
        with pytest.raises(ShopifyUnavailable):
            run_backfill(uow_factory, repo, connection, slept)
    assert slept == [1.0, 2.0, 4.0, 8.0, 16.0]  # doubling, then it gives up
    (entry,) = repo.entries(tenant_id, connection.id, limit=5)
    assert entry.outcome is SyncOutcome.FAILED
    assert repo.get(tenant_id, connection.id).health.value == "failing"  # type: ignore[union-attr]


def test_the_cli_syncs_a_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_engine: Engine
) -> None:
    url = sqlite_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("OMS_DATABASE_URL", url)
    monkeypatch.setenv("OMS_SECRET_KEY", "cli-secret-key-0123456789")
    from oms.adapters.db.uow import SqlUnitOfWorkFactory
    from oms.services.tenants import create_tenant

    uow_factory = SqlUnitOfWorkFactory(sqlite_engine)
    tenant, _ = create_tenant(uow_factory=uow_factory, name="cli shop")
    stock(uow_factory, tenant.id)
    repo = SqlChannelRepository(sqlite_engine, FernetCipher("cli-secret-key-0123456789"))
    shop = FakeShop(access_token=TOKEN, orders=shop_orders(3))
    runner = CliRunner()
    with shop_running(shop):
        connection = connect(repo, tenant.id, shop.base_url)
        result = runner.invoke(
            app, ["channels", "sync", str(connection.id), "--since", "2026-12-07T00:00:00Z"]
        )
    assert result.exit_code == 0, result.output
    assert "3 placed, 0 updated, 0 unchanged, 0 refused" in result.stdout
    bad = runner.invoke(app, ["channels", "sync", "nope", "--since", "2026-12-07"])
    assert bad.exit_code == 2
