"""A 3PL's billing statement to one merchant, and a cross-border shipment's commercial
invoice, rendered to A4 PDF bytes.

Built like the pick list and packing slip (``sheets``): the same grid, footer and text
handling, so no merchant name or category can make rendering fail, and the same document
gives the same bytes.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from oms.adapters.documents.sheets import BODY, NUMBER, TITLE, build_sheet, grid, sheet_margin
from oms.adapters.documents.text import address_lines, markup, printable
from oms.services.document_renderer import CommercialInvoiceDoc, StatementDoc

__all__ = ["render_commercial_invoice", "render_statement"]


def render_statement(doc: StatementDoc, *, page_size: tuple[float, float] = A4) -> bytes:
    """The statement: who and when, one row per priced line, the total."""
    merchant, period = printable(doc.merchant_name), printable(doc.period)
    story: list[Any] = [
        Paragraph(f"Statement {escape(period)}", TITLE),
        Paragraph(f"<b>Merchant</b> {markup(doc.merchant_name)}", BODY),
        Paragraph(f"<b>Merchant id</b> {markup(doc.merchant_id)}", BODY),
        Paragraph(f"<b>Currency</b> {markup(doc.currency)}", BODY),
        Spacer(1, 4 * mm),
    ]
    rows: list[list[Any]] = [["Item", "Quantity", "Rate", "Amount"]]
    rows += [
        [
            Paragraph(markup(line.description), BODY),
            Paragraph(markup(line.quantity), NUMBER),
            Paragraph(markup(line.rate), NUMBER),
            Paragraph(markup(line.amount), NUMBER),
        ]
        for line in doc.lines
    ]
    rows.append(
        [
            Paragraph("<b>Total</b>", BODY),
            "",
            "",
            Paragraph(f"<b>{markup(doc.total)} {markup(doc.currency)}</b>", NUMBER),
        ]
    )
    fixed = (0, 70, 60, 80)
    first = page_size[0] - 2 * sheet_margin() - sum(fixed)
    story.append(grid(rows, widths=[first, *fixed[1:]], numeric=3))
    for note in doc.notes:
        story += [Spacer(1, 3 * mm), Paragraph(markup(note, limit=500), BODY)]
    return build_sheet(
        story,
        page_size=page_size,
        title=f"Statement {period} {merchant}",
        author="oms",
        footer=f"Statement {period} \xb7 {merchant}",
    )


def render_commercial_invoice(
    doc: CommercialInvoiceDoc, *, page_size: tuple[float, float] = A4
) -> bytes:
    """The invoice: sender and receiver, one row per SKU with its HS code and origin, the
    total value, the weight and the duties terms."""
    number = printable(doc.invoice_number)
    story: list[Any] = [
        Paragraph(f"Commercial invoice {escape(number)}", TITLE),
        Paragraph(
            f"<b>Order</b> {markup(doc.order_number)} &middot; <b>Tracking</b> "
            f"{markup(doc.tracking_number)} &middot; <b>Date</b> {doc.ship_date.isoformat()}",
            BODY,
        ),
        Paragraph(
            f"<b>Terms of delivery</b> {markup(doc.duties_terms)} &middot; <b>Currency</b> "
            f"{markup(doc.currency)}",
            BODY,
        ),
        Spacer(1, 3 * mm),
        Paragraph("<b>Sender</b> " + escape(", ".join(address_lines(doc.sender))), BODY),
    ]
    if doc.receiver is not None:
        story.append(
            Paragraph("<b>Receiver</b> " + escape(", ".join(address_lines(doc.receiver))), BODY)
        )
    story.append(Spacer(1, 4 * mm))
    rows: list[list[Any]] = [["Description", "HS code", "Origin", "Qty", "Weight g", "Value"]]
    rows += [
        [
            Paragraph(f"{markup(line.description)} ({markup(line.sku)})", BODY),
            Paragraph(markup(line.hs_code) or "-", BODY),
            Paragraph(markup(line.origin_country) or "-", BODY),
            Paragraph(str(line.quantity), NUMBER),
            Paragraph(str(line.weight_grams), NUMBER),
            Paragraph(markup(line.value), NUMBER),
        ]
        for line in doc.lines
    ]
    units = sum(line.quantity for line in doc.lines)
    rows.append(
        [
            Paragraph("<b>Total</b>", BODY),
            "",
            "",
            Paragraph(f"<b>{units}</b>", NUMBER),
            Paragraph(f"<b>{doc.weight_grams}</b>", NUMBER),
            Paragraph(f"<b>{markup(doc.total)} {markup(doc.currency)}</b>", NUMBER),
        ]
    )
    fixed = (0, 65, 40, 35, 55, 80)
    first = page_size[0] - 2 * sheet_margin() - sum(fixed)
    story.append(grid(rows, widths=[first, *fixed[1:]], numeric=5))
    return build_sheet(
        story,
        page_size=page_size,
        title=f"Commercial invoice {number}",
        author="oms",
        footer=f"Commercial invoice {number}",
    )
