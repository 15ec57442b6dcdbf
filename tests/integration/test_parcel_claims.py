"""Claims that open by themselves: a carrier exception, or no scan for the tenant's
``claim_after_days``, opens one claim per parcel, flagged in the exceptions queue
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.domain.holds import HoldReason
from oms.domain.returns import ClaimAnswer, Resolution, ReturnPolicy
from oms.domain.shipments import Shipment
from oms.domain.tracking import ShipmentStatus, TrackingEvent
from oms.services import returns
from oms.services.holds import list_open_holds
from oms.services.orders import get_order
from oms.services.parcel_claims import ExceptionHandler, claim_quiet_parcels
from oms.services.return_records import ReturnFilter
from oms.services.tracking import CarrierEvent, record_carrier_events
from tests.integration.returns_support import (
    SHIPPED_AT,
    assert_books_balance,
    open_shop,
    returns_engine,
    shipped_order,
)

__all__ = ["returns_engine"]


@pytest.fixture
def uow_factory(returns_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(returns_engine)


@pytest.fixture
def shop(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> UUID:
    return open_shop(uow_factory, tenant_id)


def _policy(uow_factory: SqlUnitOfWorkFactory, shop: UUID, policy: ReturnPolicy) -> None:
    returns.put_policy(uow_factory=uow_factory, tenant_id=shop, policy=policy)


def _shipment(uow_factory: SqlUnitOfWorkFactory, shop: UUID, order_id: UUID) -> Shipment:
    with uow_factory(readonly=True) as uow:
        (shipment,) = uow.shipments.for_order(shop, order_id)
    return shipment


def _report(
    uow_factory: SqlUnitOfWorkFactory, shipment: Shipment, event_id: str, at: datetime
) -> None:
    record_carrier_events(
        uow_factory=uow_factory,
        carrier=shipment.carrier,
        events=[
            CarrierEvent(
                shipment.tracking_number,
                TrackingEvent(event_id, ShipmentStatus.EXCEPTION, at, "Depot"),
            )
        ],
        at=at,
        on_exception=ExceptionHandler(uow_factory, gateway_named, at),
    )


def _claims(uow_factory: SqlUnitOfWorkFactory, shop: UUID, order_id: UUID) -> list[str]:
    found = returns.list_returns(
        uow_factory=uow_factory,
        tenant_id=shop,
        filters=ReturnFilter(order_id=order_id),
        before_id=None,
        limit=10,
    )
    return [f"{r.reasons[0]}:{r.resolution.value}" for r in found if r.is_claim]


def _flags(uow_factory: SqlUnitOfWorkFactory, shop: UUID) -> list[int]:
    held = list_open_holds(
        uow_factory=uow_factory,
        tenant_id=shop,
        reason=HoldReason.PARCEL_CLAIM,
        after_id=None,
        limit=50,
        now=SHIPPED_AT,
    )
    return [view.order_number for view in held]


def test_a_carrier_exception_opens_one_claim_flagged_in_the_exceptions_queue(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    _policy(uow_factory, shop, ReturnPolicy(claim_on_exception=True))
    order = shipped_order(uow_factory, shop, ("X", 2), ("Y", 1))
    shipment = _shipment(uow_factory, shop, order.id)
    _report(uow_factory, shipment, "x1", SHIPPED_AT + timedelta(days=1))
    _report(uow_factory, shipment, "x2", SHIPPED_AT + timedelta(days=2))  # again: same claim
    assert _claims(uow_factory, shop, order.id) == ["lost_in_transit:reship"]
    assert _flags(uow_factory, shop) == [order.number]
    # Nor does the quiet-parcel job claim it a second time.
    _policy(uow_factory, shop, ReturnPolicy(claim_on_exception=True, claim_after_days=3))
    sweep = claim_quiet_parcels(
        uow_factory=uow_factory, gateways=gateway_named, now=SHIPPED_AT + timedelta(days=30)
    )
    assert sweep.opened == []
    assert _claims(uow_factory, shop, order.id) == ["lost_in_transit:reship"]
    assert_books_balance(uow_factory, shop)


def test_a_carrier_exception_opens_nothing_unless_the_policy_says_so(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("X", 1))
    _report(uow_factory, _shipment(uow_factory, shop, order.id), "x1", SHIPPED_AT)
    assert _claims(uow_factory, shop, order.id) == []
    assert _flags(uow_factory, shop) == []


def test_a_parcel_not_scanned_for_the_policys_days_is_claimed_once_and_refunded(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    _policy(uow_factory, shop, ReturnPolicy(claim_after_days=7, claim_answer=ClaimAnswer.REFUND))
    order = shipped_order(uow_factory, shop, ("Z", 1))
    early = claim_quiet_parcels(
        uow_factory=uow_factory, gateways=gateway_named, now=SHIPPED_AT + timedelta(days=6)
    )
    assert early.opened == []
    due = claim_quiet_parcels(
        uow_factory=uow_factory, gateways=gateway_named, now=SHIPPED_AT + timedelta(days=8)
    )
    assert len(due.opened) == 1
    again = claim_quiet_parcels(
        uow_factory=uow_factory, gateways=gateway_named, now=SHIPPED_AT + timedelta(days=9)
    )
    assert again.opened == []
    claim = returns.get_return(uow_factory=uow_factory, tenant_id=shop, return_id=due.opened[0])
    assert claim.resolution is Resolution.REFUND
    assert claim.refund_amount is not None
    assert claim.refund_amount > 0
    refreshed = get_order(uow_factory=uow_factory, tenant_id=shop, order_id=order.id)
    assert refreshed.payment_status.value in {"refunded", "partially_refunded"}
    assert _flags(uow_factory, shop) == [order.number]
