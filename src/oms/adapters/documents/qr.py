"""A return label's drop-off QR code as PNG bytes, drawn with segno (pure Python: no
download, no native library).

Error correction level M (15 % of the symbol may be lost: a phone screen with a crack or
glare still scans) and the standard four-module quiet zone; eight pixels a module, so a
tracking number's code is a few hundred pixels wide, sharp on any screen. Deterministic:
the same payload gives the same bytes.
"""

from __future__ import annotations

import io

import segno

__all__ = ["QR_BORDER", "QR_SCALE", "render_qr_png"]

QR_SCALE = 8  # pixels a module
QR_BORDER = 4  # modules of quiet zone, as ISO/IEC 18004 asks


def _code(payload: str) -> segno.QRCode:
    if not payload:
        raise ValueError("a QR code needs something to encode")
    # Never a Micro QR: phones' camera apps do not read them.
    return segno.make_qr(payload, error="m", boost_error=False)


def render_qr_png(payload: str) -> bytes:
    """The QR code of ``payload`` as a black-on-white PNG."""
    out = io.BytesIO()
    _code(payload).save(out, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return out.getvalue()
