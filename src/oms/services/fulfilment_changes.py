"""When a location cannot or should not fulfil: rejection, moving, uncollected pickups.

* A location **rejects** a fulfilment order (with a reason): its units are released and
  routed again, never to that location; what finds no stock is backordered.
* An operator **moves** one to a named location: routed there only, or refused (409) with
  nothing changed when that location cannot take all of it.
* A store pickup **not collected** within the tenant's ``pickup_expiry_days`` is cancelled
  and its units restocked (the reservation is given back; the units never left the shelf).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from oms.domain.errors import FieldError, IllegalTransition, InvalidRequest
from oms.domain.fulfilment import FulfillmentOrderStatus, lost_line_units
from oms.domain.orders import SYSTEM, Actor
from oms.services.common import retry_transient, utcnow
from oms.services.fulfilment import describe
from oms.services.persistence import save_order_changes, settle_order
from oms.services.ports import UnitOfWork, UnitOfWorkFactory
from oms.services.routing import Geocoder
from oms.services.warehouse import (
    Locked,
    give_back,
    location_by_code,
    lock_fulfillment_order,
    recipes_of,
    release_fo_line,
)

__all__ = [
    "expire_uncollected_pickups",
    "move_fulfillment_order",
    "reject_fulfillment_order",
]

BATCH = 200


def _release_everything(
    uow: UnitOfWork, located: Locked, at: datetime
) -> dict[tuple[int, str], int]:
    """Cancel every unshipped unit of the fulfilment order and give back its reservations."""
    order, fo = located.order, located.fo
    if any(line.shipped for line in fo.lines):
        raise IllegalTransition(
            "Part of this fulfilment order has shipped; it cannot leave the location",
            fulfillment_order_id=str(fo.id),
        )
    cancelled: dict[tuple[int, str], int] = {}
    for line in fo.lines:
        freed = release_fo_line(uow, order, fo, line, line.unshipped, at)
        if freed:
            key = (line.line_no, line.sku)
            cancelled[key] = cancelled.get(key, 0) + freed
    return cancelled


def reject_fulfillment_order(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    fo_id: UUID,
    reason: str,
    actor: Actor,
    geocoder: Geocoder | None = None,
    at: datetime | None = None,
) -> Locked:
    """The location refuses the work: route it elsewhere (never back here)."""
    when = at or utcnow()
    if not reason.strip():
        raise InvalidRequest("Say why", [FieldError("#/reason", "a reason is required")])

    def attempt() -> Locked:
        with uow_factory() as uow:
            located = lock_fulfillment_order(uow, tenant_id, fo_id)
            order, fo = located.order, located.fo
            fo.ensure_workable("reject")
            with order.change(
                "fulfillment_order.rejected", actor=actor, at=when, reason=reason
            ) as data:
                cancelled = _release_everything(uow, located, when)
                fo.rejected_reason = reason.strip()
                fo.refresh_status()
                known = {a.id for a in order.allocations}
                give_back(
                    uow,
                    located,
                    cancelled,
                    # Rejections add up: no location that refused this order gets it again.
                    exclude={
                        other.location_code or ""
                        for other in located.fulfilment
                        if other.rejected_reason is not None
                    },
                    geocoder=geocoder,
                    at=when,
                )
                data.update(describe(fo))
                data["rerouted_to"] = sorted(
                    {
                        a.location_code or ""
                        for a in order.allocations
                        if a.id not in known and a.open
                    }
                )
            fo.updated_at = when
            settle_order(order, policies=uow.tenants.policies(tenant_id), at=when)
            save_order_changes(uow, order, at=when, fulfilment=located.fulfilment)
            uow.commit()
            return located

    return retry_transient(attempt)


def move_fulfillment_order(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    fo_id: UUID,
    to_location: str,
    actor: Actor,
    geocoder: Geocoder | None = None,
    at: datetime | None = None,
) -> Locked:
    """Move the work to ``to_location``; 409 and nothing changed when it cannot take it all."""
    when = at or utcnow()

    def attempt() -> Locked:
        with uow_factory() as uow:
            located = lock_fulfillment_order(uow, tenant_id, fo_id)
            order, fo = located.order, located.fo
            target = location_by_code(uow, tenant_id, to_location)
            if target.id == fo.location_id:
                raise IllegalTransition("The fulfilment order is already there")
            fo.ensure_workable("move")
            others = {loc.code for loc in uow.locations.visible_to(tenant_id)} - {target.code}
            with order.change("fulfillment_order.moved", actor=actor, at=when) as data:
                cancelled = _release_everything(uow, located, when)
                give_back(uow, located, cancelled, exclude=others, geocoder=geocoder, at=when)
                if any(line.backordered for line in order.lines):
                    # Rolled back with everything else: the move happens whole or not at all.
                    raise IllegalTransition(
                        f"{target.code} cannot take all of it",
                        location=target.code,
                    )
                data.update(describe(fo), to_location=target.code)
            fo.updated_at = when
            settle_order(order, policies=uow.tenants.policies(tenant_id), at=when)
            save_order_changes(uow, order, at=when, fulfilment=located.fulfilment)
            uow.commit()
            return located

    return retry_transient(attempt)


def expire_uncollected_pickups(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, now: datetime
) -> int:
    """Cancel and restock every store pickup ready for longer than the tenant allows."""
    with uow_factory(readonly=True) as uow:
        order_ids = uow.fulfilment.uncollected(tenant_id, now, limit=BATCH)
    expired = 0
    for order_id in dict.fromkeys(order_ids):

        def attempt(order_id: UUID = order_id) -> int:
            with uow_factory() as uow:
                fos = uow.fulfilment.for_order(tenant_id, order_id)
                due = [
                    fo
                    for fo in fos
                    if fo.status is FulfillmentOrderStatus.READY_FOR_PICKUP
                    and fo.pickup_expires_at is not None
                    and fo.pickup_expires_at <= now
                ]
                if not due:
                    return 0
                located = lock_fulfillment_order(uow, tenant_id, due[0].id)
                order = located.order
                count = 0
                for fo in located.fulfilment:
                    if fo.id not in {d.id for d in due}:
                        continue
                    here = Locked(order, located.fulfilment, fo)
                    with order.change(
                        "fulfillment_order.pickup_expired",
                        actor=SYSTEM,
                        at=now,
                        reason="not collected in time",
                    ) as data:
                        cancelled = _release_everything(uow, here, now)
                        lost = lost_line_units(cancelled, recipes_of(uow, order))
                        for line_no, units in lost.items():
                            order.cancel_line_units(line_no, units)
                        fo.pickup_code_hash = None
                        data.update(describe(fo))
                        data["restocked"] = {sku: u for (_n, sku), u in sorted(cancelled.items())}
                    fo.updated_at = now
                    count += 1
                settle_order(order, policies=uow.tenants.policies(tenant_id), at=now)
                save_order_changes(uow, order, at=now, fulfilment=located.fulfilment)
                uow.commit()
                return count

        expired += retry_transient(attempt)
    return expired
