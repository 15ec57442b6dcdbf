"""Pick lists for a wave and packing slips for a fulfilment order, rendered to PDF bytes.

Inputs are the plain frozen dataclasses of ``oms.services.document_renderer``; text goes
through ``text`` so no input can make rendering fail. Output is deterministic: the same
document gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from oms.adapters.documents.text import BOLD, REGULAR, address_lines, cut, markup, printable
from oms.services.document_renderer import PackingSlipDoc, PickListDoc

__all__ = [
    "BODY",
    "NUMBER",
    "TITLE",
    "build_sheet",
    "grid",
    "render_packing_slip",
    "render_pick_list",
    "sheet_margin",
]

_NOTE_LIMIT = 1000
_REFERENCES_LIMIT = 240
_MARGIN = 15 * mm

_BODY = ParagraphStyle("oms-body", fontName=REGULAR, fontSize=9, leading=11)
_HEAD = ParagraphStyle("oms-head", parent=_BODY, fontName=BOLD)
_NUMBER = ParagraphStyle("oms-number", parent=_BODY, alignment=TA_RIGHT)
_TITLE = ParagraphStyle("oms-title", fontName=BOLD, fontSize=16, leading=20, spaceAfter=4)


def _when(moment: datetime) -> str:
    zone = moment.tzname()
    return moment.strftime("%Y-%m-%d %H:%M") + (f" {printable(zone)}" if zone else "")


def _references(references: Sequence[str]) -> str:
    """The fulfilment orders a pick is for, as many as fit, then "+N more"."""
    shown: list[str] = []
    used = 0
    for reference in references:
        text = printable(reference, limit=40)
        if shown and used + len(text) > _REFERENCES_LIMIT:
            break
        shown.append(text)
        used += len(text) + 2
    hidden = len(references) - len(shown)
    return ", ".join(shown) + (f" +{hidden} more" if hidden else "")


def _checkbox(size: float = 9) -> Drawing:
    """An empty square for the picker to tick."""
    box = Rect(0, 0, size, size)
    box.fillColor = None
    box.strokeWidth = 0.8
    return Drawing(size, size, box)


def _grid(rows: list[list[Any]], *, widths: Sequence[float], numeric: int) -> Table:
    """A table whose first row is the header, repeated on every page."""
    table = Table(rows, colWidths=list(widths), repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), BOLD, 9),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (numeric, 0), (numeric, 0), "RIGHT"),
            ]
        )
    )
    return table


def _footer(text: str) -> Callable[[Canvas, Any], None]:
    """A page callback printing ``text`` and the page number at the foot of every page."""

    def draw(canvas: Canvas, template: Any) -> None:
        width = template.pagesize[0]
        canvas.saveState()
        canvas.setFont(REGULAR, 8)
        canvas.drawString(_MARGIN, 10 * mm, cut(text, font=REGULAR, size=8, width=width / 2))
        canvas.drawRightString(width - _MARGIN, 10 * mm, f"Page {canvas.getPageNumber()}")
        canvas.restoreState()

    return draw


def _build(
    story: list[Any], *, page_size: tuple[float, float], title: str, author: str, footer: str
) -> bytes:
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=page_size,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN + 5 * mm,
        title=title,
        author=author,
        creator="oms",
        invariant=1,
    )
    on_page = _footer(footer)
    template.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


# The sheet's parts other documents of this package are built from (billing statements,
# commercial invoices).
BODY, NUMBER, TITLE = _BODY, _NUMBER, _TITLE


def grid(rows: list[list[Any]], *, widths: Sequence[float], numeric: int) -> Table:
    """A table whose header row repeats on every page; column ``numeric`` is right-aligned."""
    return _grid(rows, widths=widths, numeric=numeric)


def build_sheet(
    story: list[Any], *, page_size: tuple[float, float], title: str, author: str, footer: str
) -> bytes:
    """The PDF bytes of ``story`` with the sheets' margins, metadata and footer."""
    return _build(story, page_size=page_size, title=title, author=author, footer=footer)


def sheet_margin() -> float:
    return _MARGIN


def render_pick_list(doc: PickListDoc, *, page_size: tuple[float, float] = A4) -> bytes:
    """The wave's pick list: one row per line with a tick box, the header row on every page."""
    wave, location = printable(doc.wave_id), printable(doc.location_code)
    units = sum(line.quantity for line in doc.lines)
    story: list[Any] = [
        Paragraph(f"Pick list {escape(wave)}", _TITLE),
        Paragraph(f"<b>Location</b> {escape(location)} {markup(doc.location_name)}", _BODY),
        Paragraph(f"<b>Created</b> {escape(_when(doc.created_at))}", _BODY),
        Paragraph(f"<b>Lines</b> {len(doc.lines)} &middot; <b>Units</b> {units}", _BODY),
        Spacer(1, 4 * mm),
    ]
    rows: list[list[Any]] = [["", "Bin", "SKU", "Name", "Qty", "For"]]
    rows += [
        [
            _checkbox(),
            Paragraph(markup(line.bin) or "-", _BODY),
            Paragraph(markup(line.sku), _BODY),
            Paragraph(markup(line.name), _BODY),
            Paragraph(str(line.quantity), _NUMBER),
            Paragraph(escape(_references(line.fulfillment_orders)), _BODY),
        ]
        for line in doc.lines
    ]
    fixed = (16, 60, 95, 0, 32, 110)
    name_width = page_size[0] - 2 * _MARGIN - sum(fixed)
    widths = [name_width if width == 0 else width for width in fixed]
    story.append(_grid(rows, widths=widths, numeric=4))
    return _build(
        story,
        page_size=page_size,
        title=f"Pick list {wave}",
        author=printable(doc.tenant_name) or "oms",
        footer=f"Pick list {wave} \xb7 {location}",
    )


def render_packing_slip(doc: PackingSlipDoc, *, page_size: tuple[float, float] = A4) -> bytes:
    """The slip for one fulfilment order: addresses, what is in the parcel, the customer's note."""
    order = printable(doc.order_number)
    merchant = printable(doc.merchant_name)
    story: list[Any] = []
    if merchant:
        story.append(Paragraph(escape(merchant), _HEAD))
    story += [
        Paragraph(f"Packing slip {escape(order)}", _TITLE),
        Paragraph(f"<b>Fulfilment order</b> {markup(doc.fulfillment_order_id)}", _BODY),
        Paragraph(f"<b>Date</b> {escape(_when(doc.created_at))}", _BODY),
        Paragraph(f"<b>Packages</b> {doc.packages}", _BODY),
        Spacer(1, 4 * mm),
    ]
    blocks = [("Ship from", doc.ship_from), ("Ship to", doc.ship_to)]
    shown = [(heading, address) for heading, address in blocks if address is not None]
    half = (page_size[0] - 2 * _MARGIN) / 2
    addresses = Table(
        [
            [Paragraph(heading, _HEAD) for heading, _ in shown],
            [Paragraph("<br/>".join(map(escape, address_lines(a))), _BODY) for _, a in shown],
        ],
        colWidths=[half] * len(shown),
        hAlign="LEFT",
    )
    addresses.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    )
    story += [addresses, Spacer(1, 6 * mm)]
    rows: list[list[Any]] = [["SKU", "Name", "Qty"]]
    rows += [
        [
            Paragraph(markup(line.sku), _BODY),
            Paragraph(markup(line.name), _BODY),
            Paragraph(str(line.quantity), _NUMBER),
        ]
        for line in doc.lines
    ]
    units = sum(line.quantity for line in doc.lines)
    rows.append(["", Paragraph("<b>Total units</b>", _BODY), Paragraph(f"<b>{units}</b>", _NUMBER)])
    widths = (110, page_size[0] - 2 * _MARGIN - 150, 40)
    story.append(_grid(rows, widths=widths, numeric=2))
    if doc.note and printable(doc.note):
        story += [
            Spacer(1, 6 * mm),
            Paragraph("Note", _HEAD),
            Paragraph(markup(doc.note, limit=_NOTE_LIMIT), _BODY),
        ]
    return _build(
        story,
        page_size=page_size,
        title=f"Packing slip {order}",
        author=merchant or "oms",
        footer=f"Packing slip {order}",
    )
