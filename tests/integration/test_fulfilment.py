"""Fulfilment through the use cases, on SQLite and PostgreSQL: short picks, rejections and
moves, partial shipments and what they capture, store pickups, and races at the station.

Each test checks what its step touches: the stock per location (on hand, reserved), the
ledger, the order lines, the fulfilment orders, payments and the timeline; and that
``oms check`` (``find_invariant_violations``) still finds nothing wrong.

Labels are bought from the table-rate carriers, whose rate cards are deployment-wide: this
module runs on databases of its own, so no other module's orders are routed by them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from threading import Barrier
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine, inspect, select

from oms.adapters.db.engine import build_engine
from oms.adapters.db.migrate import upgrade
from oms.adapters.db.tables import metadata, outbox
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.api.event_data import render_event_data
from oms.config import Environment, Settings
from oms.domain.addresses import Address
from oms.domain.catalogue import LocationKind
from oms.domain.errors import Gone, IllegalTransition, InvalidRequest, LockedOut, NotFound
from oms.domain.fulfilment import FulfillmentOrder, FulfillmentOrderStatus
from oms.domain.holds import HoldReason
from oms.domain.inventory import Movement, MovementKind
from oms.domain.orders import Order
from oms.domain.payments import PaymentKind, PaymentOutcome
from oms.domain.pickup_codes import PickupCodeKey
from oms.domain.pricing import DiscountCode, DiscountKind
from oms.domain.tracking import ShipmentStatus, TrackingEvent
from oms.services import catalogue, intake
from oms.services.carriers import import_rate_cards
from oms.services.checks import find_invariant_violations
from oms.services.discounts import create_discount_code
from oms.services.event_delivery import fan_out
from oms.services.fulfilment_changes import (
    expire_uncollected_pickups,
    move_fulfillment_order,
    reject_fulfillment_order,
)
from oms.services.holds import place_hold, release_hold
from oms.services.orders import cancel_order, get_order
from oms.services.packing import PackRequest, pack, unpack
from oms.services.picking import PickConfirmation, WaveResult, confirm_picks, create_wave
from oms.services.pickup import collect_pickup, pickup_code_for_notification
from oms.services.policies import update_policies
from oms.services.rerouting import reroute_order
from oms.services.shipping import ShipRequest, create_shipment, shipments_of_order, track_parcel
from oms.services.tenants import create_tenant
from oms.services.timers import run_timers
from oms.services.tracking import CarrierEvent, record_carrier_events
from oms.wiring import carrier_provider
from tests.builders import TESTER, add_product, order_of, place, set_stock, tenant_principal
from tests.databases import ENGINES, migrated_database_url, scratch_database_url
from tests.integration.test_routing import COLOGNE, RATES

WAREHOUSES = {"NEAR": (50.88, 7.06), "BONN": (50.73, 7.10), "FAR": (48.14, 11.58)}
"""Seen from Cologne: NEAR is the cheapest to ship from, then BONN, then FAR."""

T_READY = datetime(2031, 3, 3, 9, 30, tzinfo=UTC)
"""A fixed moment for what a test times itself (a Monday, not that it matters)."""

PICKUP_KEY = PickupCodeKey("a test deployment's secret key")

CARRIERS = carrier_provider(Settings(database_url="sqlite://", environment=Environment.TEST))


def _prepared(settings: Settings) -> Engine:
    """An engine on ``settings``' migrated database, with the test rate cards imported."""
    engine = build_engine(settings)
    import_rate_cards(
        uow_factory=SqlUnitOfWorkFactory(engine), principal=None, text=RATES, fmt="yaml"
    )
    return engine


@pytest.fixture(scope="module", params=ENGINES)
def fulfilment_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A database of this module's own, with the carriers' rate cards imported."""
    for url in migrated_database_url(request, request.param, "fulfilment"):
        engine = _prepared(Settings(database_url=url, db_max_overflow=20))
        yield engine
        engine.dispose()


@pytest.fixture
def uow_factory(fulfilment_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(fulfilment_engine)


@pytest.fixture
def shop(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> UUID:
    """A tenant with three warehouses, a store for pickups, and products X, Y and Z."""
    return _open_shop(uow_factory, tenant_id)


def _open_shop(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> UUID:
    for code, (lat, lon) in WAREHOUSES.items():
        catalogue.create_location(
            uow_factory=uow_factory,
            principal=tenant_principal(tenant_id),
            command=catalogue.NewLocation(
                code=code,
                name=code,
                latitude=lat,
                longitude=lon,
                address=Address(country="DE", line1=f"{code} 1", city="Koeln"),
            ),
        )
    catalogue.create_location(
        uow_factory=uow_factory,
        principal=tenant_principal(tenant_id),
        command=catalogue.NewLocation(
            code="STORE",
            name="Store",
            kind=LocationKind.STORE,
            latitude=50.94,
            longitude=6.95,
            can_ship=False,
            can_pickup=True,
        ),
    )
    add_product(uow_factory, tenant_id, "X", price="10.00")
    add_product(uow_factory, tenant_id, "Y", price="15.00")
    add_product(uow_factory, tenant_id, "Z", price="30.00")
    return tenant_id


# --- readers -------------------------------------------------------------------------------


def _stock(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, sku: str) -> dict[str, Any]:
    """Location code -> (on_hand, reserved) of one SKU."""
    with uow_factory(readonly=True) as uow:
        codes = {loc.id: loc.code for loc in uow.locations.visible_to(tenant_id)}
        levels = uow.inventory.levels(tenant_id, [sku])
    return {codes[lv.location_id]: (lv.on_hand, lv.reserved) for lv in levels}


def _ledger(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, sku: str, code: str
) -> list[Movement]:
    with uow_factory(readonly=True) as uow:
        location = next(loc for loc in uow.locations.visible_to(tenant_id) if loc.code == code)
        return uow.inventory.movements(
            tenant_id, sku, location_id=location.id, after_id=None, limit=100
        )


def _fos(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, order_id: UUID
) -> list[FulfillmentOrder]:
    with uow_factory(readonly=True) as uow:
        return uow.fulfilment.for_order(tenant_id, order_id)


def _fo_at(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, order_id: UUID, code: str
) -> FulfillmentOrder:
    (found,) = [
        fo
        for fo in _fos(uow_factory, tenant_id, order_id)
        if fo.location_code == code
        and fo.status not in {FulfillmentOrderStatus.CANCELLED, FulfillmentOrderStatus.REJECTED}
    ]
    return found


def _only_fo(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, order_id: UUID
) -> FulfillmentOrder:
    (only,) = _fos(uow_factory, tenant_id, order_id)
    return only


def _order(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, order_id: UUID) -> Order:
    return get_order(uow_factory=uow_factory, tenant_id=tenant_id, order_id=order_id)


def _line(order: Order, sku: str) -> tuple[int, int, int, int, int]:
    """(quantity, allocated, backordered, shipped, cancelled) of the order's line of ``sku``."""
    line = next(ln for ln in order.lines if ln.sku == sku)
    return line.quantity, line.allocated, line.backordered, line.shipped, line.cancelled


def _events(order: Order, event_type: str) -> list[dict[str, Any]]:
    return [e.data for e in order.events if e.type == event_type]


def _open_allocations(order: Order) -> dict[str, int]:
    """Location code -> units reserved for the order there."""
    held: Counter[str] = Counter()
    for allocation in order.allocations:
        held[allocation.location_code or "?"] += allocation.open
    return {code: units for code, units in held.items() if units}


def _captures(order: Order) -> list[Decimal]:
    return [
        p.amount
        for p in order.payments
        if p.kind is PaymentKind.CAPTURE and p.outcome is PaymentOutcome.SUCCEEDED
    ]


def _assert_clean(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> None:
    """``oms check``: on hand equals the ledger, reserved equals the open allocations."""
    violations = find_invariant_violations(uow_factory=uow_factory)
    assert [v for v in violations if v.tenant_id == tenant_id] == []


# --- use cases, as a station would call them ------------------------------------------------


def _place(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, *lines: tuple[str, int], **fields: Any
) -> Order:
    command = replace(order_of(*lines), **{"shipping_address": COLOGNE, **fields})
    return place(uow_factory, tenant_id, command).order


def _wave(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, code: str, max_orders: int = 50
) -> WaveResult:
    return create_wave(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        location_code=code,
        max_orders=max_orders,
        max_units=None,
        actor=TESTER,
    )


def _pick(
    uow_factory: SqlUnitOfWorkFactory,
    tenant_id: UUID,
    code: str,
    found: list[PickConfirmation] | None = None,
    at: datetime | None = None,
) -> WaveResult:
    """A wave at ``code`` with everything open there, confirmed as ``found``."""
    wave = _wave(uow_factory, tenant_id, code)
    return confirm_picks(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        wave_id=wave.wave.id,
        confirmations=found,
        actor=TESTER,
        pickup_key=PICKUP_KEY,
        at=at,
    )


def _pack(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, fo_id: UUID, *scans: str) -> UUID:
    result = pack(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        fo_id=fo_id,
        request=PackRequest(scans=list(scans)),
        actor=TESTER,
    )
    return result.package.id


def _ship(
    uow_factory: SqlUnitOfWorkFactory,
    tenant_id: UUID,
    fo_id: UUID,
    package_ids: list[UUID] | None = None,
) -> Any:
    return create_shipment(
        uow_factory=uow_factory,
        gateways=gateway_named,
        carriers=CARRIERS,
        tenant_id=tenant_id,
        fo_id=fo_id,
        request=ShipRequest(package_ids=package_ids),
        actor=TESTER,
    ).resource


# --- 1. short picks ---------------------------------------------------------------------------


def test_a_short_pick_writes_off_the_shortfall_and_reroutes_it_to_another_location_with_stock(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "X", "NEAR", 3)
    set_stock(uow_factory, shop, "X", "BONN", 5)
    order = _place(uow_factory, shop, ("X", 3))
    assert _open_allocations(order) == {"NEAR": 3}
    near = _fo_at(uow_factory, shop, order.id, "NEAR")

    wave = _pick(uow_factory, shop, "NEAR", [PickConfirmation(near.id, "X", 1)])

    # The two units nobody found are written off where they were missing...
    assert _stock(uow_factory, shop, "X") == {"NEAR": (1, 1), "BONN": (5, 2)}
    write_off = _ledger(uow_factory, shop, "X", "NEAR")[-1]
    assert (write_off.kind, write_off.quantity, write_off.on_hand_after) == (
        MovementKind.ADJUSTMENT,
        -2,
        1,
    )
    assert write_off.reason is not None
    assert str(wave.wave.id) in write_off.reason
    assert write_off.reference == str(near.id)
    # ...and reserved again at BONN, under a fulfilment order of its own.
    assert wave.shorts == [{"fulfillment_order_id": near.id, "lines": [{"sku": "X", "short": 2}]}]
    near = _fo_at(uow_factory, shop, order.id, "NEAR")
    (near_line,) = near.lines
    assert (near.status, near_line.picked, near_line.short, near_line.cancelled) == (
        FulfillmentOrderStatus.IN_PROGRESS,
        1,
        2,
        2,
    )
    bonn = _fo_at(uow_factory, shop, order.id, "BONN")
    assert (bonn.status, [(ln.sku, ln.quantity) for ln in bonn.lines]) == (
        FulfillmentOrderStatus.OPEN,
        [("X", 2)],
    )
    order = _order(uow_factory, shop, order.id)
    assert _line(order, "X") == (3, 3, 0, 0, 0)
    assert _open_allocations(order) == {"NEAR": 1, "BONN": 2}
    assert order.open_holds == []
    (short,) = _events(order, "fulfillment_order.short_picked")
    assert (short["short"], short["rerouted_to"]) == ([{"sku": "X", "units": 2}], ["BONN"])
    assert [e["location"] for e in _events(order, "fulfillment_order.created")] == [
        "NEAR",
        "BONN",
    ]
    _assert_clean(uow_factory, shop)


def test_short_picked_units_are_not_routed_back_to_the_location_that_could_not_find_them(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    # NEAR's books still show two spare units after the write-off, and NEAR is the cheapest.
    set_stock(uow_factory, shop, "X", "NEAR", 5)
    set_stock(uow_factory, shop, "X", "BONN", 5)
    order = _place(uow_factory, shop, ("X", 3))
    near = _fo_at(uow_factory, shop, order.id, "NEAR")

    _pick(uow_factory, shop, "NEAR", [PickConfirmation(near.id, "X", 1)])

    assert _stock(uow_factory, shop, "X") == {"NEAR": (3, 1), "BONN": (5, 2)}
    order = _order(uow_factory, shop, order.id)
    assert _open_allocations(order) == {"NEAR": 1, "BONN": 2}
    assert [fo.location_code for fo in _fos(uow_factory, shop, order.id)] == ["NEAR", "BONN"]
    _assert_clean(uow_factory, shop)


def test_a_short_pick_with_no_stock_elsewhere_is_backordered(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    # A split order: X from NEAR (which has only what was ordered), Y from BONN.
    set_stock(uow_factory, shop, "X", "NEAR", 3)
    set_stock(uow_factory, shop, "Y", "BONN", 5)
    order = _place(uow_factory, shop, ("X", 3), ("Y", 1))
    assert _open_allocations(order) == {"NEAR": 3, "BONN": 1}
    near = _fo_at(uow_factory, shop, order.id, "NEAR")
    bonn = _fo_at(uow_factory, shop, order.id, "BONN")

    _pick(uow_factory, shop, "NEAR", [PickConfirmation(near.id, "X", 1)])

    assert _stock(uow_factory, shop, "X") == {"NEAR": (1, 1)}
    assert _stock(uow_factory, shop, "Y") == {"BONN": (5, 1)}
    assert [(m.kind, m.quantity) for m in _ledger(uow_factory, shop, "X", "NEAR")][-1] == (
        MovementKind.ADJUSTMENT,
        -2,
    )
    order = _order(uow_factory, shop, order.id)
    assert (_line(order, "X"), _line(order, "Y")) == ((3, 1, 2, 0, 0), (1, 1, 0, 0, 0))
    assert [h.reason for h in order.open_holds] == [HoldReason.BACKORDERED]
    # Both stay where they are, held while the order waits for stock.
    fos = {fo.id: fo for fo in _fos(uow_factory, shop, order.id)}
    assert sorted(fos) == sorted([near.id, bonn.id])
    assert (fos[near.id].status, fos[near.id].lines[0].picked) == (
        FulfillmentOrderStatus.ON_HOLD,
        1,
    )
    assert fos[bonn.id].status is FulfillmentOrderStatus.ON_HOLD
    # BONN holds Y, not the short X: the timeline must not say X went there.
    (short,) = _events(order, "fulfillment_order.short_picked")
    assert short["rerouted_to"] == []
    _assert_clean(uow_factory, shop)


def test_a_short_pick_of_a_store_pickup_is_routed_again_only_to_its_store(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "Z", "STORE", 5)
    set_stock(uow_factory, shop, "Z", "NEAR", 5)
    order = _place(uow_factory, shop, ("Z", 2), pickup_location="STORE", shipping_address=None)
    store = _fo_at(uow_factory, shop, order.id, "STORE")

    _pick(uow_factory, shop, "STORE", [PickConfirmation(store.id, "Z", 1)])

    # The customer comes to the store: the missing unit is looked for there again, never
    # shipped from a warehouse to an order without a shipping address.
    assert _stock(uow_factory, shop, "Z") == {"STORE": (4, 2), "NEAR": (5, 0)}
    fos = _fos(uow_factory, shop, order.id)
    assert [(fo.location_code, fo.kind.value) for fo in fos] == [
        ("STORE", "pickup"),
        ("STORE", "pickup"),
    ]
    order = _order(uow_factory, shop, order.id)
    assert _line(order, "Z") == (2, 2, 0, 0, 0)
    _assert_clean(uow_factory, shop)


# --- 2. rejection -----------------------------------------------------------------------------


def test_a_rejected_fulfilment_order_is_rerouted_and_never_back_to_the_rejecting_location(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "X", "NEAR", 5)
    set_stock(uow_factory, shop, "X", "BONN", 5)
    order = _place(uow_factory, shop, ("X", 2))
    near = _fo_at(uow_factory, shop, order.id, "NEAR")
    ledger_before = _ledger(uow_factory, shop, "X", "NEAR")

    rejected = reject_fulfillment_order(
        uow_factory=uow_factory, tenant_id=shop, fo_id=near.id, reason="flooded", actor=TESTER
    )

    assert (rejected.fo.status, rejected.fo.rejected_reason) == (
        FulfillmentOrderStatus.REJECTED,
        "flooded",
    )
    # The reservation moved; nothing left any shelf.
    assert _stock(uow_factory, shop, "X") == {"NEAR": (5, 0), "BONN": (5, 2)}
    assert _ledger(uow_factory, shop, "X", "NEAR") == ledger_before
    bonn = _fo_at(uow_factory, shop, order.id, "BONN")
    assert [(ln.sku, ln.quantity) for ln in bonn.lines] == [("X", 2)]
    order = _order(uow_factory, shop, order.id)
    assert _line(order, "X") == (2, 2, 0, 0, 0)
    assert _open_allocations(order) == {"BONN": 2}
    (event,) = [e for e in order.events if e.type == "fulfillment_order.rejected"]
    assert (event.reason, event.data["location"], event.data["rerouted_to"]) == (
        "flooded",
        "NEAR",
        ["BONN"],
    )
    _assert_clean(uow_factory, shop)


def test_a_rejected_fulfilment_order_with_no_stock_elsewhere_is_backordered_not_returned(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "X", "NEAR", 5)
    set_stock(uow_factory, shop, "Y", "BONN", 5)
    order = _place(uow_factory, shop, ("X", 2), ("Y", 1))
    near = _fo_at(uow_factory, shop, order.id, "NEAR")

    reject_fulfillment_order(
        uow_factory=uow_factory, tenant_id=shop, fo_id=near.id, reason="closed", actor=TESTER
    )

    assert _stock(uow_factory, shop, "X") == {"NEAR": (5, 0)}
    assert _stock(uow_factory, shop, "Y") == {"BONN": (5, 1)}
    order = _order(uow_factory, shop, order.id)
    assert (_line(order, "X"), _line(order, "Y")) == ((2, 0, 2, 0, 0), (1, 1, 0, 0, 0))
    assert _open_allocations(order) == {"BONN": 1}
    assert [h.reason for h in order.open_holds] == [HoldReason.BACKORDERED]
    statuses = {fo.location_code: fo.status for fo in _fos(uow_factory, shop, order.id)}
    assert statuses == {
        "NEAR": FulfillmentOrderStatus.REJECTED,
        "BONN": FulfillmentOrderStatus.ON_HOLD,
    }
    (rejected,) = _events(order, "fulfillment_order.rejected")
    assert rejected["rerouted_to"] == []  # BONN holds Y, not the rejected X
    _assert_clean(uow_factory, shop)


def test_a_rejected_store_pickup_is_never_turned_into_a_shipment_without_an_address(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "Z", "STORE", 5)
    set_stock(uow_factory, shop, "Z", "NEAR", 5)
    order = _place(uow_factory, shop, ("Z", 1), pickup_location="STORE", shipping_address=None)
    store = _fo_at(uow_factory, shop, order.id, "STORE")

    reject_fulfillment_order(
        uow_factory=uow_factory, tenant_id=shop, fo_id=store.id, reason="no staff", actor=TESTER
    )

    fos = _fos(uow_factory, shop, order.id)
    assert [fo.location_code for fo in fos if fo.kind.value == "ship"] == []
    assert _stock(uow_factory, shop, "Z")["NEAR"] == (5, 0)
    # It waits, backordered and on hold, for the merchant and the customer to agree.
    waiting = _order(uow_factory, shop, order.id)
    assert [line.backordered for line in waiting.lines] == [1]
    assert [h.reason for h in waiting.open_holds] == [HoldReason.BACKORDERED]


def test_rejections_add_up_so_the_work_never_returns_to_a_location_that_refused_it(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "X", "NEAR", 5)
    set_stock(uow_factory, shop, "X", "BONN", 5)
    order = _place(uow_factory, shop, ("X", 1))
    near = _fo_at(uow_factory, shop, order.id, "NEAR")
    reject_fulfillment_order(
        uow_factory=uow_factory, tenant_id=shop, fo_id=near.id, reason="flooded", actor=TESTER
    )
    bonn = _fo_at(uow_factory, shop, order.id, "BONN")

    reject_fulfillment_order(
        uow_factory=uow_factory, tenant_id=shop, fo_id=bonn.id, reason="no staff", actor=TESTER
    )

    again = _order(uow_factory, shop, order.id)
    assert _open_allocations(again) == {}
    assert [line.backordered for line in again.lines] == [1]
    assert _stock(uow_factory, shop, "X") == {"NEAR": (5, 0), "BONN": (5, 0)}


@pytest.mark.parametrize("state", ["shipped", "closed"])
def test_rejecting_a_fulfilment_order_that_has_left_is_refused(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID, state: str
) -> None:
    set_stock(uow_factory, shop, "X", "NEAR", 5)
    set_stock(uow_factory, shop, "X", "BONN", 5)
    order = _place(uow_factory, shop, ("X", 1))
    near = _fo_at(uow_factory, shop, order.id, "NEAR")
    _pick(uow_factory, shop, "NEAR")
    _pack(uow_factory, shop, near.id, "X")
    shipment = _ship(uow_factory, shop, near.id)
    if state == "closed":
        delivered = TrackingEvent("d-1", ShipmentStatus.DELIVERED, T_READY)
        record_carrier_events(
            uow_factory=uow_factory,
            carrier=shipment.carrier,
            events=[CarrierEvent(shipment.tracking_number, delivered)],
        )
    before = _order(uow_factory, shop, order.id)
    assert _fo_at(uow_factory, shop, order.id, "NEAR").status.value == state

    with pytest.raises(IllegalTransition):
        reject_fulfillment_order(
            uow_factory=uow_factory, tenant_id=shop, fo_id=near.id, reason="late", actor=TESTER
        )

    assert _stock(uow_factory, shop, "X") == {"NEAR": (4, 0), "BONN": (5, 0)}
    after = _order(uow_factory, shop, order.id)
    assert (len(after.events), _line(after, "X")) == (len(before.events), (1, 0, 0, 1, 0))
    assert _fo_at(uow_factory, shop, order.id, "NEAR").status.value == state
    _assert_clean(uow_factory, shop)


# --- 3. moving ---------------------------------------------------------------------------------


def test_moving_a_fulfilment_order_takes_its_reservations_to_the_named_location(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    for code in WAREHOUSES:
        set_stock(uow_factory, shop, "X", code, 5)
    order = _place(uow_factory, shop, ("X", 2))
    near = _fo_at(uow_factory, shop, order.id, "NEAR")

    # FAR is the dearest to ship from; the operator's choice wins over the router's.
    move_fulfillment_order(
        uow_factory=uow_factory, tenant_id=shop, fo_id=near.id, to_location="FAR", actor=TESTER
    )

    assert _stock(uow_factory, shop, "X") == {"NEAR": (5, 0), "BONN": (5, 0), "FAR": (5, 2)}
    statuses = {fo.location_code: fo.status for fo in _fos(uow_factory, shop, order.id)}
    assert statuses == {
        "NEAR": FulfillmentOrderStatus.CANCELLED,
        "FAR": FulfillmentOrderStatus.OPEN,
    }
    order = _order(uow_factory, shop, order.id)
    assert _line(order, "X") == (2, 2, 0, 0, 0)
    assert _open_allocations(order) == {"FAR": 2}
    (moved,) = _events(order, "fulfillment_order.moved")
    assert (moved["location"], moved["to_location"]) == ("NEAR", "FAR")
    _assert_clean(uow_factory, shop)


def test_moving_to_a_location_without_enough_stock_is_refused_and_changes_nothing(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "X", "NEAR", 5)
    set_stock(uow_factory, shop, "X", "FAR", 1)
    order = _place(uow_factory, shop, ("X", 2))
    near = _fo_at(uow_factory, shop, order.id, "NEAR")
    stock_before = _stock(uow_factory, shop, "X")
    fos_before = _fos(uow_factory, shop, order.id)
    order_before = _order(uow_factory, shop, order.id)

    with pytest.raises(IllegalTransition, match="FAR"):
        move_fulfillment_order(
            uow_factory=uow_factory, tenant_id=shop, fo_id=near.id, to_location="FAR", actor=TESTER
        )

    assert _stock(uow_factory, shop, "X") == stock_before == {"NEAR": (5, 2), "FAR": (1, 0)}
    assert _fos(uow_factory, shop, order.id) == fos_before
    order_after = _order(uow_factory, shop, order.id)
    assert order_after.allocations == order_before.allocations
    assert order_after.lines == order_before.lines
    assert order_after.events == order_before.events
    assert order_after.version == order_before.version
    _assert_clean(uow_factory, shop)


# --- 5. partial shipments ------------------------------------------------------------------


def test_each_partial_shipment_captures_exactly_the_value_of_what_left(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "X", "NEAR", 5)
    set_stock(uow_factory, shop, "Y", "NEAR", 5)
    create_discount_code(
        uow_factory=uow_factory,
        tenant_id=shop,
        code=DiscountCode(
            id=UUID(int=0),
            code="FIVE",
            kind=DiscountKind.FIXED_AMOUNT,
            value=Decimal("5.00"),
            currency="EUR",
        ),
    )
    order = _place(
        uow_factory,
        shop,
        ("X", 3),
        ("Y", 1),
        discount_codes=("FIVE",),
        shipping_price=Decimal("4.95"),
        payment=intake.ChannelPayment(gateway="test", token="tok_approve"),
    )
    # X: 3 x 10.00 = 30.00, Y: 15.00; subtotal 45.00. The 5.00 is spread by subtotal in
    # cents: X 500 * 3000 / 4500 = 333 r 1500, Y 500 * 1500 / 4500 = 166 r 3000; the cent
    # left over goes to the larger remainder (Y): X 3.33, Y 1.67.
    x_line, y_line = Decimal("30.00") - Decimal("3.33"), Decimal("15.00") - Decimal("1.67")
    total = x_line + y_line + Decimal("4.95")
    assert (order.total, total) == (Decimal("44.95"), Decimal("44.95"))
    assert _captures(order) == []
    fo = _fo_at(uow_factory, shop, order.id, "NEAR")
    _pick(uow_factory, shop, "NEAR")
    first = _pack(uow_factory, shop, fo.id, "X", "X")
    second = _pack(uow_factory, shop, fo.id, "X", "Y")

    _ship(uow_factory, shop, fo.id, [first])

    # Two of three X: 26.67 * 2 / 3 = 17.78 (rounded half up), plus all the shipping.
    first_capture = (x_line * 2 / 3).quantize(Decimal("0.01")) + Decimal("4.95")
    assert first_capture == Decimal("22.73")
    order = _order(uow_factory, shop, order.id)
    assert _captures(order) == [first_capture]
    assert (order.fulfillment_status.value, order.payment_status.value) == (
        "partially_fulfilled",
        "partially_paid",
    )
    assert _fo_at(uow_factory, shop, order.id, "NEAR").status is (
        FulfillmentOrderStatus.PARTIALLY_SHIPPED
    )
    assert (_line(order, "X"), _line(order, "Y")) == ((3, 1, 0, 2, 0), (1, 1, 0, 0, 0))
    assert _stock(uow_factory, shop, "X") == {"NEAR": (3, 1)}
    assert _stock(uow_factory, shop, "Y") == {"NEAR": (5, 1)}

    _ship(uow_factory, shop, fo.id, [second])

    order = _order(uow_factory, shop, order.id)
    assert _captures(order) == [first_capture, total - first_capture]
    assert sum(_captures(order), Decimal(0)) == order.total
    assert (order.fulfillment_status.value, order.payment_status.value) == ("fulfilled", "paid")
    assert _fo_at(uow_factory, shop, order.id, "NEAR").status is FulfillmentOrderStatus.SHIPPED
    assert (_line(order, "X"), _line(order, "Y")) == ((3, 0, 0, 3, 0), (1, 0, 0, 1, 0))
    assert _stock(uow_factory, shop, "X") == {"NEAR": (2, 0)}
    assert _stock(uow_factory, shop, "Y") == {"NEAR": (4, 0)}
    shipped = [
        (m.kind, m.quantity, m.on_hand_after) for m in _ledger(uow_factory, shop, "X", "NEAR")
    ]
    assert shipped[-2:] == [(MovementKind.SHIPMENT, -2, 3), (MovementKind.SHIPMENT, -1, 2)]
    assert len(_events(order, "shipment.created")) == 2
    _assert_clean(uow_factory, shop)


def test_a_cancelled_order_whose_parcel_was_packed_owes_nothing_and_its_payment_is_owed_back(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "X", "NEAR", 5)
    order = _place(uow_factory, shop, ("X", 2), shipping_price=Decimal("4.95"))
    assert (order.total, order.payment_status.value) == (Decimal("24.95"), "paid")
    fo = _fo_at(uow_factory, shop, order.id, "NEAR")
    _pick(uow_factory, shop, "NEAR")
    _pack(uow_factory, shop, fo.id, "X", "X")

    cancelled = cancel_order(
        uow_factory=uow_factory,
        gateways=gateway_named,
        tenant_id=shop,
        order_id=order.id,
        actor=TESTER,
        reason="customer changed their mind",
    )

    # Shipping goes with the goods: nothing left, so no shipping either (docs/payments.md).
    assert (cancelled.status.value, cancelled.total) == ("cancelled", Decimal("0.00"))
    assert cancelled.totals is not None
    assert cancelled.totals.shipping == Decimal("0.00")
    assert [(h.reason, h.note) for h in cancelled.open_holds] == [
        (HoldReason.REFUND_DUE, "24.95 EUR captured beyond the total")
    ]
    assert _only_fo(uow_factory, shop, order.id).status is FulfillmentOrderStatus.CANCELLED
    assert _stock(uow_factory, shop, "X") == {"NEAR": (5, 0)}
    _assert_clean(uow_factory, shop)


def test_unpacking_a_box_gives_its_units_back_to_packing_and_a_shipped_box_stays_whole(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "X", "NEAR", 3)
    order = _place(uow_factory, shop, ("X", 3))
    fo = _fo_at(uow_factory, shop, order.id, "NEAR")
    _pick(uow_factory, shop, "NEAR")
    wrong = _pack(uow_factory, shop, fo.id, "X", "X")
    kept = _pack(uow_factory, shop, fo.id, "X")
    _ship(uow_factory, shop, fo.id, [kept])

    after = unpack(
        uow_factory=uow_factory, tenant_id=shop, fo_id=fo.id, package_id=wrong, actor=TESTER
    )

    assert [(line.picked, line.packed, line.shipped) for line in after.lines] == [(3, 1, 1)]
    assert after.lines[0].to_pack == 2
    with pytest.raises(IllegalTransition):
        unpack(uow_factory=uow_factory, tenant_id=shop, fo_id=fo.id, package_id=kept, actor=TESTER)
    with pytest.raises(NotFound):
        unpack(uow_factory=uow_factory, tenant_id=shop, fo_id=fo.id, package_id=wrong, actor=TESTER)
    _pack(uow_factory, shop, fo.id, "X", "X")
    _ship(uow_factory, shop, fo.id)
    assert _order(uow_factory, shop, order.id).fulfillment_status.value == "fulfilled"
    _assert_clean(uow_factory, shop)


# --- 7. store pickup ------------------------------------------------------------------------


def _pickup_order(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> Order:
    return _place(uow_factory, tenant_id, ("Z", 1), pickup_location="STORE", shipping_address=None)


def test_a_pickup_code_must_match_and_works_once(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "Z", "STORE", 2)
    order = _pickup_order(uow_factory, shop)
    store = _fo_at(uow_factory, shop, order.id, "STORE")
    code = _pick(uow_factory, shop, "STORE").pickup_codes[store.id]
    assert _fo_at(uow_factory, shop, order.id, "STORE").status is (
        FulfillmentOrderStatus.READY_FOR_PICKUP
    )

    def collect(given: str) -> Any:
        return collect_pickup(
            uow_factory=uow_factory,
            gateways=gateway_named,
            pickup_key=PICKUP_KEY,
            tenant_id=shop,
            fo_id=store.id,
            code=given,
            actor=TESTER,
        )

    with pytest.raises(InvalidRequest):
        collect("000000" if code != "000000" else "111111")
    assert _stock(uow_factory, shop, "Z") == {"STORE": (2, 1)}

    assert collect(f" {code} ").fo.status is FulfillmentOrderStatus.CLOSED

    with pytest.raises(IllegalTransition):
        collect(code)
    assert _stock(uow_factory, shop, "Z") == {"STORE": (1, 0)}
    handed = _ledger(uow_factory, shop, "Z", "STORE")[-1]
    assert (handed.kind, handed.quantity, handed.reason) == (
        MovementKind.SHIPMENT,
        -1,
        "collected in store",
    )
    order = _order(uow_factory, shop, order.id)
    assert (order.status.value, order.fulfillment_status.value) == ("closed", "delivered")
    assert len(_events(order, "fulfillment_order.picked_up")) == 1
    _assert_clean(uow_factory, shop)


def _stored_text(engine: Engine, tenant_id: UUID) -> list[tuple[str, str, str]]:
    """Every value stored for the tenant (and in tables shared by tenants), as text:
    (table, column, value). Every table the database holds is read."""
    present = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert present == set(metadata.tables)
    found: list[tuple[str, str, str]] = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            query = select(table)
            if "tenant_id" in table.c:
                query = query.where(table.c.tenant_id == tenant_id)
            for row in conn.execute(query):
                for column, value in row._mapping.items():
                    if value is not None:
                        found.append((table.name, str(column), json.dumps(value, default=str)))
    return found


def test_a_pickup_code_is_stored_nowhere_in_clear(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID, fulfilment_engine: Engine
) -> None:
    set_stock(uow_factory, shop, "Z", "STORE", 2)
    order = _pickup_order(uow_factory, shop)
    store = _fo_at(uow_factory, shop, order.id, "STORE")
    code = _pick(uow_factory, shop, "STORE", at=T_READY).pickup_codes[store.id]
    # Fanned out, as `oms worker` does: the events' data (every webhook payload's) is stored.
    while fan_out(
        uow_factory=uow_factory,
        sinks=[],
        render=render_event_data,
        clock=lambda: T_READY,
        limit=500,
    ):
        pass
    # The outbox, the timeline, the fulfilment order, every table: the code as a number of
    # its own (not inside a longer run of digits) appears nowhere.
    in_clear = re.compile(rf"(?<!\d){code}(?!\d)")
    stored = _stored_text(fulfilment_engine, shop)
    assert any(t == "outbox" and c == "event_type" and "pickup.ready" in v for t, c, v in stored)
    assert any(table == "outbox" for table, _, _ in stored)
    assert [(t, c) for t, c, text in stored if in_clear.search(text)] == []
    (ready,) = _outbox(fulfilment_engine, shop, "notification.pickup_ready")
    assert ready["fulfillment_order_id"] == str(store.id)

    # The notification step derives the code from the key, while the pickup can use it.
    def notified(now: datetime, key: PickupCodeKey = PICKUP_KEY) -> str:
        return pickup_code_for_notification(
            uow_factory=uow_factory, pickup_key=key, tenant_id=shop, fo_id=store.id, now=now
        )

    assert notified(T_READY + timedelta(minutes=1)) == code
    with pytest.raises(Gone):
        notified(datetime.fromisoformat(ready["expires_at"]))
    with pytest.raises(Gone):  # another deployment key: no code, not a wrong one
        notified(T_READY, PickupCodeKey("another deployment's secret key"))
    collect_pickup(
        uow_factory=uow_factory,
        gateways=gateway_named,
        pickup_key=PICKUP_KEY,
        tenant_id=shop,
        fo_id=store.id,
        code=code,
        actor=TESTER,
        at=T_READY + timedelta(hours=1),
    )
    with pytest.raises(Gone):
        notified(T_READY + timedelta(hours=2))


def test_five_wrong_pickup_codes_lock_the_pickup_each_time_longer_and_then_it_opens_again(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "Z", "STORE", 2)
    order = _pickup_order(uow_factory, shop)
    store = _fo_at(uow_factory, shop, order.id, "STORE")
    code = _pick(uow_factory, shop, "STORE", at=T_READY).pickup_codes[store.id]
    wrong = "000000" if code != "000000" else "111111"

    def collect(given: str, at: datetime) -> Any:
        return collect_pickup(
            uow_factory=uow_factory,
            gateways=gateway_named,
            pickup_key=PICKUP_KEY,
            tenant_id=shop,
            fo_id=store.id,
            code=given,
            actor=TESTER,
            at=at,
        )

    def four_wrong_then_locked(at: datetime) -> LockedOut:
        for left in (4, 3, 2, 1):
            with pytest.raises(InvalidRequest) as refused:
                collect(wrong, at)
            assert refused.value.extra["attempts_left"] == left
        with pytest.raises(LockedOut) as locked:
            collect(wrong, at)
        return locked.value

    first = T_READY + timedelta(minutes=5)
    locked = four_wrong_then_locked(first)
    assert locked.locked_until == first + timedelta(minutes=15)
    # While it is locked even the right code is refused, unread, and nothing leaves.
    with pytest.raises(LockedOut) as still:
        collect(code, first + timedelta(minutes=14, seconds=50))
    assert still.value.extra["retry_after"] == 10
    assert _stock(uow_factory, shop, "Z") == {"STORE": (2, 1)}

    # Five more wrong codes after the lock: locked twice as long.
    second = first + timedelta(minutes=15)
    assert four_wrong_then_locked(second).locked_until == second + timedelta(minutes=30)
    assert collect(code, second + timedelta(minutes=30)).fo.status is (
        FulfillmentOrderStatus.CLOSED
    )
    timeline = _order(uow_factory, shop, order.id)
    assert [
        (e["locked_until"], e["wrong_codes"])
        for e in _events(timeline, "fulfillment_order.pickup_locked")
    ] == [
        ((first + timedelta(minutes=15)).isoformat(), 5),
        ((second + timedelta(minutes=30)).isoformat(), 10),
    ]
    _assert_clean(uow_factory, shop)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_upgrading_takes_the_codes_earlier_versions_left_in_the_outbox_out(
    backend: str, request: pytest.FixtureRequest
) -> None:
    for url in scratch_database_url(request, backend, "pickup_upgrade"):
        engine = build_engine(Settings(database_url=url))
        try:
            upgrade(engine, "0005")
            tenant_id, message_id = UUID(int=7), UUID(int=8)
            payload = {"fulfillment_order_id": "f", "pickup_code": "134425", "expires_at": "x"}
            with engine.begin() as conn:
                conn.execute(
                    outbox.insert().values(
                        tenant_id=tenant_id,
                        id=message_id,
                        topic="notification.pickup_ready",
                        aggregate_id=message_id,
                        payload=payload,
                        created_at=T_READY,
                    )
                )

            upgrade(engine)

            assert _outbox(engine, tenant_id, "notification.pickup_ready") == [
                {"fulfillment_order_id": "f", "expires_at": "x"}
            ]
        finally:
            engine.dispose()


def _outbox(engine: Engine, tenant_id: UUID, topic: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.payload).where(outbox.c.tenant_id == tenant_id, outbox.c.topic == topic)
        )
        return [dict(row.payload) for row in rows]


def test_an_uncollected_pickup_is_cancelled_and_restocked_after_the_tenants_expiry(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    update_policies(uow_factory=uow_factory, tenant_id=shop, raw={"pickup_expiry_days": 2})
    set_stock(uow_factory, shop, "Z", "STORE", 2)
    order = _pickup_order(uow_factory, shop)
    store = _fo_at(uow_factory, shop, order.id, "STORE")
    ready_at = T_READY
    code = _pick(uow_factory, shop, "STORE", at=ready_at).pickup_codes[store.id]
    deadline = ready_at + timedelta(days=2)
    assert _fo_at(uow_factory, shop, order.id, "STORE").pickup_expires_at == deadline
    ledger_before = _ledger(uow_factory, shop, "Z", "STORE")

    def expire(now: datetime) -> int:
        return expire_uncollected_pickups(uow_factory=uow_factory, tenant_id=shop, now=now)

    assert expire(deadline - timedelta(seconds=1)) == 0
    assert _stock(uow_factory, shop, "Z") == {"STORE": (2, 1)}

    # What `oms timers` runs, for every tenant.
    assert run_timers(uow_factory=uow_factory, now=deadline).pickups_expired >= 1

    # The units never left the shelf: the reservation is given back, no movement.
    assert _stock(uow_factory, shop, "Z") == {"STORE": (2, 0)}
    assert _ledger(uow_factory, shop, "Z", "STORE") == ledger_before
    assert _only_fo(uow_factory, shop, order.id).status is FulfillmentOrderStatus.CANCELLED
    order = _order(uow_factory, shop, order.id)
    assert _line(order, "Z") == (1, 0, 0, 0, 1)
    (expired,) = [e for e in order.events if e.type == "fulfillment_order.pickup_expired"]
    assert (expired.created_at, expired.data["restocked"]) == (deadline, {"Z": 1})
    assert expire(deadline + timedelta(days=1)) == 0
    with pytest.raises(IllegalTransition):
        collect_pickup(
            uow_factory=uow_factory,
            gateways=gateway_named,
            pickup_key=PICKUP_KEY,
            tenant_id=shop,
            fo_id=store.id,
            code=code,
            actor=TESTER,
        )
    _assert_clean(uow_factory, shop)


# --- 8. races -------------------------------------------------------------------------------


def _rounds(request: pytest.FixtureRequest) -> int:
    # PostgreSQL's row locks make the race real; SQLite serialises writers.
    return 4 if "postgres" in request.node.callspec.id else 2


def test_two_pick_waves_created_at_the_same_moment_never_take_the_same_fulfilment_order(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID, request: pytest.FixtureRequest
) -> None:
    set_stock(uow_factory, shop, "X", "NEAR", 100)
    for _round in range(_rounds(request)):
        orders = [_place(uow_factory, shop, ("X", 1)) for _ in range(4)]
        waiting = {_fo_at(uow_factory, shop, o.id, "NEAR").id for o in orders}
        barrier = Barrier(2)

        def one(_: int, barrier: Barrier = barrier) -> set[UUID] | str:
            barrier.wait()
            try:
                result = _wave(uow_factory, shop, "NEAR", max_orders=3)
            except IllegalTransition:
                return "409"
            return {fo.id for fo in result.fulfillment_orders}

        with ThreadPoolExecutor(max_workers=2) as pool:
            first, second = pool.map(one, range(2))

        taken = [w for w in (first, second) if isinstance(w, set)]
        assert taken, (first, second)
        assert sum(len(w) for w in taken) == len(set().union(*taken)) == len(waiting)
        assert set().union(*taken) == waiting
        with uow_factory(readonly=True) as uow:
            fos = uow.fulfilment.many(shop, sorted(waiting))
            waves = {fo.wave_id for fo in fos}
            for wave_id in waves:
                assert wave_id is not None
                wave = uow.fulfilment.get_wave(shop, wave_id)
                assert wave is not None
                assert set(wave.fulfillment_order_ids) in taken
        assert len(waves) == len(taken)
    _assert_clean(uow_factory, shop)


def test_two_shipments_of_one_package_at_the_same_moment_ship_it_once(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID, request: pytest.FixtureRequest
) -> None:
    rounds = _rounds(request)
    set_stock(uow_factory, shop, "X", "NEAR", 10)
    for round_no in range(rounds):
        order = _place(uow_factory, shop, ("X", 1))
        fo = _fo_at(uow_factory, shop, order.id, "NEAR")
        _pick(uow_factory, shop, "NEAR")
        package = _pack(uow_factory, shop, fo.id, "X")
        barrier = Barrier(2)

        def one(
            _: int, barrier: Barrier = barrier, fo_id: UUID = fo.id, package_id: UUID = package
        ) -> str:
            barrier.wait()
            try:
                _ship(uow_factory, shop, fo_id, [package_id])
            except (IllegalTransition, InvalidRequest):
                return "refused"
            return "shipped"

        with ThreadPoolExecutor(max_workers=2) as pool:
            outcome = Counter(pool.map(one, range(2)))

        assert outcome == Counter({"shipped": 1, "refused": 1})
        shipments = shipments_of_order(uow_factory=uow_factory, tenant_id=shop, order_id=order.id)
        assert [s.package_ids for s in shipments] == [[package]]
        assert _stock(uow_factory, shop, "X") == {"NEAR": (10 - round_no - 1, 0)}
        order = _order(uow_factory, shop, order.id)
        assert (_line(order, "X"), len(_events(order, "shipment.created"))) == ((1, 0, 0, 1, 0), 1)
    shipped = [
        m for m in _ledger(uow_factory, shop, "X", "NEAR") if m.kind is MovementKind.SHIPMENT
    ]
    assert [m.quantity for m in shipped] == [-1] * rounds
    _assert_clean(uow_factory, shop)


def test_an_order_held_while_its_wave_is_out_leaves_the_wave_and_is_waved_again_after_release(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "X", "NEAR", 5)
    order = _place(uow_factory, shop, ("X", 1))
    near = _fo_at(uow_factory, shop, order.id, "NEAR")
    wave = _wave(uow_factory, shop, "NEAR")
    hold = place_hold(
        uow_factory=uow_factory,
        tenant_id=shop,
        order_id=order.id,
        reason=HoldReason.MANUAL,
        note="customer called",
        actor=TESTER,
    )

    confirm_picks(
        uow_factory=uow_factory,
        tenant_id=shop,
        wave_id=wave.wave.id,
        confirmations=None,
        actor=TESTER,
        pickup_key=PICKUP_KEY,
    )

    held = _fos(uow_factory, shop, order.id)[0]
    assert (held.status, held.wave_id) == (FulfillmentOrderStatus.ON_HOLD, None)
    release_hold(
        uow_factory=uow_factory,
        tenant_id=shop,
        order_id=order.id,
        hold_id=hold[1].resource.id,
        note="go ahead",
        actor=TESTER,
    )
    assert _fos(uow_factory, shop, order.id)[0].status is FulfillmentOrderStatus.OPEN
    again = _wave(uow_factory, shop, "NEAR")
    assert near.id in again.wave.fulfillment_order_ids


def test_rerouting_a_whole_order_whose_picking_has_started_is_refused(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "X", "NEAR", 5)
    set_stock(uow_factory, shop, "X", "BONN", 5)
    order = _place(uow_factory, shop, ("X", 1))
    _pick(uow_factory, shop, "NEAR")

    with pytest.raises(IllegalTransition, match="reject or move"):
        reroute_order(
            uow_factory=uow_factory,
            tenant_id=shop,
            order_id=order.id,
            exclude=["NEAR"],
            reason="probe",
            actor=TESTER,
        )

    assert _stock(uow_factory, shop, "X") == {"NEAR": (5, 1), "BONN": (5, 0)}


# --- 5. carrier tracking ---------------------------------------------------------------------


def _shipped(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> Any:
    set_stock(uow_factory, tenant_id, "X", "NEAR", 5)
    order = _place(uow_factory, tenant_id, ("X", 1))
    near = _fo_at(uow_factory, tenant_id, order.id, "NEAR")
    _pick(uow_factory, tenant_id, "NEAR")
    _pack(uow_factory, tenant_id, near.id, "X")
    return _ship(uow_factory, tenant_id, near.id)


def test_carrier_events_find_each_tenants_shipment_by_tracking_number_alone(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    other, _ = create_tenant(uow_factory=uow_factory, name="another shop")
    ours, theirs = (
        _shipped(uow_factory, shop),
        _shipped(uow_factory, _open_shop(uow_factory, other.id)),
    )
    assert ours.carrier == theirs.carrier
    at = datetime(2026, 12, 1, 15, tzinfo=UTC)
    # Event ids are the carrier's: one tenant's never hides another tenant's event.
    batch = [
        CarrierEvent(s.tracking_number, TrackingEvent("scan-1", ShipmentStatus.DELIVERED, at))
        for s in (ours, theirs)
    ]

    first = record_carrier_events(uow_factory=uow_factory, carrier=ours.carrier, events=batch)
    again = record_carrier_events(uow_factory=uow_factory, carrier=ours.carrier, events=batch)

    assert (first.accepted, first.duplicates, first.unknown, first.status_changes) == (2, 0, [], 2)
    assert (again.accepted, again.duplicates, again.status_changes) == (0, 2, 0)
    for tenant_id, shipment in ((shop, ours), (other.id, theirs)):
        tracked = track_parcel(uow_factory=uow_factory, tracking_number=shipment.tracking_number)
        assert (tracked.tenant_id, tracked.id) == (tenant_id, shipment.id)
        assert tracked.status is ShipmentStatus.DELIVERED
        assert [e.event_id for e in tracked.events] == ["scan-1"]
