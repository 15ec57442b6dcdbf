"""Which answer a request wants, HTML or JSON, from its ``Accept`` header (RFC 9110 §12.5.1).

Each of ``text/html`` and ``application/json`` gets the quality of the most specific range
that matches it (``text/html`` over ``text/*`` over ``*/*``); the higher quality wins, then
the more specific match, then HTML. So browsers (``text/html,...,*/*;q=0.8``), a bare
``*/*`` and no header at all get the page; ``application/json`` gets JSON, and so do
clients that name JSON beside a wildcard (``application/json, text/plain, */*``).
"""

from __future__ import annotations

__all__ = ["prefers_html"]


def _ranges(accept: str) -> list[tuple[str, str, float]]:
    found = []
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if "/" not in media:
            continue
        kind, _, sub = media.lower().partition("/")
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = min(1.0, max(0.0, float(value)))
                except ValueError:
                    quality = 0.0
        found.append((kind, sub, quality))
    return found


def _preference(ranges: list[tuple[str, str, float]], kind: str, sub: str) -> tuple[float, int]:
    """(quality, specificity) of the most specific range matching ``kind/sub``."""
    best: tuple[int, float] | None = None
    for r_kind, r_sub, quality in ranges:
        if (r_kind, r_sub) == (kind, sub):
            specificity = 2
        elif (r_kind, r_sub) == (kind, "*"):
            specificity = 1
        elif (r_kind, r_sub) == ("*", "*"):
            specificity = 0
        else:
            continue
        if best is None or specificity > best[0]:
            best = (specificity, quality)
    return (0.0, -1) if best is None else (best[1], best[0])


def prefers_html(accept: str | None) -> bool:
    """True when the page suits the request better than JSON (see the module docstring)."""
    if not accept or not accept.strip():
        return True
    ranges = _ranges(accept)
    html = _preference(ranges, "text", "html")
    json = _preference(ranges, "application", "json")
    if json[0] == 0:
        return True
    return html[0] > 0 and html >= json
