"""Resending a customer email of an order: the delivery of one of the order's events to one
email template is made due again (``DeliveryRepository.retry``), so ``oms worker`` sends it
through the email sink as it sent it the first time (the same Message-ID, the facts as they
are now); the order's timeline gets ``notification.resent`` with who asked, in the same
transaction.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from oms.domain.errors import Conflict, NotFound
from oms.domain.orders import Actor
from oms.services.common import retry_transient, utcnow
from oms.services.deliveries import DeliveryView
from oms.services.persistence import locked_order, save_order_changes
from oms.services.ports import UnitOfWorkFactory

__all__ = ["EMAIL_SINK", "resend_email"]

EMAIL_SINK = "email"
_LOOKED_AT = 200


def resend_email(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    order_id: UUID,
    delivery_id: UUID,
    actor: Actor,
    note: str | None = None,
    at: datetime | None = None,
) -> DeliveryView:
    """Send one of the order's emails again (NotFound: not an email of this order; Conflict:
    it is still waiting to be sent); ``notification.resent`` lands in the timeline."""
    when = at or utcnow()

    def attempt() -> DeliveryView:
        with uow_factory() as uow:
            order = locked_order(uow, tenant_id, order_id)
            mine = {
                d.id: d
                for d in uow.deliveries.for_aggregate(tenant_id, order_id, limit=_LOOKED_AT)
                if d.sink_kind == EMAIL_SINK
            }
            delivery = mine.get(delivery_id)
            if delivery is None:
                raise NotFound(f"No email {delivery_id} of order #{order.number}")
            if not uow.deliveries.retry(tenant_id, delivery_id, at=when):
                raise Conflict(
                    f"The {delivery.subscriber_key} email is still waiting to be sent",
                    delivery_id=str(delivery_id),
                )
            with order.change("notification.resent", actor=actor, at=when, reason=note) as data:
                data.update(
                    delivery_id=str(delivery_id),
                    template=delivery.subscriber_key,
                    event_type=delivery.event_type,
                    event_id=str(delivery.event_id),
                )
            save_order_changes(uow, order, at=when)
            again = uow.deliveries.get(tenant_id, delivery_id)
            uow.commit()
        assert again is not None
        return again

    return retry_transient(attempt)
