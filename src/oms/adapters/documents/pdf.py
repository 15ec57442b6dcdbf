"""Pick lists, packing slips and 4x6 shipping labels rendered to PDF bytes with reportlab.

Inputs are plain frozen dataclasses the caller fills in. Only the standard PDF fonts are used,
and they draw Latin-1 alone: other characters lose their accent where Unicode allows it
("Dvořák" prints "Dvorák") and are shown as "?" otherwise, so no input can make rendering
fail. Output is deterministic: the same document gives the same bytes.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_UP, Decimal
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.code128 import Code128
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch, mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from oms.domain.addresses import Address

__all__ = [
    "LABEL_SIZE",
    "LabelDoc",
    "PackingSlipDoc",
    "PackingSlipLine",
    "PickListDoc",
    "PickListLine",
    "render_label",
    "render_packing_slip",
    "render_pick_list",
]

LABEL_SIZE: tuple[float, float] = (4 * inch, 6 * inch)

_REGULAR, _BOLD = "Helvetica", "Helvetica-Bold"
_FIELD_LIMIT = 200  # characters kept of one field: past this it is noise, and rows must fit a page
_NOTE_LIMIT = 1000
_REFERENCES_LIMIT = 240
_MARGIN = 15 * mm

_BODY = ParagraphStyle("oms-body", fontName=_REGULAR, fontSize=9, leading=11)
_HEAD = ParagraphStyle("oms-head", parent=_BODY, fontName=_BOLD)
_NUMBER = ParagraphStyle("oms-number", parent=_BODY, alignment=TA_RIGHT)
_TITLE = ParagraphStyle("oms-title", fontName=_BOLD, fontSize=16, leading=20, spaceAfter=4)


@dataclass(frozen=True)
class PickListLine:
    """Units of one SKU to take from one bin, for the fulfilment orders named (e.g. "#1042")."""

    bin: str | None
    sku: str
    name: str
    quantity: int
    fulfillment_orders: tuple[str, ...]


@dataclass(frozen=True)
class PickListDoc:
    """A wave's pick list at one location; ``lines`` are printed in the order given."""

    wave_id: str
    location_code: str
    location_name: str
    created_at: datetime
    lines: Sequence[PickListLine]
    tenant_name: str | None = None


@dataclass(frozen=True)
class PackingSlipLine:
    """Units of one SKU in the parcel."""

    sku: str
    name: str
    quantity: int


@dataclass(frozen=True)
class PackingSlipDoc:
    """The slip packed with one fulfilment order; ``ship_to`` is None when nothing is shipped."""

    order_number: str
    fulfillment_order_id: str
    ship_from: Address
    ship_to: Address | None
    lines: Sequence[PackingSlipLine]
    packages: int
    created_at: datetime
    note: str | None = None
    merchant_name: str | None = None


@dataclass(frozen=True)
class LabelDoc:
    """One package's shipping label; ``package_index`` counts from 1."""

    tracking_number: str
    carrier: str
    service: str
    ship_from: Address
    ship_to: Address
    weight_grams: int
    order_number: str
    package_index: int
    package_count: int
    ship_date: date
    reference: str | None = None

    def __post_init__(self) -> None:
        if not self.tracking_number or not (
            self.tracking_number.isascii() and self.tracking_number.isprintable()
        ):
            raise ValueError(f"a barcode needs printable ASCII, not {self.tracking_number!r}")
        if not 1 <= self.package_index <= self.package_count:
            raise ValueError(f"package {self.package_index} of {self.package_count}")
        if self.weight_grams < 0:
            raise ValueError(f"negative weight {self.weight_grams} g")


# --- text ------------------------------------------------------------------------------------


def _printable(text: str | None, *, limit: int = _FIELD_LIMIT) -> str:
    """``text`` on one line, in characters the standard fonts draw, cut to ``limit``."""
    if not text:
        return ""
    kept: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        category = unicodedata.category(char)
        if category[0] == "Z" or category == "Cc":
            kept.append(" ")
        elif category[0] in "CM":  # format marks (bidi, zero width), stray accents, unassigned
            continue
        elif ord(char) < 0x100:
            kept.append(char)
        else:
            decomposed = unicodedata.normalize("NFKD", char)
            latin_base = "".join(c for c in decomposed if ord(c) < 0x100 and c.isprintable())
            kept.append(latin_base.strip() or "?")
    line = " ".join("".join(kept).split())
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


def _markup(text: str | None, *, limit: int = _FIELD_LIMIT) -> str:
    """``text`` made printable and escaped for Paragraph markup."""
    return escape(_printable(text, limit=limit))


def _when(moment: datetime) -> str:
    zone = moment.tzname()
    return moment.strftime("%Y-%m-%d %H:%M") + (f" {_printable(zone)}" if zone else "")


def _address_lines(address: Address) -> list[str]:
    """Name, company, street lines, "city region postal_code", country; blanks left out."""
    locality = " ".join(p for p in (address.city, address.region, address.postal_code) if p)
    fields = (address.name, address.company, address.line1, address.line2, locality)
    lines = [_printable(field) for field in (*fields, address.country)]
    return [line for line in lines if line]


def _cut(text: str, *, font: str, size: float, width: float) -> str:
    """``text`` shortened with "..." until it is at most ``width`` wide."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "...", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "..."


def _fitting(text: str, *, font: str, size: float, width: float) -> int:
    """How many leading characters of ``text`` fit in ``width``; at least one."""
    count = 1
    while count < len(text) and stringWidth(text[: count + 1], font, size) <= width:
        count += 1
    return count


def _wrap(text: str, *, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """``text`` in at most ``max_lines`` lines, broken at spaces when it can be; what does not
    fit is cut with "..." on the last line."""
    lines: list[str] = []
    rest = text.strip()
    while rest and len(lines) < max_lines - 1 and stringWidth(rest, font, size) > width:
        fits = _fitting(rest, font=font, size=size, width=width)
        space = rest.rfind(" ", 0, fits + 1)
        end = space if space > 0 else fits
        lines.append(rest[:end].rstrip())
        rest = rest[end:].lstrip()
    if rest:
        lines.append(_cut(rest, font=font, size=size, width=width))
    return lines


def _references(references: Sequence[str]) -> str:
    """The fulfilment orders a pick is for, as many as fit, then "+N more"."""
    shown: list[str] = []
    used = 0
    for reference in references:
        text = _printable(reference, limit=40)
        if shown and used + len(text) > _REFERENCES_LIMIT:
            break
        shown.append(text)
        used += len(text) + 2
    hidden = len(references) - len(shown)
    return ", ".join(shown) + (f" +{hidden} more" if hidden else "")


# --- pick lists and packing slips ------------------------------------------------------------


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
                ("FONT", (0, 0), (-1, 0), _BOLD, 9),
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
        canvas.setFont(_REGULAR, 8)
        canvas.drawString(_MARGIN, 10 * mm, _cut(text, font=_REGULAR, size=8, width=width / 2))
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


def render_pick_list(doc: PickListDoc, *, page_size: tuple[float, float] = A4) -> bytes:
    """The wave's pick list: one row per line with a tick box, the header row on every page."""
    wave, location = _printable(doc.wave_id), _printable(doc.location_code)
    units = sum(line.quantity for line in doc.lines)
    story: list[Any] = [
        Paragraph(f"Pick list {escape(wave)}", _TITLE),
        Paragraph(f"<b>Location</b> {escape(location)} {_markup(doc.location_name)}", _BODY),
        Paragraph(f"<b>Created</b> {escape(_when(doc.created_at))}", _BODY),
        Paragraph(f"<b>Lines</b> {len(doc.lines)} &middot; <b>Units</b> {units}", _BODY),
        Spacer(1, 4 * mm),
    ]
    rows: list[list[Any]] = [["", "Bin", "SKU", "Name", "Qty", "For"]]
    rows += [
        [
            _checkbox(),
            Paragraph(_markup(line.bin) or "-", _BODY),
            Paragraph(_markup(line.sku), _BODY),
            Paragraph(_markup(line.name), _BODY),
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
        author=_printable(doc.tenant_name) or "oms",
        footer=f"Pick list {wave} \xb7 {location}",
    )


def render_packing_slip(doc: PackingSlipDoc, *, page_size: tuple[float, float] = A4) -> bytes:
    """The slip for one fulfilment order: addresses, what is in the parcel, the customer's note."""
    order = _printable(doc.order_number)
    merchant = _printable(doc.merchant_name)
    story: list[Any] = []
    if merchant:
        story.append(Paragraph(escape(merchant), _HEAD))
    story += [
        Paragraph(f"Packing slip {escape(order)}", _TITLE),
        Paragraph(f"<b>Fulfilment order</b> {_markup(doc.fulfillment_order_id)}", _BODY),
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
            [Paragraph("<br/>".join(map(escape, _address_lines(a))), _BODY) for _, a in shown],
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
            Paragraph(_markup(line.sku), _BODY),
            Paragraph(_markup(line.name), _BODY),
            Paragraph(str(line.quantity), _NUMBER),
        ]
        for line in doc.lines
    ]
    units = sum(line.quantity for line in doc.lines)
    rows.append(["", Paragraph("<b>Total units</b>", _BODY), Paragraph(f"<b>{units}</b>", _NUMBER)])
    widths = (110, page_size[0] - 2 * _MARGIN - 150, 40)
    story.append(_grid(rows, widths=widths, numeric=2))
    if doc.note and _printable(doc.note):
        story += [
            Spacer(1, 6 * mm),
            Paragraph("Note", _HEAD),
            Paragraph(_markup(doc.note, limit=_NOTE_LIMIT), _BODY),
        ]
    return _build(
        story,
        page_size=page_size,
        title=f"Packing slip {order}",
        author=merchant or "oms",
        footer=f"Packing slip {order}",
    )


# --- shipping labels -------------------------------------------------------------------------


def _kilograms(grams: int) -> str:
    # Rounded up: a carrier re-weighs parcels and bills the difference when one is under-declared.
    return f"{(Decimal(grams) / 1000).quantize(Decimal('0.01'), rounding=ROUND_UP)} kg"


def _address_block(
    address: Address, *, font: str, size: float, width: float, max_lines: int
) -> list[str]:
    """Address lines fitted to ``width``: one line per field, and a second for the first fields
    that need one while the block has lines to spare."""
    fields = _address_lines(address)[:max_lines]
    spare = max_lines - len(fields)
    lines: list[str] = []
    for field in fields:
        allowed = 2 if spare and stringWidth(field, font, size) > width else 1
        spare -= allowed - 1
        lines += _wrap(field, font=font, size=size, width=width, max_lines=allowed)
    return lines


def _draw_lines(
    canvas: Canvas,
    lines: Sequence[str],
    *,
    x: float,
    top: float,
    font: str,
    size: float,
    leading: float,
) -> None:
    canvas.setFont(font, size)
    for number, line in enumerate(lines):
        canvas.drawString(x, top - size - number * leading, line)


def _draw_caption(canvas: Canvas, text: str, *, x: float, y: float, right: bool = False) -> None:
    canvas.setFont(_BOLD, 6)
    (canvas.drawRightString if right else canvas.drawString)(x, y, text)


def render_label(doc: LabelDoc) -> bytes:
    """One 4x6 inch page: addresses, carrier banner, the tracking number as a Code 128 barcode."""
    width, height = LABEL_SIZE
    left, right, inner = 10.0, width - 10.0, width - 20.0
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LABEL_SIZE, invariant=1, pageCompression=1)
    canvas.setTitle(f"Shipping label {doc.tracking_number}")
    canvas.setAuthor("oms")
    canvas.setCreator("oms")
    canvas.setSubject(f"Order {_printable(doc.order_number)}")

    # Ship from (small, top left) beside ship date and weight.
    _draw_caption(canvas, "FROM", x=left, y=height - 16)
    sender = _address_block(doc.ship_from, font=_REGULAR, size=7, width=170, max_lines=7)
    _draw_lines(canvas, sender, x=left, top=height - 18, font=_REGULAR, size=7, leading=8.5)
    for caption, value, y in (
        ("SHIP DATE", doc.ship_date.isoformat(), 416),
        ("WEIGHT", _kilograms(doc.weight_grams), 390),
    ):
        _draw_caption(canvas, caption, x=right, y=y, right=True)
        canvas.setFont(_BOLD, 10)
        canvas.drawRightString(right, y - 12, value)
    canvas.setLineWidth(1)
    canvas.line(left, 350, right, 350)

    # Ship to, the biggest text on the label.
    _draw_caption(canvas, "SHIP TO", x=left, y=340)
    recipient = _address_block(doc.ship_to, font=_BOLD, size=12, width=inner - 8, max_lines=8)
    _draw_lines(canvas, recipient, x=left + 8, top=334, font=_BOLD, size=12, leading=14)
    canvas.line(left, 216, right, 216)

    # Carrier and service, white on black.
    canvas.rect(left, 186, inner, 24, stroke=0, fill=1)
    canvas.setFillColor(colors.white)
    banner = _printable(f"{doc.carrier} {doc.service}".upper())
    canvas.setFont(_BOLD, 14)
    canvas.drawCentredString(width / 2, 193, _cut(banner, font=_BOLD, size=14, width=inner - 8))
    canvas.setFillColor(colors.black)

    # Barcode, narrowed to fit long tracking numbers, with the number printed under it.
    modules = Code128(doc.tracking_number, barWidth=1, quiet=0).width
    bar_width = min(1.4, inner / (modules + 20))  # leaves the 10-module quiet zone scanners need
    barcode = Code128(
        doc.tracking_number, barWidth=bar_width, barHeight=70, quiet=0, humanReadable=0
    )
    barcode.drawOn(canvas, (width - barcode.width) / 2, 106)
    digits_size = min(11.0, inner / stringWidth(doc.tracking_number, _REGULAR, 1))
    canvas.setFont(_REGULAR, digits_size)
    canvas.drawCentredString(width / 2, 92, doc.tracking_number)
    canvas.line(left, 84, right, 84)

    # Order, reference and which package of the shipment this is.
    _draw_caption(canvas, "ORDER", x=left, y=72)
    canvas.setFont(_BOLD, 12)
    canvas.drawString(left, 58, _cut(_printable(doc.order_number), font=_BOLD, size=12, width=170))
    if reference := _printable(doc.reference):
        canvas.setFont(_REGULAR, 8)
        canvas.drawString(left, 44, _cut(f"REF {reference}", font=_REGULAR, size=8, width=170))
    _draw_caption(canvas, "PACKAGE", x=right, y=72, right=True)
    canvas.setFont(_BOLD, 18)
    canvas.drawRightString(right, 52, f"{doc.package_index} of {doc.package_count}")

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
