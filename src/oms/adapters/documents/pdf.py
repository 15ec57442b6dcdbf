"""Pick lists, packing slips and 4x6 shipping labels rendered to PDF bytes with reportlab
(and drop-off QR codes to PNG with segno, in ``qr``).

The documents live in ``sheets`` (pick lists, packing slips) and ``label`` (shipping labels),
with the text handling both share in ``text``; ``PdfRenderer`` draws them all for the use
cases, as the port ``oms.services.document_renderer.DocumentRenderer`` asks.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from pypdf import PdfReader, PdfWriter

from oms.adapters.documents.label import LABEL_SIZE, render_label
from oms.adapters.documents.qr import render_qr_png
from oms.adapters.documents.sheets import render_packing_slip, render_pick_list
from oms.adapters.documents.statements import render_commercial_invoice, render_statement
from oms.services.document_renderer import (
    CommercialInvoiceDoc,
    LabelDoc,
    PackingSlipDoc,
    PickListDoc,
    StatementDoc,
)

__all__ = [
    "LABEL_SIZE",
    "PdfRenderer",
    "render_label",
    "render_packing_slip",
    "render_pick_list",
]


class PdfRenderer:
    """The warehouse's documents as PDF (A4 sheets, 4x6 inch labels)."""

    def pick_list(self, doc: PickListDoc) -> bytes:
        return render_pick_list(doc)

    def packing_slip(self, doc: PackingSlipDoc) -> bytes:
        return render_packing_slip(doc)

    def labels(self, docs: Sequence[LabelDoc]) -> bytes:
        writer = PdfWriter()
        for doc in docs:
            for page in PdfReader(io.BytesIO(render_label(doc))).pages:
                writer.add_page(page)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    def statement(self, doc: StatementDoc) -> bytes:
        return render_statement(doc)

    def commercial_invoice(self, doc: CommercialInvoiceDoc) -> bytes:
        return render_commercial_invoice(doc)

    def dropoff_qr(self, payload: str) -> bytes:
        return render_qr_png(payload)
