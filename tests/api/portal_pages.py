"""Reading the portal's pages in tests: the rows of a table (by id), the dashboard's
figures (``data-figure``), the bars of an SVG chart, the forms' actions; and a page clock
the tests move."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser

from oms.web.pages import PageClock

__all__ = ["FixedClock", "Read", "read"]


@dataclass
class Read:
    tables: dict[str, list[list[str]]] = field(default_factory=dict)  # id -> rows of cells
    row_classes: dict[str, list[str]] = field(default_factory=dict)  # id -> class of each row
    figures: dict[str, str] = field(default_factory=dict)
    bars: int = 0
    svg_titles: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # form actions, POST only
    alerts: list[str] = field(default_factory=list)
    text: str = ""


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.read = Read()
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._figure: tuple[str, list[str]] | None = None
        self._depth = 0
        self._alert: list[str] | None = None
        self._svg_title: list[str] | None = None
        self._text: list[str] = []
        self._in_svg = False
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in {"script", "style"}:
            self._skip += 1
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.read.tables[self._table] = []
            self.read.row_classes[self._table] = []
        if tag == "tr" and self._table:
            self._row = []
            self.read.row_classes[self._table].append(a.get("class", ""))
        if tag in {"td", "th"} and self._row is not None:
            self._cell = []
        if "data-figure" in a:
            self._figure = (a["data-figure"], [])
        if tag == "svg":
            self._in_svg = True
        if tag == "rect" and self._in_svg:
            self.read.bars += 1
        if tag == "title" and self._in_svg:
            self._svg_title = []
        if tag == "form" and a.get("method", "get").lower() == "post":
            self.read.actions.append(a.get("action", ""))
        if a.get("role") == "alert":
            self._alert = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip -= 1
        if tag in {"td", "th"} and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag == "tr" and self._row is not None and self._table:
            self.read.tables[self._table].append(self._row)
            self._row = None
        if tag == "table":
            self._table = None
        if tag == "dd" and self._figure:
            self.read.figures[self._figure[0]] = " ".join("".join(self._figure[1]).split())
            self._figure = None
        if tag == "svg":
            self._in_svg = False
        if tag == "title" and self._svg_title is not None:
            self.read.svg_titles.append("".join(self._svg_title).strip())
            self._svg_title = None
        if tag == "div" and self._alert is not None:
            self.read.alerts.append(" ".join("".join(self._alert).split()))
            self._alert = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        for buffer in (self._cell, self._figure[1] if self._figure else None, self._alert):
            if buffer is not None:
                buffer.append(data)
        if self._svg_title is not None:
            self._svg_title.append(data)
        self._text.append(data)


def read(html: str) -> Read:
    reader = _Reader()
    reader.feed(html)
    reader.read.text = " ".join(" ".join(reader._text).split())
    return reader.read


class FixedClock:
    """The portal's clock in a test: ``now`` is what the test sets."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2031, 3, 4, 12, 0, tzinfo=UTC)

    def page_clock(self) -> PageClock:
        now: Callable[[], datetime] = lambda: self.now  # noqa: E731
        return PageClock(now=now)
