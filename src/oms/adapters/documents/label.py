"""4x6 inch shipping labels rendered to PDF bytes, the tracking number as a Code 128 barcode.

The input is ``oms.services.document_renderer.LabelDoc``, a plain frozen dataclass; text
goes through ``text`` so no input can make rendering fail. Output is deterministic: the
same label gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import ROUND_UP, Decimal

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib import colors
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from oms.adapters.documents.text import BOLD, REGULAR, address_lines, cut, printable, wrap
from oms.domain.addresses import Address
from oms.services.document_renderer import LabelDoc

__all__ = ["LABEL_SIZE", "render_label"]

LABEL_SIZE: tuple[float, float] = (4 * inch, 6 * inch)


def _kilograms(grams: int) -> str:
    # Rounded up: a carrier re-weighs parcels and bills the difference when one is under-declared.
    return f"{(Decimal(grams) / 1000).quantize(Decimal('0.01'), rounding=ROUND_UP)} kg"


def _address_block(
    address: Address, *, font: str, size: float, width: float, max_lines: int
) -> list[str]:
    """Address lines fitted to ``width``: one line per field, and a second for the first fields
    that need one while the block has lines to spare."""
    fields = address_lines(address)[:max_lines]
    spare = max_lines - len(fields)
    lines: list[str] = []
    for field in fields:
        allowed = 2 if spare and stringWidth(field, font, size) > width else 1
        spare -= allowed - 1
        lines += wrap(field, font=font, size=size, width=width, max_lines=allowed)
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
    canvas.setFont(BOLD, 6)
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
    canvas.setSubject(f"Order {printable(doc.order_number)}")

    # Ship from (small, top left) beside ship date and weight.
    _draw_caption(canvas, "FROM", x=left, y=height - 16)
    sender = _address_block(doc.ship_from, font=REGULAR, size=7, width=170, max_lines=7)
    _draw_lines(canvas, sender, x=left, top=height - 18, font=REGULAR, size=7, leading=8.5)
    for caption, value, y in (
        ("SHIP DATE", doc.ship_date.isoformat(), 416),
        ("WEIGHT", _kilograms(doc.weight_grams), 390),
    ):
        _draw_caption(canvas, caption, x=right, y=y, right=True)
        canvas.setFont(BOLD, 10)
        canvas.drawRightString(right, y - 12, value)
    canvas.setLineWidth(1)
    canvas.line(left, 350, right, 350)

    # Ship to, the biggest text on the label.
    _draw_caption(canvas, "SHIP TO", x=left, y=340)
    recipient = _address_block(doc.ship_to, font=BOLD, size=12, width=inner - 8, max_lines=8)
    _draw_lines(canvas, recipient, x=left + 8, top=334, font=BOLD, size=12, leading=14)
    canvas.line(left, 216, right, 216)

    # Carrier and service, white on black.
    canvas.rect(left, 186, inner, 24, stroke=0, fill=1)
    canvas.setFillColor(colors.white)
    banner = printable(f"{doc.carrier} {doc.service}".upper())
    canvas.setFont(BOLD, 14)
    canvas.drawCentredString(width / 2, 193, cut(banner, font=BOLD, size=14, width=inner - 8))
    canvas.setFillColor(colors.black)

    # Barcode, narrowed to fit long tracking numbers, with the number printed under it.
    modules = Code128(doc.tracking_number, barWidth=1, quiet=0).width
    bar_width = min(1.4, inner / (modules + 20))  # leaves the 10-module quiet zone scanners need
    barcode = Code128(
        doc.tracking_number, barWidth=bar_width, barHeight=70, quiet=0, humanReadable=0
    )
    barcode.drawOn(canvas, (width - barcode.width) / 2, 106)
    digits_size = min(11.0, inner / stringWidth(doc.tracking_number, REGULAR, 1))
    canvas.setFont(REGULAR, digits_size)
    canvas.drawCentredString(width / 2, 92, doc.tracking_number)
    canvas.line(left, 84, right, 84)

    # Order, reference and which package of the shipment this is.
    _draw_caption(canvas, "ORDER", x=left, y=72)
    canvas.setFont(BOLD, 12)
    canvas.drawString(left, 58, cut(printable(doc.order_number), font=BOLD, size=12, width=170))
    if reference := printable(doc.reference):
        canvas.setFont(REGULAR, 8)
        canvas.drawString(left, 44, cut(f"REF {reference}", font=REGULAR, size=8, width=170))
    _draw_caption(canvas, "PACKAGE", x=right, y=72, right=True)
    canvas.setFont(BOLD, 18)
    canvas.drawRightString(right, 52, f"{doc.package_index} of {doc.package_count}")

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
