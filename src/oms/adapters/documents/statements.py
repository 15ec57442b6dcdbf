"""A 3PL's billing statement to one merchant, rendered to A4 PDF bytes.

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
from oms.adapters.documents.text import markup, printable
from oms.services.document_renderer import StatementDoc

__all__ = ["render_statement"]


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
