"""Things that happen because time passed: lapsed authorizations, expired cart holds,
store pickups nobody collected, backorders whose stock is on a shelf that no arrival told
them of; and the analytics rollups caught up (oms.services.rollups).

Nothing here needs a process of its own: ``oms timers`` (cron, or the worker) runs them,
and each is also applied lazily whenever the order or stock in question is touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from oms.domain.payments import expired_authorizations
from oms.services.carts import expire_due
from oms.services.common import retry_transient, utcnow
from oms.services.fulfilment_changes import expire_uncollected_pickups
from oms.services.payments import GatewayProvider
from oms.services.persistence import SYSTEM, save_order_changes, settle_order
from oms.services.ports import UnitOfWorkFactory
from oms.services.rerouting import route_backorders_in_stock
from oms.services.rollups import refresh

__all__ = ["TimerReport", "hold_lapsed_authorizations", "run_timers"]

BATCH = 200


@dataclass(frozen=True)
class TimerReport:
    carts_expired: int
    orders_put_on_payment_hold: int
    pickups_expired: int = 0
    rollup_days_recounted: int = 0
    backorders_routed: int = 0


def hold_lapsed_authorizations(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, now: datetime
) -> int:
    """Put back on ``payment_pending`` every unshipped order whose authorization ran out."""
    with uow_factory(readonly=True) as uow:
        candidates = uow.orders.with_lapsed_authorizations(tenant_id, now, limit=BATCH)
    changed = 0
    for order_id in candidates:

        def attempt(order_id: UUID = order_id) -> bool:
            with uow_factory() as uow:
                order = uow.orders.get(tenant_id, order_id, for_update=True)
                if order is None or order.payment_secured(now):
                    return False
                with order.change("payment.authorization_lapsed", actor=SYSTEM, at=now) as data:
                    data["authorizations"] = [
                        str(r.id) for r in expired_authorizations(order.payments, now=now)
                    ]
                settle_order(order, policies=uow.tenants.policies(tenant_id), at=now)
                save_order_changes(uow, order, at=now)
                uow.commit()
                return True

        changed += retry_transient(attempt)
    return changed


def run_timers(
    *,
    uow_factory: UnitOfWorkFactory,
    now: datetime | None = None,
    tenants: Sequence[UUID] | None = None,
    gateways: GatewayProvider | None = None,
) -> TimerReport:
    """Run every timer that is due, for every tenant (or only for ``tenants``); a backorder
    it releases has the value of its digital lines captured through ``gateways``."""
    at = now or utcnow()
    if tenants is None:
        with uow_factory(readonly=True) as uow:
            tenant_ids = uow.tenants.list_ids()
    else:
        tenant_ids = list(tenants)
    carts = held = pickups = routed = 0
    for tenant_id in tenant_ids:
        carts += expire_due(uow_factory=uow_factory, tenant_id=tenant_id, now=at)
        held += hold_lapsed_authorizations(uow_factory=uow_factory, tenant_id=tenant_id, now=at)
        pickups += expire_uncollected_pickups(uow_factory=uow_factory, tenant_id=tenant_id, now=at)
        # After the expiries, which put units back on the shelf.
        routed += route_backorders_in_stock(
            uow_factory=uow_factory, tenant_id=tenant_id, at=at, gateways=gateways
        )
    return TimerReport(
        carts_expired=carts,
        orders_put_on_payment_hold=held,
        pickups_expired=pickups,
        backorders_routed=routed,
        rollup_days_recounted=refresh(uow_factory=uow_factory, now=at, tenant_ids=tenant_ids),
    )
