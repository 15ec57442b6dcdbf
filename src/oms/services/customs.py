"""Customs papers of a shipment: whether it crosses a border, its declaration (the data of
a CN22/CN23 form for postal services) and its commercial invoice (PDF through the
``DocumentRenderer`` port). See ``oms.domain.customs`` for the rules."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from oms.domain.addresses import Address
from oms.domain.customs import (
    CustomsLine,
    DutiesTerms,
    Invoice,
    commercial_invoice,
    crosses_border,
    postal_form,
    shipped_value,
)
from oms.domain.errors import IllegalTransition, NotFound
from oms.domain.money import round_money
from oms.domain.shipments import Shipment
from oms.services.document_renderer import (
    CommercialInvoiceDoc,
    CommercialInvoiceLine,
    DocumentRenderer,
)
from oms.services.documents import RenderedDocument
from oms.services.ports import UnitOfWorkFactory

__all__ = ["CustomsDeclaration", "commercial_invoice_document", "customs_declaration"]


@dataclass(frozen=True)
class CustomsDeclaration:
    """What a shipment declares at the border, and to whom it goes."""

    shipment: Shipment
    order_number: int
    origin_country: str | None
    destination_country: str | None
    crosses_border: bool
    duties_terms: DutiesTerms
    invoice: Invoice
    sender: Address
    receiver: Address | None

    @property
    def postal_form(self) -> str | None:
        """CN22 or CN23 for a parcel that crosses a border; None for one that does not."""
        if not self.crosses_border:
            return None
        return postal_form(self.invoice.total, self.invoice.currency)


def customs_declaration(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, shipment_id: UUID
) -> CustomsDeclaration:
    """The shipment's customs data: one line per SKU shipped, valued as the customer paid."""
    with uow_factory(readonly=True) as uow:
        shipment = uow.shipments.get(tenant_id, shipment_id)
        if shipment is None:
            raise NotFound(f"No shipment {shipment_id}")
        order = uow.orders.get(tenant_id, shipment.order_id, with_events=False)
        fo = uow.fulfilment.get(tenant_id, shipment.fulfillment_order_id)
        if order is None or fo is None:
            raise NotFound(f"No shipment {shipment_id}")
        location = uow.locations.get(fo.location_id)
        skus = {item.sku for item in shipment.contents}
        products = uow.products.by_skus(tenant_id, skus)
    destination = None if order.shipping_address is None else order.shipping_address.country
    origin = None if location is None or location.address is None else location.address.country
    by_line = {line.line_no: line for line in order.lines}
    lines: list[CustomsLine] = []
    for item in shipment.contents:
        product = products.get(item.sku)
        line = by_line.get(item.line_no)
        # A bundle's component is declared by itself; the bundle's price is on its line.
        priced = line is not None and line.sku == item.sku
        value = round_money(Decimal(0), order.currency)
        if priced and line is not None:
            value = shipped_value(
                unit_price=line.unit_price,
                ordered=line.quantity,
                discount=line.discount,
                shipped=item.quantity,
                currency=order.currency,
            )
        lines.append(
            CustomsLine(
                sku=item.sku,
                description=(product.customs_description or product.name)
                if product is not None
                else item.sku,
                quantity=item.quantity,
                value=value,
                weight_grams=0 if product is None else product.weight_grams * item.quantity,
                hs_code=None if product is None else product.hs_code,
                origin_country=None if product is None else product.origin_country,
            )
        )
    sender = (
        Address(country=origin or "", name="")
        if location is None
        else location.sender_address(destination or "")
    )
    return CustomsDeclaration(
        shipment=shipment,
        order_number=order.number,
        origin_country=origin,
        destination_country=destination,
        crosses_border=crosses_border(origin, destination),
        duties_terms=DutiesTerms(order.duties_terms or DutiesTerms.DAP.value),
        invoice=commercial_invoice(lines, order.currency),
        sender=sender,
        receiver=order.shipping_address,
    )


def commercial_invoice_document(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    shipment_id: UUID,
    renderer: DocumentRenderer,
) -> RenderedDocument:
    """The commercial invoice PDF of a shipment that crosses a border (409 for one that does
    not: it needs none)."""
    declared = customs_declaration(
        uow_factory=uow_factory, tenant_id=tenant_id, shipment_id=shipment_id
    )
    if not declared.crosses_border:
        raise IllegalTransition(
            "This shipment does not cross a border: it needs no commercial invoice",
            origin_country=declared.origin_country,
            destination_country=declared.destination_country,
        )
    invoice = declared.invoice
    cur = invoice.currency
    doc = CommercialInvoiceDoc(
        invoice_number=f"CI-{declared.order_number}-{declared.shipment.tracking_number}",
        order_number=f"#{declared.order_number}",
        tracking_number=declared.shipment.tracking_number,
        ship_date=declared.shipment.created_at.date(),
        sender=declared.sender,
        receiver=declared.receiver,
        currency=cur,
        duties_terms=declared.duties_terms.value,
        lines=[
            CommercialInvoiceLine(
                sku=line.sku,
                description=line.description,
                hs_code=line.hs_code or "",
                origin_country=line.origin_country or "",
                quantity=line.quantity,
                weight_grams=line.weight_grams,
                value=format(value, "f"),
            )
            for line, value in zip(invoice.lines, invoice.line_values, strict=True)
        ],
        total=format(invoice.total, "f"),
        weight_grams=invoice.weight_grams,
    )
    return RenderedDocument(
        content=renderer.commercial_invoice(doc),
        filename=f"commercial-invoice-{declared.shipment.tracking_number}.pdf",
    )
