"""Store pickup (BOPIS): ready with a one-time code, handed over when the customer shows it.

The code is six digits, made when picking completes, given to the customer once (in the
wave confirmation's answer and the outbox notification) and stored only as a hash bound to
its fulfilment order. Showing it hands the goods over: stock leaves the store, the units are
delivered and payment is captured, in one transaction. Uncollected pickups are cancelled by
``fulfilment_changes.expire_uncollected_pickups``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from uuid import UUID

from oms.domain.errors import FieldError, IllegalTransition, InvalidRequest
from oms.domain.fulfilment import FulfillmentKind, FulfillmentOrderStatus
from oms.domain.inventory import MovementKind
from oms.domain.orders import Actor
from oms.services.common import retry_transient, utcnow
from oms.services.fulfilment import apply_progress, describe
from oms.services.payments import GatewayProvider, capture_shipped_value
from oms.services.persistence import save_order_changes
from oms.services.ports import OutboxMessage, UnitOfWork, UnitOfWorkFactory
from oms.services.warehouse import Locked, lock_fulfillment_order, take_off_shelf

__all__ = ["collect_pickup", "pickup_code_hash", "ready_for_pickup"]


def pickup_code_hash(fo_id: UUID, code: str) -> str:
    """How a pickup code is stored: never in clear, bound to its fulfilment order."""
    return hashlib.sha256(f"{fo_id}:{code.strip()}".encode()).hexdigest()


def ready_for_pickup(
    uow: UnitOfWork, located: Locked, days: int, actor: Actor, at: datetime
) -> str:
    """Ready for pickup: a one-time code for the customer (returned, and in the outbox
    notification), stored only as a hash, valid until the tenant's expiry."""
    order, fo = located.order, located.fo
    code = f"{secrets.randbelow(1_000_000):06d}"
    fo.pickup_code_hash = pickup_code_hash(fo.id, code)
    fo.ready_at = at
    fo.pickup_expires_at = at + timedelta(days=days)
    with order.change("fulfillment_order.ready_for_pickup", actor=actor, at=at) as data:
        data.update(describe(fo), pickup_expires_at=fo.pickup_expires_at.isoformat())
    # The code goes to the customer (the notification), never into the timeline.
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
                    "pickup_code": code,
                    "expires_at": fo.pickup_expires_at.isoformat(),
                },
                created_at=at,
            )
        ],
    )
    return code


def collect_pickup(
    *,
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    tenant_id: UUID,
    fo_id: UUID,
    code: str,
    actor: Actor,
    at: datetime | None = None,
) -> Locked:
    """The customer shows the pickup code: the goods leave the store, delivered; payment is
    captured. A wrong code answers 422 and changes nothing; a used code cannot be reused."""
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
            expected = fo.pickup_code_hash or ""
            if not hmac.compare_digest(expected, pickup_code_hash(fo.id, code)):
                raise InvalidRequest(
                    "Wrong pickup code", [FieldError("#/code", "does not match this pickup")]
                )
            moved = fo.hand_over()
            fo.pickup_code_hash = None
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
