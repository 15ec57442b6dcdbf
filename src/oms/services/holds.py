"""Holds and the exceptions queue: put an order on hold, release it, see what is stuck."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.holds import SYSTEM_ONLY, Hold, HoldReason
from oms.domain.orders import Actor, Order
from oms.services.common import CreateResult, retry_transient, utcnow
from oms.services.payments import GatewayProvider, capture_shipped_value
from oms.services.persistence import locked_order, new_hold, save_order_changes, settle_order
from oms.services.ports import UnitOfWorkFactory

__all__ = ["HoldView", "list_open_holds", "place_hold", "release_hold"]


@dataclass(frozen=True)
class HoldView:
    hold: Hold
    order_id: UUID
    order_number: int
    overdue: bool


def place_hold(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    order_id: UUID,
    reason: HoldReason,
    note: str | None,
    actor: Actor,
    at: datetime | None = None,
) -> tuple[Order, CreateResult[Hold]]:
    """Put an order on hold; one open hold per reason (placing it again finds that one:
    ``created`` False). A reason only the system raises (``refund_due``) is refused at
    ``#/reason``."""
    when = at or utcnow()
    if reason in SYSTEM_ONLY:
        raise InvalidRequest(
            f"{reason.value} is raised by the system from the order's payments",
            [FieldError("#/reason", "not a reason a person may give")],
        )

    def attempt() -> tuple[Order, CreateResult[Hold]]:
        with uow_factory() as uow:
            order = locked_order(uow, tenant_id, order_id)
            hold = new_hold(
                reason, policies=uow.tenants.policies(tenant_id), actor=actor, at=when, note=note
            )
            placed = order.place_hold(hold, actor=actor, at=when)
            save_order_changes(uow, order, at=when)
            uow.commit()
            return order, CreateResult(placed, created=placed is hold)

    return retry_transient(attempt)


def release_hold(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    order_id: UUID,
    hold_id: UUID,
    note: str | None,
    actor: Actor,
    gateways: GatewayProvider | None = None,
    at: datetime | None = None,
) -> Order:
    """Release a hold (a note is required); the order is released for fulfilment if it can be
    (and its digital lines' value captured when ``gateways`` are given)."""
    when = at or utcnow()

    def attempt() -> Order:
        with uow_factory() as uow:
            order = locked_order(uow, tenant_id, order_id)
            order.release_hold(hold_id, actor=actor, at=when, note=note)
            policies = uow.tenants.policies(tenant_id)
            settle_order(order, policies=policies, at=when)
            if gateways is not None:
                capture_shipped_value(
                    order, gateways=gateways, policies=policies, actor=actor, at=when
                )
            save_order_changes(uow, order, at=when)
            uow.commit()
            return order

    return retry_transient(attempt)


def list_open_holds(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    reason: HoldReason | None,
    after_id: UUID | None,
    limit: int,
    now: datetime | None = None,
) -> list[HoldView]:
    """Open holds, oldest first, each flagged overdue when past its due time."""
    when = now or utcnow()
    with uow_factory(readonly=True) as uow:
        queued = uow.orders.open_holds_page(
            tenant_id, reason=reason, after_id=after_id, limit=limit
        )
    return [
        HoldView(
            hold=q.hold,
            order_id=q.order_id,
            order_number=q.order_number,
            overdue=q.hold.is_overdue(when),
        )
        for q in queued
    ]
