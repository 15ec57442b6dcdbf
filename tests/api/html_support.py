"""Reading a served HTML page the way a test needs to (stdlib ``html.parser``): its visible
text, headings, links, landmarks, form fields with their labels, and every URL it loads."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["Page", "parse_page"]

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
_LANDMARKS = {"header", "main", "footer", "nav", "aside"}
_HEADINGS = {"h1", "h2", "h3", "h4"}


@dataclass
class Page:
    lang: str | None = None
    title: str = ""
    text: str = ""
    headings: dict[str, list[str]] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, text)
    landmarks: list[str] = field(default_factory=list)
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> attributes
    labels: dict[str, str] = field(default_factory=dict)  # for -> text
    loads: list[str] = field(default_factory=list)  # src/href of img, script, link, iframe
    scripts: int = 0
    alerts: list[str] = field(default_factory=list)
    forms: list[dict[str, str]] = field(default_factory=list)

    def h(self, level: str) -> list[str]:
        return self.headings.get(level, [])


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._stack: list[tuple[str, dict[str, str]]] = []
        self._buffers: list[list[str]] = []  # text of the open heading/link/label/alert
        self._text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.page.lang = a.get("lang")
        if tag in _LANDMARKS:
            self.page.landmarks.append(tag)
        if tag in {"img", "script", "iframe", "link"} and (a.get("src") or a.get("href")):
            self.page.loads.append(a.get("src") or a.get("href") or "")
        if tag == "script":
            self.page.scripts += 1
        if tag in {"script", "style", "title"}:
            self._skip += 1
        if tag == "input":
            self.page.inputs[a.get("id", a.get("name", ""))] = a
        if tag == "form":
            self.page.forms.append(a)
        if tag in _VOID:
            return
        self._stack.append((tag, a))
        if tag in _HEADINGS | {"a", "label", "title"} or a.get("role") == "alert":
            self._buffers.append([])

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            open_tag, a = self._stack.pop()
            if open_tag in {"script", "style", "title"}:
                self._skip -= 1
            if open_tag in _HEADINGS | {"a", "label", "title"} or a.get("role") == "alert":
                text = " ".join("".join(self._buffers.pop()).split())
                if open_tag in _HEADINGS:
                    self.page.headings.setdefault(open_tag, []).append(text)
                elif open_tag == "a":
                    self.page.links.append((a.get("href", ""), text))
                elif open_tag == "label":
                    self.page.labels[a.get("for", "")] = text
                elif open_tag == "title":
                    self.page.title = text
                else:
                    self.page.alerts.append(text)
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for buffer in self._buffers:
            buffer.append(data)
        if not self._skip:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        self.page.text = " ".join(" ".join(self._text).split())


def parse_page(html: str) -> Page:
    """The page ``html`` describes."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.page
