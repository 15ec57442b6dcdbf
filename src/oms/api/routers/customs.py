"""/v1/shipments/{id}/customs and /commercial-invoice: a cross-border shipment's papers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from oms.api.deps import DocumentsDep, TenantId, UowDep, parse_uuid
from oms.api.one_hop import OneHopRoute
from oms.api.responses import PDF_RESPONSE, pdf_response
from oms.api.schemas.common import money_text
from oms.services import customs

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1/shipments", tags=["shipments"])


@router.get("/{shipment_id}/customs")
def get_customs(shipment_id: str, tenant_id: TenantId, uow: UowDep) -> dict[str, Any]:
    """The shipment's customs declaration: whether it crosses a border, its duties terms,
    the CN22/CN23 form a postal service needs, and one item per SKU shipped."""
    declared = customs.customs_declaration(
        uow_factory=uow, tenant_id=tenant_id, shipment_id=parse_uuid(shipment_id, "shipment")
    )
    invoice = declared.invoice
    cur = invoice.currency
    return {
        "shipment_id": str(declared.shipment.id),
        "origin_country": declared.origin_country,
        "destination_country": declared.destination_country,
        "crosses_border": declared.crosses_border,
        "duties_terms": declared.duties_terms.value,
        "postal_form": declared.postal_form,
        "category_of_item": "sale_of_goods",
        "currency": cur,
        "items": [
            {
                "sku": line.sku,
                "description": line.description,
                "quantity": line.quantity,
                "value": money_text(value, cur),
                "weight_grams": line.weight_grams,
                "hs_code": line.hs_code,
                "origin_country": line.origin_country,
            }
            for line, value in zip(invoice.lines, invoice.line_values, strict=True)
        ],
        "total_value": money_text(invoice.total, cur),
        "total_weight_grams": invoice.weight_grams,
    }


@router.get("/{shipment_id}/commercial-invoice", response_class=Response, responses=PDF_RESPONSE)
def get_commercial_invoice(
    shipment_id: str, tenant_id: TenantId, uow: UowDep, renderer: DocumentsDep
) -> Response:
    """The commercial invoice PDF of a shipment that leaves its origin country (409 for a
    domestic one)."""
    document = customs.commercial_invoice_document(
        uow_factory=uow,
        tenant_id=tenant_id,
        shipment_id=parse_uuid(shipment_id, "shipment"),
        renderer=renderer,
    )
    return pdf_response(document.content, document.filename)
