"""Store pickup (BOPIS): ready with a one-time code, handed over when the customer shows it.

The code is six digits, made when picking completes (``oms.domain.pickup_codes``: derived
from the deployment's secret key, the fulfilment order and the moment it became ready). It
is given to the caller once, in the wave confirmation's answer; nothing stores it: the
fulfilment order keeps a keyed verifier, and the outbox notification
(``notification.pickup_ready``) names the fulfilment order, from which the notification
step derives the code again (``pickup_code_for_notification``) while the pickup is ready.
Showing the code hands the goods over: stock leaves the store, the units are delivered and
payment is captured, in one transaction. Every fifth wrong code locks the pickup for a while
(423), each lock longer than the last. Uncollected pickups are cancelled by
``fulfilment_changes.expire_uncollected_pickups``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from oms.domain.errors import (
    FieldError,
    Gone,
    IllegalTransition,
    InvalidRequest,
    LockedOut,
    OmsError,
)
from oms.domain.fulfilment import FulfillmentKind, FulfillmentOrder, FulfillmentOrderStatus
from oms.domain.inventory import MovementKind
from oms.domain.orders import Actor
from oms.domain.pickup_codes import WRONG_CODES_PER_LOCK, PickupCodeKey
from oms.services.common import retry_transient, utcnow
from oms.services.fulfilment import apply_progress, describe
from oms.services.payments import GatewayProvider, capture_shipped_value
from oms.services.persistence import save_order_changes
from oms.services.ports import OutboxMessage, UnitOfWork, UnitOfWorkFactory
from oms.services.warehouse import Locked, lock_fulfillment_order, take_off_shelf

__all__ = [
    "collect_pickup",
    "live_pickup_code",
    "pickup_code_for_notification",
    "ready_for_pickup",
]


def ready_for_pickup(
    uow: UnitOfWork,
    located: Locked,
    days: int,
    actor: Actor,
    at: datetime,
    *,
    pickup_key: PickupCodeKey,
) -> str:
    """Ready for pickup: returns the one-time code for the customer, valid until the
    tenant's expiry; only its keyed verifier is stored, the notification names the pickup."""
    order, fo = located.order, located.fo
    code = pickup_key.code_of(tenant_id=fo.tenant_id, fo_id=fo.id, ready_at=at)
    fo.pickup_code_hash = pickup_key.verifier(fo_id=fo.id, code=code)
    fo.ready_at = at
    fo.pickup_expires_at = at + timedelta(days=days)
    fo.pickup_wrong_codes, fo.pickup_locked_until = 0, None
    with order.change("fulfillment_order.ready_for_pickup", actor=actor, at=at) as data:
        data.update(describe(fo), pickup_expires_at=fo.pickup_expires_at.isoformat())
    # The code itself goes nowhere stored: the notification step derives it from the key.
    uow.outbox.add_many(
        order.tenant_id,
        [
            OutboxMessage(
                topic="notification.pickup_ready",
                aggregate_id=order.id,
                payload={
                    "order_id": str(order.id),
                    "order_number": order.number,
                    "fulfillment_order_id": str(fo.id),
                    "location": fo.location_code,
                    "customer_email": order.customer.email,
                    "expires_at": fo.pickup_expires_at.isoformat(),
                },
                created_at=at,
            )
        ],
    )
    return code


def _live_code(fo: FulfillmentOrder, pickup_key: PickupCodeKey, now: datetime) -> str | None:
    """The pickup's code while it can be collected with it at ``now``, else None."""
    if (
        fo.kind is not FulfillmentKind.PICKUP
        or fo.status is not FulfillmentOrderStatus.READY_FOR_PICKUP
        or fo.ready_at is None
        or fo.pickup_expires_at is None
        or now >= fo.pickup_expires_at
    ):
        return None
    code = pickup_key.code_of(tenant_id=fo.tenant_id, fo_id=fo.id, ready_at=fo.ready_at)
    # A changed key derives another code, which the stored verifier refuses: say nothing.
    if not pickup_key.matches(fo_id=fo.id, code=code, stored=fo.pickup_code_hash):
        return None
    return code


def live_pickup_code(
    uow: UnitOfWork, *, pickup_key: PickupCodeKey, tenant_id: UUID, fo_id: UUID, now: datetime
) -> str | None:
    """The code of a pickup derived again in the caller's transaction, or None once it was
    collected, expired or cancelled, or the key changed (the notification step's read)."""
    fo = uow.fulfilment.get(tenant_id, fo_id)
    return None if fo is None else _live_code(fo, pickup_key, now)


def pickup_code_for_notification(
    *,
    uow_factory: UnitOfWorkFactory,
    pickup_key: PickupCodeKey,
    tenant_id: UUID,
    fo_id: UUID,
    now: datetime | None = None,
) -> str:
    """The code a ``notification.pickup_ready`` message is rendered with, derived again;
    Gone (410) once the pickup was collected, expired or cancelled, or the key changed."""
    with uow_factory(readonly=True) as uow:
        code = live_pickup_code(
            uow, pickup_key=pickup_key, tenant_id=tenant_id, fo_id=fo_id, now=now or utcnow()
        )
    if code is None:
        raise Gone("This pickup has no code to send any more", fulfillment_order_id=str(fo_id))
    return code


def _refuse_code(uow: UnitOfWork, located: Locked, actor: Actor, at: datetime) -> OmsError:
    """Count a wrong code (saved whatever the caller does next) and say what to answer."""
    order, fo = located.order, located.fo
    locked_until = fo.refuse_pickup_code(at)
    fo.updated_at = at
    if locked_until is None:
        uow.fulfilment.save(fo)
        left = WRONG_CODES_PER_LOCK - fo.pickup_wrong_codes % WRONG_CODES_PER_LOCK
        return InvalidRequest(
            "Wrong pickup code",
            [FieldError("#/code", "does not match this pickup")],
            attempts_left=left,
        )
    with order.change(
        "fulfillment_order.pickup_locked",
        actor=actor,
        at=at,
        reason=f"{fo.pickup_wrong_codes} wrong pickup codes",
    ) as data:
        data.update(
            describe(fo), locked_until=locked_until.isoformat(), wrong_codes=fo.pickup_wrong_codes
        )
    save_order_changes(uow, order, at=at, fulfilment=located.fulfilment)
    return LockedOut(
        "Wrong pickup code: too many wrong codes, the pickup is locked for a while",
        locked_until=locked_until,
        now=at,
        fulfillment_order_id=str(fo.id),
    )


def collect_pickup(
    *,
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    pickup_key: PickupCodeKey,
    tenant_id: UUID,
    fo_id: UUID,
    code: str,
    actor: Actor,
    at: datetime | None = None,
) -> Locked:
    """The customer shows the pickup code: the goods leave the store, delivered; payment is
    captured. A wrong code answers 422 and is counted (every fifth locks the pickup: 423,
    the code unread until the lock ends); a used code cannot be reused."""
    when = at or utcnow()

    def attempt() -> Locked:
        with uow_factory() as uow:
            located = lock_fulfillment_order(uow, tenant_id, fo_id)
            order, fo = located.order, located.fo
            if fo.kind is not FulfillmentKind.PICKUP:
                raise IllegalTransition(
                    "This is not a store pickup", fulfillment_order_id=str(fo.id)
                )
            if fo.status is not FulfillmentOrderStatus.READY_FOR_PICKUP:
                raise IllegalTransition(
                    f"The pickup is {fo.status.value}, not ready for pickup",
                    fulfillment_order_id=str(fo.id),
                    status=fo.status.value,
                )
            locked_until = fo.pickup_lock(when)
            if locked_until is not None:
                raise LockedOut(
                    "Too many wrong codes: the pickup is locked for a while",
                    locked_until=locked_until,
                    now=when,
                    fulfillment_order_id=str(fo.id),
                )
            if not pickup_key.matches(fo_id=fo.id, code=code, stored=fo.pickup_code_hash):
                refusal = _refuse_code(uow, located, actor, when)
                uow.commit()
                raise refusal
            moved = fo.hand_over()
            fo.pickup_code_hash = None
            fo.pickup_wrong_codes, fo.pickup_locked_until = 0, None
            take_off_shelf(
                uow,
                fo,
                moved,
                kind=MovementKind.SHIPMENT,
                reason="collected in store",
                reference=str(fo.id),
                actor=actor,
                at=when,
            )
            with order.change("fulfillment_order.picked_up", actor=actor, at=when) as data:
                apply_progress(uow, order, located.fulfilment)
                data.update(describe(fo))
                data["items"] = [{"sku": line.sku, "quantity": q} for line, q in moved]
            policies = uow.tenants.policies(tenant_id)
            capture_shipped_value(order, gateways=gateways, policies=policies, actor=actor, at=when)
            fo.updated_at = when
            save_order_changes(uow, order, at=when, fulfilment=located.fulfilment)
            uow.commit()
            return located

    return retry_transient(attempt)
