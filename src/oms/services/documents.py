"""The warehouse's documents: what each shows, read in one transaction, drawn by the
``DocumentRenderer`` port (``oms.services.document_renderer``; the built-in one draws PDFs
with ``oms.adapters.documents``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from oms.domain.addresses import Address
from oms.domain.errors import NotFound
from oms.domain.fulfilment import FulfillmentOrder
from oms.domain.orders import Order
from oms.domain.packing import Package
from oms.domain.shipments import Shipment
from oms.services.document_renderer import (
    DocumentRenderer,
    LabelDoc,
    PackingSlipDoc,
    PackingSlipLine,
    PickListDoc,
    PickListLine,
)
from oms.services.picking import wave_pick_list
from oms.services.ports import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "LabelContent",
    "PackingSlipContent",
    "RenderedDocument",
    "label_content",
    "labels_document",
    "packing_slip_content",
    "packing_slip_document",
    "pick_list_document",
]


@dataclass(frozen=True)
class RenderedDocument:
    """A drawn document (PDF bytes) and the file name to offer it under."""

    content: bytes
    filename: str


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


def pick_list_document(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, wave_id: UUID, renderer: DocumentRenderer
) -> RenderedDocument:
    """A wave's pick list, its picks sorted by bin (NotFound for an unknown wave)."""
    view = wave_pick_list(uow_factory=uow_factory, tenant_id=tenant_id, wave_id=wave_id)
    doc = PickListDoc(
        wave_id=str(view.wave.id),
        location_code=view.location_code,
        location_name=view.location_name,
        created_at=view.wave.created_at,
        tenant_name=view.merchant_name,
        lines=[
            PickListLine(
                bin=entry.bin,
                sku=entry.sku,
                name=view.names.get(entry.sku, entry.sku),
                quantity=entry.quantity,
                fulfillment_orders=tuple(
                    f"#{view.order_numbers[fo_id]}" for fo_id in entry.fulfillment_order_ids
                ),
            )
            for entry in view.entries
        ],
    )
    return RenderedDocument(renderer.pick_list(doc), f"pick-list-{view.wave.id}.pdf")


def packing_slip_document(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    fo_id: UUID,
    renderer: DocumentRenderer,
    now: datetime,
) -> RenderedDocument:
    """The packing slip of a fulfilment order, printed ``now`` (NotFound for an unknown one)."""
    content = packing_slip_content(uow_factory=uow_factory, tenant_id=tenant_id, fo_id=fo_id)
    order, fo = content.order, content.fulfillment_order
    doc = PackingSlipDoc(
        order_number=f"#{order.number}",
        fulfillment_order_id=str(fo.id),
        ship_from=content.ship_from,
        ship_to=order.shipping_address,
        lines=[
            PackingSlipLine(
                sku=line.sku,
                name=content.product_names.get(line.sku, line.sku),
                quantity=line.live,
            )
            for line in fo.lines
            if line.live > 0
        ],
        packages=content.packages,
        created_at=now,
        note=order.note,
        merchant_name=content.merchant_name,
    )
    return RenderedDocument(renderer.packing_slip(doc), f"packing-slip-{order.number}.pdf")


def labels_document(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    shipment_id: UUID,
    renderer: DocumentRenderer,
) -> RenderedDocument:
    """A shipment's 4x6 labels, one page a package (NotFound for an unknown shipment)."""
    content = label_content(uow_factory=uow_factory, tenant_id=tenant_id, shipment_id=shipment_id)
    shipment, order = content.shipment, content.order
    docs = [
        LabelDoc(
            tracking_number=shipment.tracking_number,
            carrier=shipment.carrier,
            service=shipment.service,
            ship_from=content.ship_from,
            ship_to=content.ship_to,
            weight_grams=0 if package is None else package.weight_grams,
            order_number=f"#{order.number}",
            package_index=index,
            package_count=len(content.packages),
            ship_date=shipment.created_at.date(),
            reference=str(shipment.fulfillment_order_id),
        )
        for index, package in enumerate(content.packages, start=1)
    ]
    return RenderedDocument(renderer.labels(docs), f"label-{shipment.tracking_number}.pdf")
