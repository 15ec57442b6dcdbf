"""Return labels' tracking moves the return, and an exchange's replacement ships when the
tenant's policy says (in transit, or received), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.domain.holds import HoldReason
from oms.domain.returns import (
    Disposition,
    ExchangeRelease,
    Resolution,
    ReturnPolicy,
    ReturnStatus,
    WantedLine,
)
from oms.domain.tracking import ShipmentStatus, TrackingEvent
from oms.services import returns
from oms.services.orders import get_order
from oms.services.return_labels import buy_return_label
from oms.services.tracking import CarrierEvent, record_carrier_events
from tests.builders import TESTER
from tests.integration.returns_support import (
    CARRIERS,
    SHIPPED_AT,
    assert_books_balance,
    open_shop,
    returns_engine,
    shipped_order,
)

__all__ = ["returns_engine"]

LATER = SHIPPED_AT + timedelta(days=5)


@pytest.fixture
def uow_factory(returns_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(returns_engine)


@pytest.fixture
def shop(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> UUID:
    return open_shop(uow_factory, tenant_id)


def _labelled(
    uow_factory: SqlUnitOfWorkFactory,
    shop: UUID,
    order_id: UUID,
    *,
    exchange_for: str | None = None,
) -> returns.ReturnRequest:
    exchange = () if exchange_for is None else (returns.ExchangeLine(exchange_for, 1),)
    request, _ = returns.request_return(
        uow_factory=uow_factory,
        tenant_id=shop,
        order_id=order_id,
        command=returns.NewReturn(
            (WantedLine(1, 1, "defective"),),
            Resolution.EXCHANGE if exchange else Resolution.REFUND,
            exchange_lines=exchange,
        ),
        actor=TESTER,
        at=LATER,
        gateways=gateway_named,
    )
    assert request.status is ReturnStatus.APPROVED  # defective: approved by the policy
    return buy_return_label(
        uow_factory=uow_factory,
        carriers=CARRIERS,
        tenant_id=shop,
        return_id=request.id,
        location="NEAR",
        actor=TESTER,
        at=LATER,
    )


def _scan(
    uow_factory: SqlUnitOfWorkFactory,
    request: returns.ReturnRequest,
    event_id: str,
    status: ShipmentStatus,
    hours: int,
) -> int:
    assert request.label is not None
    report = record_carrier_events(
        uow_factory=uow_factory,
        carrier=request.label.carrier,
        events=[
            CarrierEvent(
                request.label.tracking_number,
                TrackingEvent(event_id, status, LATER + timedelta(hours=hours), "Hub 1"),
            )
        ],
        at=LATER + timedelta(hours=hours),
    )
    assert report.unknown == []
    return report.status_changes


def _return(uow_factory: SqlUnitOfWorkFactory, shop: UUID, return_id: UUID) -> ReturnStatus:
    return returns.get_return(uow_factory=uow_factory, tenant_id=shop, return_id=return_id).status


def test_the_return_labels_scans_move_the_return_to_in_transit_then_delivered(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("X", 2))
    request = _labelled(uow_factory, shop, order.id)
    assert _scan(uow_factory, request, "e1", ShipmentStatus.IN_TRANSIT, 2) == 1
    assert _return(uow_factory, shop, request.id) is ReturnStatus.IN_TRANSIT
    assert _scan(uow_factory, request, "e1", ShipmentStatus.IN_TRANSIT, 2) == 0  # redelivered
    assert _scan(uow_factory, request, "e2", ShipmentStatus.DELIVERED, 30) == 1
    # A scan stamped before the delivery, arriving late, moves nothing back.
    assert _scan(uow_factory, request, "e3", ShipmentStatus.OUT_FOR_DELIVERY, 20) == 0
    found = returns.get_return(uow_factory=uow_factory, tenant_id=shop, return_id=request.id)
    assert found.status is ReturnStatus.DELIVERED
    assert found.parcel_status is ShipmentStatus.DELIVERED
    assert found.last_scan_at == LATER + timedelta(hours=30)
    timeline = get_order(uow_factory=uow_factory, tenant_id=shop, order_id=order.id).events
    steps = [e.type for e in timeline if e.type.startswith("return.")]
    assert steps[-2:] == ["return.in_transit", "return.delivered"]
    # Delivered to the warehouse is not received: the units still need inspection.
    received = returns.receive_return(
        uow_factory=uow_factory,
        tenant_id=shop,
        return_id=request.id,
        location="NEAR",
        units=[returns.ReceivedUnits(1, 1, Disposition.RESTOCK)],
        actor=TESTER,
        at=LATER + timedelta(days=2),
    )
    assert received.status is ReturnStatus.RECEIVED
    assert_books_balance(uow_factory, shop)


def test_a_rejected_return_stays_rejected_whatever_its_parcel_does(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("X", 1))
    request = _labelled(uow_factory, shop, order.id)
    returns.reject_return(
        uow_factory=uow_factory,
        tenant_id=shop,
        return_id=request.id,
        actor=TESTER,
        note="sent to the wrong shop",
        at=LATER,
    )
    assert _scan(uow_factory, request, "e1", ShipmentStatus.IN_TRANSIT, 2) == 0
    assert _return(uow_factory, shop, request.id) is ReturnStatus.REJECTED


def _replacement_holds(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID, request: returns.ReturnRequest
) -> list[HoldReason]:
    assert request.exchange_order_id is not None
    replacement = get_order(
        uow_factory=uow_factory, tenant_id=shop, order_id=request.exchange_order_id
    )
    return [h.reason for h in replacement.open_holds]


def test_an_exchange_waiting_for_the_return_in_transit_ships_on_the_first_scan(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    returns.put_policy(
        uow_factory=uow_factory,
        tenant_id=shop,
        policy=ReturnPolicy(exchange_ships=ExchangeRelease.IN_TRANSIT),
    )
    order = shipped_order(uow_factory, shop, ("Y", 1))
    request = _labelled(uow_factory, shop, order.id, exchange_for="X")
    assert _replacement_holds(uow_factory, shop, request) == [HoldReason.AWAITING_RETURN]
    with uow_factory(readonly=True) as uow:
        assert request.exchange_order_id is not None
        fos = uow.fulfilment.for_order(shop, request.exchange_order_id)
    assert fos
    assert all(fo.status.value == "on_hold" for fo in fos)
    _scan(uow_factory, request, "e1", ShipmentStatus.IN_TRANSIT, 2)
    assert _replacement_holds(uow_factory, shop, request) == []
    assert request.exchange_order_id is not None
    replacement = get_order(
        uow_factory=uow_factory, tenant_id=shop, order_id=request.exchange_order_id
    )
    assert replacement.status.value == "open"
    assert_books_balance(uow_factory, shop)


def test_an_exchange_waiting_for_receipt_ignores_the_scans_and_ships_once_received(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    returns.put_policy(
        uow_factory=uow_factory,
        tenant_id=shop,
        policy=ReturnPolicy(exchange_ships=ExchangeRelease.RECEIVED),
    )
    order = shipped_order(uow_factory, shop, ("Y", 1))
    request = _labelled(uow_factory, shop, order.id, exchange_for="X")
    _scan(uow_factory, request, "e1", ShipmentStatus.DELIVERED, 2)
    assert _replacement_holds(uow_factory, shop, request) == [HoldReason.AWAITING_RETURN]
    returns.receive_return(
        uow_factory=uow_factory,
        tenant_id=shop,
        return_id=request.id,
        location="NEAR",
        units=[returns.ReceivedUnits(1, 1, Disposition.QUARANTINE)],
        actor=TESTER,
        at=LATER + timedelta(days=1),
    )
    assert _replacement_holds(uow_factory, shop, request) == []
    assert_books_balance(uow_factory, shop)


def test_an_exchange_ships_at_once_by_default(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("Y", 1))
    request = _labelled(uow_factory, shop, order.id, exchange_for="X")
    assert _replacement_holds(uow_factory, shop, request) == []
