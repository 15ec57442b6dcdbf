"""Saving a changed order: version, timeline, outbox, and the follow-ups a change triggers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from oms.domain.errors import NotFound
from oms.domain.fulfilment import FulfillmentOrder
from oms.domain.holds import Hold, HoldReason
from oms.domain.ids import new_id
from oms.domain.orders import SYSTEM, Actor, Order, OrderEvent
from oms.domain.policies import TenantPolicies
from oms.domain.status import FulfillmentStatus, OrderStatus
from oms.services.fulfilment import deliver_digital, mark_fulfilment_in_step, sync_fulfilment
from oms.services.ports import OutboxMessage, UnitOfWork

__all__ = [
    "SYSTEM",
    "changes_to_save",
    "flag_refund_due",
    "locked_order",
    "new_hold",
    "outbox_messages",
    "release_open_allocations",
    "save_order_changes",
    "settle_order",
]


def outbox_messages(order: Order, events: Sequence[OrderEvent]) -> list[OutboxMessage]:
    """One outbox message per timeline event, written in the same transaction."""
    return [
        OutboxMessage(
            topic=event.type,
            aggregate_id=order.id,
            payload={
                "order_id": str(order.id),
                "order_number": order.number,
                "event_seq": event.seq,
                "status": order.status.value,
                "fulfillment_status": order.fulfillment_status.value,
                "payment_status": order.payment_status.value,
                "data": event.data,
            },
            created_at=event.created_at,
        )
        for event in events
    ]


def save_order_changes(
    uow: UnitOfWork,
    order: Order,
    *,
    at: datetime,
    fulfilment: list[FulfillmentOrder] | None = None,
) -> bool:
    """Persist an existing order's changes and their outbox messages; False if none.

    A released order's fulfilment orders are brought in step first (``fulfilment``: the
    ones already loaded and changed by the caller, else they are read).
    """
    sync_fulfilment(uow, order, at, fulfilment)
    events = changes_to_save(order, at=at)
    if not events:
        return False
    uow.orders.save(order, outbox=outbox_messages(order, events))
    return True


def changes_to_save(order: Order, *, at: datetime) -> list[OrderEvent]:
    """The order's unsaved events, with its version counted and its time stamped for the
    save that writes them; none: there is nothing to save."""
    events = list(order.new_events)
    if events:
        order.version += 1
        order.updated_at = at
    return events


def new_hold(
    reason: HoldReason,
    *,
    policies: TenantPolicies,
    actor: Actor,
    at: datetime,
    note: str | None = None,
) -> Hold:
    """A hold due after the tenant's SLA for ``reason``."""
    return Hold(
        id=new_id(),
        reason=reason,
        created_at=at,
        due_at=at + policies.hold_sla(reason),
        note=note,
        created_by=str(actor),
    )


_STILL_TO_SHIP = {OrderStatus.OPEN, OrderStatus.ON_HOLD}


def settle_order(order: Order, *, policies: TenantPolicies, at: datetime) -> None:
    """The follow-ups any change may trigger, decided from the order as it now is.

    Payment secured: release ``payment_pending`` holds. Not secured (nothing paid yet, or an
    authorization expired) while goods are still to ship: hold ``payment_pending``. Then
    release the order for fulfilment if nothing stops it; its digital lines are delivered
    at that moment (the caller captures their value if it can reach the gateways). Last,
    money captured beyond the total is flagged (``flag_refund_due``).
    """
    secured = order.payment_secured(at)
    if secured:
        order.release_holds_of(
            HoldReason.PAYMENT_PENDING, actor=SYSTEM, at=at, note="payment secured"
        )
    elif order.status in _STILL_TO_SHIP and order.fulfillment_status in _NOT_SHIPPED:
        order.place_hold(
            new_hold(
                HoldReason.PAYMENT_PENDING,
                policies=policies,
                actor=SYSTEM,
                at=at,
                note="waiting for an authorization or payment covering the total",
            ),
            actor=SYSTEM,
            at=at,
        )
    if order.release_for_fulfilment(payment_secured=secured, actor=SYSTEM, at=at):
        deliver_digital(order, at)
    flag_refund_due(order, policies=policies, at=at)


def flag_refund_due(order: Order, *, policies: TenantPolicies, at: datetime) -> None:
    """Keep the order's ``refund_due`` item in step with its money: open (in the exceptions
    queue) while it keeps captures beyond its total, closed once it does not. Money owed
    back is never kept silently; whether it was refunded first is the tenant's policy
    (``payments.refund_overpayment``)."""
    due = order.refund_due()
    if due > 0:
        note = f"{due} {order.currency} captured beyond the total"
        order.place_hold(
            new_hold(HoldReason.REFUND_DUE, policies=policies, actor=SYSTEM, at=at, note=note),
            actor=SYSTEM,
            at=at,
        )
    else:
        order.release_holds_of(
            HoldReason.REFUND_DUE, actor=SYSTEM, at=at, note="nothing is owed back"
        )


_NOT_SHIPPED = {FulfillmentStatus.UNFULFILLED, FulfillmentStatus.PARTIALLY_FULFILLED}


def locked_order(
    uow: UnitOfWork, tenant_id: UUID, order_id: UUID, *, with_events: bool = True
) -> Order:
    """The order, locked for this transaction (PostgreSQL ``FOR UPDATE``), or NotFound;
    ``with_events=False`` skips reading the timeline (new events are still numbered)."""
    order = uow.orders.get(tenant_id, order_id, for_update=True, with_events=with_events)
    if order is None:
        raise NotFound(f"No order {order_id}")
    mark_fulfilment_in_step(order)
    return order


def release_open_allocations(uow: UnitOfWork, order: Order, at: datetime) -> None:
    """Give back every unit the order still holds, in the fixed (SKU, location) order."""
    for allocation in sorted(order.allocations, key=lambda a: (a.sku, a.location_id)):
        if allocation.open > 0:
            uow.inventory.release(
                order.tenant_id, allocation.sku, allocation.location_id, allocation.open, at
            )
            allocation.released += allocation.open
