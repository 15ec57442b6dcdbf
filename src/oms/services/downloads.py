"""Digital goods after delivery: which download each delivered line grants, until when,
and where a valid link leads. Signing the links is the adapter's job
(``oms.adapters.downloads``); nothing is stored per link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from oms.domain.catalogue import ProductKind
from oms.domain.errors import NotFound
from oms.services.ports import UnitOfWorkFactory

__all__ = ["DigitalDelivery", "digital_deliveries", "download_target"]

DELIVERED = "digital.delivered"


@dataclass(frozen=True)
class DigitalDelivery:
    line_no: int
    sku: str
    expires_at: datetime


def digital_deliveries(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, order_id: UUID
) -> list[DigitalDelivery]:
    """Each delivered digital line and how long its download lasts (the tenant's
    ``download_link_days`` from delivery); NotFound for an unknown order."""
    with uow_factory(readonly=True) as uow:
        order = uow.orders.get(tenant_id, order_id)
        if order is None:
            raise NotFound(f"No order {order_id}")
        days = uow.tenants.policies(tenant_id).download_link_days
    delivered_at = {
        int(e.data["line_no"]): e.created_at for e in order.events if e.type == DELIVERED
    }
    return [
        DigitalDelivery(line.line_no, line.sku, delivered_at[line.line_no] + timedelta(days=days))
        for line in order.lines
        if line.kind is ProductKind.DIGITAL and line.line_no in delivered_at
    ]


def download_target(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, order_id: UUID, line_no: int
) -> str:
    """The file a delivered digital line leads to (NotFound when there is none)."""
    with uow_factory(readonly=True) as uow:
        order = uow.orders.get(tenant_id, order_id, with_events=False)
        line = (
            None
            if order is None
            else next((ln for ln in order.lines if ln.line_no == line_no), None)
        )
        if line is None or line.delivered == 0:
            raise NotFound("No such download")
        product = uow.products.by_skus(tenant_id, [line.sku]).get(line.sku)
    if product is None or not product.download_url:
        raise NotFound("The merchant has not given this product a file")
    return product.download_url
