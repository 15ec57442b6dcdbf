"""An event's ``data``: the resource it names, as this API returns it (``oms worker``
receives this through ``oms.wiring``, so events and API answers never drift apart).

Orders come as in lists (``timeline`` null: each event is one step of it); a pickup's code
is never part of any of these answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from oms.api.schemas.fulfilment import FulfillmentOrderRead, ShipmentRead
from oms.api.schemas.inventory import StockRead
from oms.api.schemas.orders import OrderRead
from oms.api.schemas.webhooks import WebhookEndpointRead
from oms.services.event_catalogue import ResourceRef
from oms.services.inventory import stock_of_sku
from oms.services.ports import UnitOfWork

__all__ = ["render_event_batch", "render_event_data"]


def _id(key: str) -> UUID | None:
    try:
        return UUID(key)
    except ValueError:
        return None


def render_event_data(uow: UnitOfWork, tenant_id: UUID, ref: ResourceRef) -> dict[str, Any] | None:
    """The JSON of the resource ``ref`` names, read in ``uow``; None when it is gone."""
    if ref.kind == "stock":
        stock = stock_of_sku(uow, tenant_id, ref.key)
        return None if stock is None else StockRead.of(stock).model_dump(mode="json")
    key = _id(ref.key)
    if key is None:
        return None
    if ref.kind == "order":
        order = uow.orders.get(tenant_id, key, with_events=False)
        return (
            None
            if order is None
            else OrderRead.of(order, with_timeline=False).model_dump(mode="json")
        )
    if ref.kind == "fulfillment_order":
        fo = uow.fulfilment.get(tenant_id, key)
        return None if fo is None else FulfillmentOrderRead.of(fo).model_dump(mode="json")
    if ref.kind == "shipment":
        shipment = uow.shipments.get(tenant_id, key, with_events=True)
        return None if shipment is None else ShipmentRead.of(shipment).model_dump(mode="json")
    endpoint = uow.webhooks.get(tenant_id, key)
    return None if endpoint is None else WebhookEndpointRead.of(endpoint).model_dump(mode="json")


def render_event_batch(
    uow: UnitOfWork, refs: Sequence[tuple[UUID, ResourceRef]]
) -> dict[tuple[UUID, ResourceRef], dict[str, Any] | None]:
    """The orders among ``refs`` rendered together (each table read once per tenant, not
    once per order), as ``render_event_data`` renders each; the other resources are left
    to it."""
    wanted: dict[UUID, dict[UUID, ResourceRef]] = {}
    for tenant_id, ref in refs:
        key = _id(ref.key) if ref.kind == "order" else None
        if key is not None:
            wanted.setdefault(tenant_id, {})[key] = ref
    rendered: dict[tuple[UUID, ResourceRef], dict[str, Any] | None] = {}
    for tenant_id, by_id in wanted.items():
        for ref in by_id.values():
            rendered[tenant_id, ref] = None  # unless found
        for order in uow.orders.get_many(tenant_id, list(by_id)):
            rendered[tenant_id, by_id[order.id]] = OrderRead.of(
                order, with_timeline=False
            ).model_dump(mode="json")
    return rendered
