"""Pick lists, packing slips and 4x6 shipping labels rendered to PDF bytes with reportlab.

The documents live in ``sheets`` (pick lists, packing slips) and ``label`` (shipping labels),
with the text handling both share in ``text``; this module gathers their public names so
callers can import every document from one place.
"""

from __future__ import annotations

from oms.adapters.documents.label import LABEL_SIZE, LabelDoc, render_label
from oms.adapters.documents.sheets import (
    PackingSlipDoc,
    PackingSlipLine,
    PickListDoc,
    PickListLine,
    render_packing_slip,
    render_pick_list,
)

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
