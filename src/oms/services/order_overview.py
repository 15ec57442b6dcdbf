"""What a person reads about orders in the portal: a search across one tenant or all of
them, and one order with everything hanging off it (fulfilment orders, shipments, the
deliveries of its events, the people named in its timeline), each in one read transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from uuid import UUID

from oms.domain.catalogue import Location
from oms.domain.errors import NotFound
from oms.domain.fulfilment import FulfillmentOrder
from oms.domain.orders import Order
from oms.domain.shipments import Shipment
from oms.domain.tenancy import Tenant
from oms.services.deliveries import DeliveryView
from oms.services.ports import OrderSearch, UnitOfWorkFactory

__all__ = ["OrderOverview", "find_orders", "order_overview", "search_choices"]

DELIVERIES_SHOWN = 50


@dataclass(frozen=True)
class OrderOverview:
    """One order and what hangs off it; ``people``: the emails of the users its timeline
    names (by user id)."""

    order: Order
    tenant: Tenant
    fulfillment_orders: list[FulfillmentOrder]
    shipments: list[Shipment]
    deliveries: list[DeliveryView]
    people: dict[str, str]
    store_credit: dict[str, Decimal] = field(default_factory=dict)  # the customer's balances


@dataclass(frozen=True)
class SearchChoices:
    """What the search form offers: the tenants and the locations to filter by."""

    tenants: list[Tenant]
    locations: list[Location]


def find_orders(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID | None,
    search: OrderSearch,
    before_id: UUID | None,
    limit: int,
) -> list[Order]:
    """A page of the orders ``search`` matches, newest first (``tenant_id`` None: every
    tenant's, for the operator)."""
    with uow_factory(readonly=True) as uow:
        return uow.orders.search(tenant_id, search=search, before_id=before_id, limit=limit)


def search_choices(*, uow_factory: UnitOfWorkFactory, tenant_id: UUID | None) -> SearchChoices:
    """The tenants and the locations a search may name (a tenant's: those it may use)."""
    with uow_factory(readonly=True) as uow:
        tenants = uow.tenants.all()
        locations = (
            uow.locations.operator_locations()
            if tenant_id is None
            else uow.locations.visible_to(tenant_id)
        )
    return SearchChoices(tenants=tenants, locations=sorted(locations, key=lambda x: x.code))


def order_overview(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, order_id: UUID
) -> OrderOverview:
    """One order of ``tenant_id`` with its fulfilment, shipments and event deliveries."""
    with uow_factory(readonly=True) as uow:
        order = uow.orders.get(tenant_id, order_id)
        tenant = uow.tenants.get(tenant_id)
        if order is None or tenant is None:
            raise NotFound(f"No order {order_id}")
        fulfillment_orders = uow.fulfilment.for_order(tenant_id, order_id)
        shipments = uow.shipments.for_order(tenant_id, order_id)
        deliveries = uow.deliveries.for_aggregate(tenant_id, order_id, limit=DELIVERIES_SHOWN)
        user_ids = set()
        for event in order.events:
            kind, _, who = event.actor.partition(":")
            if kind == "user":
                try:
                    user_ids.add(UUID(who))
                except ValueError:
                    continue
        people = {
            f"user:{user_id}": user.email for user_id, user in uow.users.by_ids(user_ids).items()
        }
        credit = (
            {}
            if order.customer_id is None
            else uow.store_credit.balances(tenant_id, order.customer_id)
        )
    return OrderOverview(
        order=order,
        tenant=tenant,
        fulfillment_orders=fulfillment_orders,
        shipments=shipments,
        deliveries=deliveries,
        people=people,
        store_credit=credit,
    )
