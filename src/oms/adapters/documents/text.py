"""Text for the fulfilment PDFs: reduced to Latin-1, escaped for markup, fitted to a width.

Only the standard PDF fonts are used, and they draw Latin-1 alone: other characters lose their
accent where Unicode allows it ("Dvořák" prints "Dvorák") and are shown as "?" otherwise, so no
input can make rendering fail.
"""

from __future__ import annotations

import unicodedata
from xml.sax.saxutils import escape

from reportlab.pdfbase.pdfmetrics import stringWidth

from oms.domain.addresses import Address

__all__ = [
    "BOLD",
    "REGULAR",
    "address_lines",
    "cut",
    "markup",
    "printable",
    "wrap",
]

REGULAR, BOLD = "Helvetica", "Helvetica-Bold"
_FIELD_LIMIT = 200  # characters kept of one field: past this it is noise, and rows must fit a page


def printable(text: str | None, *, limit: int = _FIELD_LIMIT) -> str:
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


def markup(text: str | None, *, limit: int = _FIELD_LIMIT) -> str:
    """``text`` made printable and escaped for Paragraph markup."""
    return escape(printable(text, limit=limit))


def address_lines(address: Address) -> list[str]:
    """Name, company, street lines, "city region postal_code", country; blanks left out."""
    locality = " ".join(p for p in (address.city, address.region, address.postal_code) if p)
    fields = (address.name, address.company, address.line1, address.line2, locality)
    lines = [printable(field) for field in (*fields, address.country)]
    return [line for line in lines if line]


def cut(text: str, *, font: str, size: float, width: float) -> str:
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


def wrap(text: str, *, font: str, size: float, width: float, max_lines: int) -> list[str]:
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
        lines.append(cut(rest, font=font, size=size, width=width))
    return lines
