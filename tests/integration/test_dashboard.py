"""The dashboard's figures on SQLite and PostgreSQL, from orders placed, held, picked,
shipped and cancelled through the real use cases at chosen moments (the clock injected).

Labels are bought from the table-rate carriers, whose rate cards are deployment-wide: this
module runs on databases of its own, like the fulfilment tests whose steps it borrows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.config import Settings
from oms.domain.holds import HoldReason
from oms.services import intake
from oms.services.dashboard import Dashboard, dashboard
from oms.services.holds import place_hold
from oms.services.orders import cancel_order, get_order
from oms.services.packing import PackRequest, pack
from oms.services.picking import PickConfirmation, confirm_picks, create_wave
from oms.services.shipping import ShipRequest, create_shipment
from oms.services.tenants import create_tenant
from tests.builders import TESTER, order_of, set_stock
from tests.databases import ENGINES, migrated_database_url
from tests.integration.test_fulfilment import CARRIERS, PICKUP_KEY, _open_shop, _prepared
from tests.integration.test_routing import COLOGNE

NOW = datetime(2031, 3, 10, 15, 0, tzinfo=UTC)
"""The dashboard's now: a Monday afternoon."""


def hours_ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    for url in migrated_database_url(request, request.param, "dashboard"):
        engine = _prepared(Settings(database_url=url, db_max_overflow=20))
        yield engine
        engine.dispose()


@pytest.fixture(scope="module")
def uow_factory(engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(engine)


def _shop(uow_factory: SqlUnitOfWorkFactory, name: str) -> UUID:
    tenant_id = create_tenant(uow_factory=uow_factory, name=name)[0].id
    return _open_shop(uow_factory, tenant_id)


def _place(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, at: datetime, *lines: Any) -> UUID:
    return intake.place_order(
        uow_factory=uow_factory,
        gateways=gateway_named,
        tenant_id=tenant_id,
        command=replace(order_of(*lines), shipping_address=COLOGNE),
        actor=TESTER,
        at=at,
    ).order.id


def _wave_at(
    uow_factory: SqlUnitOfWorkFactory,
    tenant_id: UUID,
    code: str,
    at: datetime,
    found: list[PickConfirmation] | None = None,
) -> list[UUID]:
    """Pick everything open at ``code`` (as ``found``); the fulfilment orders picked."""
    wave = create_wave(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        location_code=code,
        max_orders=50,
        max_units=None,
        actor=TESTER,
        at=at,
    )
    confirm_picks(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        wave_id=wave.wave.id,
        confirmations=found,
        actor=TESTER,
        pickup_key=PICKUP_KEY,
        at=at,
    )
    return list(wave.wave.fulfillment_order_ids)


def _pack_and_ship(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, fo_id: UUID, scans: list[str], at: datetime
) -> Decimal:
    pack(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        fo_id=fo_id,
        request=PackRequest(scans=scans),
        actor=TESTER,
        at=at,
    )
    shipment = create_shipment(
        uow_factory=uow_factory,
        gateways=gateway_named,
        carriers=CARRIERS,
        tenant_id=tenant_id,
        fo_id=fo_id,
        request=ShipRequest(),
        actor=TESTER,
        at=at,
    ).resource
    return shipment.cost


def _promise(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, order_id: UUID) -> date:
    promised = get_order(
        uow_factory=uow_factory, tenant_id=tenant_id, order_id=order_id
    ).promised_ship_by
    assert promised is not None
    return promised


def _figures(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID | None, first: date, last: date
) -> Dashboard:
    return dashboard(uow_factory=uow_factory, tenant_id=tenant_id, first=first, last=last, now=NOW)


def test_a_weeks_orders_give_every_figure_of_the_dashboard(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    shop = _shop(uow_factory, "dashboard shop")
    other = _shop(uow_factory, "another shop")
    for sku, near, bonn in (("X", 2, 1), ("Y", 2, 2), ("Z", 5, 0)):
        set_stock(uow_factory, shop, sku, "NEAR", near)
        set_stock(uow_factory, shop, sku, "BONN", bonn)
    set_stock(uow_factory, other, "Z", "NEAR", 5)

    # Five days ago: placed in the morning, shipped at noon (on time).
    shipped = _place(uow_factory, shop, hours_ago(5 * 24 + 6), ("Z", 1))
    (fo_id,) = _wave_at(uow_factory, shop, "NEAR", hours_ago(5 * 24 + 4))
    cost = _pack_and_ship(uow_factory, shop, fo_id, ["Z"], hours_ago(5 * 24 + 3))
    # Four days ago: two Y, one of which nobody finds at NEAR; BONN sends the other.
    short = _place(uow_factory, shop, hours_ago(4 * 24), ("Y", 2))
    with uow_factory(readonly=True) as uow:
        (short_fo,) = uow.fulfilment.for_order(shop, short)
    _wave_at(
        uow_factory, shop, "NEAR", hours_ago(4 * 24 - 1), [PickConfirmation(short_fo.id, "Y", 1)]
    )
    # Two and a half days ago: three X when NEAR holds two and BONN one (a split), unshipped.
    split = _place(uow_factory, shop, hours_ago(60), ("X", 3))
    # Thirty hours ago: held by hand for a day (its SLA), so now past it.
    held_late = _place(uow_factory, shop, hours_ago(30), ("Z", 1))
    place_hold(
        uow_factory=uow_factory,
        tenant_id=shop,
        order_id=held_late,
        reason=HoldReason.MANUAL,
        note="call the customer",
        actor=TESTER,
        at=hours_ago(29),
    )
    # This morning: one held an hour ago (within its SLA), one cancelled, one left open.
    held = _place(uow_factory, shop, hours_ago(3), ("Z", 1))
    place_hold(
        uow_factory=uow_factory,
        tenant_id=shop,
        order_id=held,
        reason=HoldReason.MANUAL,
        note=None,
        actor=TESTER,
        at=hours_ago(1),
    )
    cancelled = _place(uow_factory, shop, hours_ago(2), ("Z", 1))
    cancel_order(
        uow_factory=uow_factory, tenant_id=shop, order_id=cancelled, actor=TESTER, at=hours_ago(2)
    )
    fresh = _place(uow_factory, shop, hours_ago(1), ("Z", 1))
    _place(uow_factory, other, hours_ago(1), ("Z", 1))

    week = _figures(uow_factory, shop, NOW.date() - timedelta(days=6), NOW.date())

    assert [count for _, count in week.orders_per_day] == [0, 1, 1, 0, 1, 1, 3]
    assert week.orders_per_day[0][0] == date(2031, 3, 4)
    assert week.orders_today == 3
    # Backlog: open orders with units to ship (the shipped and the cancelled ones are not).
    assert week.backlog.by_status == {"open": 3, "on_hold": 2}
    assert week.backlog.by_age == {
        "under_1_day": 2,
        "1_to_2_days": 1,
        "2_to_3_days": 1,
        "over_3_days": 1,
    }
    # The cancelled order was paid: the money owed back waits as a refund_due item (48 h).
    assert [(h.reason, h.open, h.past_sla) for h in week.holds] == [
        ("manual", 2, 1),
        ("refund_due", 1, 0),
    ]
    assert (week.shipped_today.of, week.shipped_today.met) == (0, 0)
    # On time: the shipped order, if shipped by its promise; the others promised in the past
    # and unshipped count against; promises from today on not yet.
    placed = (shipped, short, split, held_late, held, fresh)
    promises = {o: _promise(uow_factory, shop, o) for o in placed}
    due = [o for o, day in promises.items() if o == shipped or day < NOW.date()]
    assert week.on_time_ship_rate.of == len(due)
    assert week.on_time_ship_rate.met == int(promises[shipped] >= (NOW - timedelta(days=5)).date())
    # Split: the short-picked order (NEAR and BONN) and the three X, of the seven routed
    # (the cancelled one was routed too, to one location).
    assert (week.split_rate.met, week.split_rate.of) == (2, 7)
    (eur,) = week.shipping_cost
    assert (eur.currency, eur.shipments, eur.orders, eur.total) == ("EUR", 1, 1, cost)
    assert eur.per_order == cost.quantize(Decimal("0.01"))
    assert week.fulfilment_errors == {
        "short_picks": 1,
        "carrier_exceptions": 0,
        "returned_to_sender": 0,
    }

    # The operator's view of every tenant counts the other shop's order too.
    everyone = _figures(uow_factory, None, NOW.date() - timedelta(days=6), NOW.date())
    assert everyone.orders_today >= 4
    assert everyone.backlog.total >= week.backlog.total + 1
    # A range before the shipment: its day shows nothing shipped or late.
    earlier = _figures(uow_factory, shop, date(2031, 3, 1), date(2031, 3, 4))
    assert earlier.orders_in_range == 0
    assert earlier.shipping_cost == []
    assert earlier.fulfilment_errors["short_picks"] == 0
