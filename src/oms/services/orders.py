"""Reading, listing and cancelling orders (intake is ``oms.services.intake``)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from oms.domain.errors import (
    NotFound,
)
from oms.domain.orders import Actor, Order
from oms.services.common import retry_transient, utcnow
from oms.services.payments import GatewayProvider, refund_overpayment
from oms.services.persistence import locked_order, save_order_changes, settle_order
from oms.services.ports import (
    OrderFilter,
    UnitOfWorkFactory,
)
from oms.services.store_credit_payments import order_gateways

__all__ = ["cancel_order", "get_order", "list_orders"]


def get_order(*, uow_factory: UnitOfWorkFactory, tenant_id: UUID, order_id: UUID) -> Order:
    """One order with lines, allocations and timeline."""
    with uow_factory(readonly=True) as uow:
        order = uow.orders.get(tenant_id, order_id)
    if order is None:
        raise NotFound(f"No order {order_id}")
    return order


def get_order_with_open_returns(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, order_id: UUID
) -> tuple[Order, int]:
    """One order as ``get_order``, and how many of its returns are open, in the same
    transaction. They are counted only when the count can change the order's
    ``return_status``: units shipped, none received back yet, and a return asked for (every
    return starts with ``return.requested`` on the order's timeline, read with the order);
    otherwise 0 and no query."""
    with uow_factory(readonly=True) as uow:
        order = uow.orders.get(tenant_id, order_id)
        if order is None:
            raise NotFound(f"No order {order_id}")
        askable = (
            any(line.shipped for line in order.lines)
            and not any(line.returned for line in order.lines)
            and any(event.type == "return.requested" for event in order.events)
        )
        open_returns = uow.returns.open_count(tenant_id, order_id) if askable else 0
    return order, open_returns


def list_orders(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    filters: OrderFilter,
    before_id: UUID | None,
    limit: int,
) -> list[Order]:
    """A page of orders, newest first."""
    with uow_factory(readonly=True) as uow:
        return uow.orders.page(tenant_id, filters=filters, before_id=before_id, limit=limit)


def _cancel_once(
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider | None,
    tenant_id: UUID,
    order_id: UUID,
    actor: Actor,
    reason: str | None,
    at: datetime,
) -> Order:
    with uow_factory() as uow:
        order = locked_order(uow, tenant_id, order_id)
        released = order.cancel(actor=actor, at=at, reason=reason)
        for allocation in sorted(released, key=lambda a: (a.sku, a.location_id)):
            uow.inventory.release(
                tenant_id, allocation.sku, allocation.location_id, allocation.quantity, at
            )
        policies = uow.tenants.policies(tenant_id)
        provider = order_gateways(uow, order, gateways, actor=actor, at=at)
        if provider is not None:  # without gateways, only the store credit goes back
            refund_overpayment(
                order,
                gateways=provider,
                policies=policies,
                actor=actor,
                at=at,
                credit_only=gateways is None,
            )
        settle_order(order, policies=policies, at=at)
        if save_order_changes(uow, order, at=at):
            uow.commit()
        return order


def cancel_order(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    order_id: UUID,
    actor: Actor,
    reason: str | None = None,
    at: datetime | None = None,
    gateways: GatewayProvider | None = None,
) -> Order:
    """Cancel what has not shipped and release its stock; cancelling twice is harmless.
    What was paid is owed back: refunded (tenant policy ``refund``, with ``gateways``) or
    left as a ``refund_due`` item in the exceptions queue."""
    when = at or utcnow()
    return retry_transient(
        lambda: _cancel_once(uow_factory, gateways, tenant_id, order_id, actor, reason, when)
    )
