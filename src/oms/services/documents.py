"""What the warehouse's documents show, read in one transaction each (the PDFs themselves
are drawn by ``oms.adapters.documents``)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from oms.domain.addresses import Address
from oms.domain.errors import NotFound
from oms.domain.fulfilment import FulfillmentOrder
from oms.domain.orders import Order
from oms.domain.packing import Package
from oms.domain.shipments import Shipment
from oms.services.ports import UnitOfWork, UnitOfWorkFactory

__all__ = ["LabelContent", "PackingSlipContent", "label_content", "packing_slip_content"]


@dataclass(frozen=True)
class PackingSlipContent:
    order: Order
    fulfillment_order: FulfillmentOrder
    ship_from: Address
    product_names: dict[str, str]
    packages: int
    merchant_name: str | None


@dataclass(frozen=True)
class LabelContent:
    shipment: Shipment
    order: Order
    ship_from: Address
    ship_to: Address
    packages: list[Package | None]  # in the shipment's order; None if one vanished


def _order_and_sender(
    uow: UnitOfWork, tenant_id: UUID, fo: FulfillmentOrder
) -> tuple[Order, Address]:
    order = uow.orders.get(tenant_id, fo.order_id, with_events=False)
    location = uow.locations.get(fo.location_id)
    if order is None or location is None:
        raise NotFound(f"No fulfilment order {fo.id}")
    country = "US" if order.shipping_address is None else order.shipping_address.country
    return order, location.sender_address(country)


def packing_slip_content(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, fo_id: UUID
) -> PackingSlipContent:
    """The packing slip of a fulfilment order (NotFound for an unknown one)."""
    with uow_factory(readonly=True) as uow:
        fo = uow.fulfilment.get(tenant_id, fo_id)
        if fo is None:
            raise NotFound(f"No fulfilment order {fo_id}")
        order, sender = _order_and_sender(uow, tenant_id, fo)
        products = uow.products.by_skus(tenant_id, {line.sku for line in fo.lines})
        tenant = uow.tenants.get(tenant_id)
        return PackingSlipContent(
            order=order,
            fulfillment_order=fo,
            ship_from=sender,
            product_names={sku: product.name for sku, product in products.items()},
            packages=len(uow.fulfilment.packages_of(tenant_id, fo.id)),
            merchant_name=None if tenant is None else tenant.name,
        )


def label_content(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, shipment_id: UUID
) -> LabelContent:
    """A shipment's labels, one per package (NotFound for an unknown shipment)."""
    with uow_factory(readonly=True) as uow:
        shipment = uow.shipments.get(tenant_id, shipment_id)
        fo = (
            None
            if shipment is None
            else uow.fulfilment.get(tenant_id, shipment.fulfillment_order_id)
        )
        if shipment is None or fo is None:
            raise NotFound(f"No shipment {shipment_id}")
        order, sender = _order_and_sender(uow, tenant_id, fo)
        if order.shipping_address is None:
            raise NotFound(f"No shipment {shipment_id}")
        packages = {p.id: p for p in uow.fulfilment.packages_of(tenant_id, fo.id)}
        return LabelContent(
            shipment=shipment,
            order=order,
            ship_from=sender,
            ship_to=order.shipping_address,
            packages=[packages.get(package_id) for package_id in shipment.package_ids],
        )
