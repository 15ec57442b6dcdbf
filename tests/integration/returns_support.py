"""A shop whose orders really ship (rate cards, waves, packing, labels), for the returns
tests and the returns benchmark: a database of its own, since rate cards are deployment-wide."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from sqlalchemy import Engine

from oms.adapters.db.engine import build_engine
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.config import Environment, Settings
from oms.domain.addresses import Address
from oms.domain.orders import Order
from oms.domain.pickup_codes import PickupCodeKey
from oms.domain.pricing import DiscountCode
from oms.services import catalogue, intake
from oms.services.carriers import import_rate_cards
from oms.services.checks import find_invariant_violations
from oms.services.discounts import create_discount_code
from oms.services.orders import get_order
from oms.services.packing import PackRequest, pack
from oms.services.picking import confirm_picks, create_wave
from oms.services.shipping import ShipRequest, create_shipment
from oms.wiring import carrier_provider
from tests.builders import TESTER, add_product, order_of, set_stock, tenant_principal
from tests.databases import ENGINES, migrated_database_url
from tests.integration.test_routing import COLOGNE, RATES

SHIPPED_AT = datetime(2031, 3, 3, 9, 30, tzinfo=UTC)
"""When the test orders are placed and shipped; returns come some days later."""

PICKUP_KEY = PickupCodeKey("a test deployment's secret key")
CARRIERS = carrier_provider(Settings(database_url="sqlite://", environment=Environment.TEST))
PRICES = {"X": "10.00", "Y": "15.00", "Z": "30.00"}


def prepared_engine(settings: Settings) -> Engine:
    """An engine on ``settings``' migrated database, with the test rate cards imported."""
    engine = build_engine(settings)
    import_rate_cards(
        uow_factory=SqlUnitOfWorkFactory(engine), principal=None, text=RATES, fmt="yaml"
    )
    return engine


@pytest.fixture(scope="module", params=ENGINES)
def returns_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A database of this module's own, with the carriers' rate cards imported."""
    for url in migrated_database_url(request, request.param, "returns"):
        engine = prepared_engine(Settings(database_url=url, db_max_overflow=20))
        yield engine
        engine.dispose()


def open_shop(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, *, units: int = 100) -> UUID:
    """One warehouse (NEAR) with ``units`` of X, Y and Z."""
    catalogue.create_location(
        uow_factory=uow_factory,
        principal=tenant_principal(tenant_id),
        command=catalogue.NewLocation(
            code="NEAR",
            name="NEAR",
            latitude=50.88,
            longitude=7.06,
            address=Address(country="DE", line1="NEAR 1", city="Koeln"),
        ),
    )
    for sku, price in PRICES.items():
        add_product(uow_factory, tenant_id, sku, price=price)
        set_stock(uow_factory, tenant_id, sku, "NEAR", units)
    return tenant_id


def shipped_order(
    uow_factory: SqlUnitOfWorkFactory,
    tenant_id: UUID,
    *lines: tuple[str, int],
    codes: tuple[str, ...] = (),
    at: datetime = SHIPPED_AT,
    channel: str = "api",
    external_id: str | None = None,
    payments: tuple[intake.ChannelPayment, ...] = (),
) -> Order:
    """A paid order (of ``channel``; by ``payments`` when given), picked, packed and shipped
    whole from NEAR at ``at``."""
    command = replace(
        order_of(*lines, channel=channel, external_id=external_id),
        shipping_address=COLOGNE,
        discount_codes=codes,
    )
    if payments:
        command = replace(command, payment=None, payments=payments)
    placed = intake.place_order(
        uow_factory=uow_factory,
        gateways=gateway_named,
        tenant_id=tenant_id,
        command=command,
        actor=TESTER,
        fingerprint="",
        at=at,
    ).order
    wave = create_wave(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        location_code="NEAR",
        max_orders=50,
        max_units=None,
        actor=TESTER,
        at=at,
    )
    confirm_picks(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        wave_id=wave.wave.id,
        confirmations=None,
        actor=TESTER,
        pickup_key=PICKUP_KEY,
        at=at,
    )
    with uow_factory(readonly=True) as uow:
        (fo,) = uow.fulfilment.for_order(tenant_id, placed.id)
    scans = [line.sku for line in fo.lines for _ in range(line.to_pack)]
    packed = pack(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        fo_id=fo.id,
        request=PackRequest(scans=scans),
        actor=TESTER,
        at=at + timedelta(minutes=1),
    )
    create_shipment(
        uow_factory=uow_factory,
        gateways=gateway_named,
        carriers=CARRIERS,
        tenant_id=tenant_id,
        fo_id=fo.id,
        request=ShipRequest(package_ids=[packed.package.id]),
        actor=TESTER,
        at=at + timedelta(minutes=2),
    )
    return get_order(uow_factory=uow_factory, tenant_id=tenant_id, order_id=placed.id)


def stock_at_near(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, sku: str) -> tuple[int, int]:
    """(on hand, available) of ``sku`` at NEAR."""
    with uow_factory(readonly=True) as uow:
        (level,) = uow.inventory.levels(tenant_id, [sku])
    return level.on_hand, level.on_hand - level.reserved - level.safety_stock


def assert_books_balance(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> None:
    """``oms check``: on hand equals the ledger, reserved equals the open allocations."""
    violations = find_invariant_violations(uow_factory=uow_factory)
    assert [v for v in violations if v.tenant_id == tenant_id] == []


def add_code(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, code: DiscountCode) -> None:
    """Define a discount code, valid from before the orders are placed."""
    create_discount_code(
        uow_factory=uow_factory, tenant_id=tenant_id, code=code, at=SHIPPED_AT - timedelta(days=1)
    )
