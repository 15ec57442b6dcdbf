"""What a return's emails tell of its label, and the files the approval email carries: the
label as a PDF (the 4x6 page shipments print, from the customer's address to the receiving
location) and the drop-off QR code as an inline PNG, both drawn through the
``DocumentRenderer`` port when the email is written, so a resent approval email carries the
label bought since.

A label kept before its location and weight were (or an address the label cannot print)
gets no PDF; the QR code needs only the tracking number, and encodes the carrier's drop-off
code instead when it gave one (``ReturnLabel.qr_payload``).
"""

from __future__ import annotations

import re
from dataclasses import replace

from oms.domain.orders import Order
from oms.domain.returns import ReturnLabel, ReturnRequest
from oms.services.document_renderer import DocumentRenderer, LabelDoc
from oms.services.mailer import Attachment, ReturnLabelFacts
from oms.services.ports import UnitOfWork

__all__ = ["label_attachments", "label_facts"]


def _file_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)[:60]


def label_facts(order: Order, label: ReturnLabel) -> ReturnLabelFacts:
    """The label as an email tells it: the cost only when the customer pays it."""
    return ReturnLabelFacts(
        carrier=label.carrier.replace("_", " ").title(),
        tracking_number=label.tracking_number,
        tracking_url=label.tracking_url,
        cost=label.cost if label.customer_paid else None,
        currency=order.currency,
    )


def _label_doc(uow: UnitOfWork, order: Order, request: ReturnRequest) -> LabelDoc | None:
    label = request.label
    if label is None or label.location_id is None or order.shipping_address is None:
        return None
    place = uow.locations.get(label.location_id)
    if place is None:
        return None
    try:
        return LabelDoc(
            tracking_number=label.tracking_number,
            carrier=label.carrier,
            service=label.service,
            ship_from=order.shipping_address,
            ship_to=place.sender_address(order.shipping_address.country),
            weight_grams=label.weight_grams,
            order_number=f"#{order.number}",
            package_index=1,
            package_count=1,
            ship_date=label.ship_on or request.updated_at.date(),
            reference=f"RETURN {request.id}",
        )
    except ValueError:  # a tracking number no barcode can print
        return None


def label_attachments(
    uow: UnitOfWork,
    order: Order,
    request: ReturnRequest,
    facts: ReturnLabelFacts,
    *,
    documents: DocumentRenderer,
) -> tuple[ReturnLabelFacts, tuple[Attachment, ...]]:
    """``facts`` naming the files the email carries, and the files: the label's PDF (when
    it can be drawn) and its drop-off QR code, shown inline."""
    label = request.label
    if label is None:
        return facts, ()
    files: list[Attachment] = []
    doc = _label_doc(uow, order, request)
    if doc is not None:
        files.append(
            Attachment(
                filename=f"return-label-{_file_part(label.tracking_number)}.pdf",
                content_type="application/pdf",
                data=documents.labels([doc]),
            )
        )
    cid = f"dropoff-qr.{request.id}@oms"
    files.append(
        Attachment(
            filename=f"dropoff-qr-{_file_part(label.tracking_number)}.png",
            content_type="image/png",
            data=documents.dropoff_qr(label.qr_payload),
            content_id=cid,
        )
    )
    return replace(facts, qr_cid=cid, has_pdf=doc is not None), tuple(files)
