"""Small bar charts drawn on the server as SVG: the shapes' coordinates worked out here,
the markup in the templates (``portal/_bar_chart.html``). No script, no inline style (the
pages' policy allows neither): colours come from ``portal.css`` by class. Every chart is
shown next to a table of the same figures, which is what screen readers read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Bar", "BarChart", "bar_chart"]

WIDTH = 640
HEIGHT = 200
LABEL_ROOM = 36  # below the bars: the labels
VALUE_ROOM = 18  # above the tallest bar: its value
GAP = 0.25  # of each slot, left empty between bars


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float

    @property
    def middle(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class BarChart:
    """A chart's bars in a ``width`` x ``height`` viewBox; ``baseline`` is the bars' foot."""

    title: str
    bars: list[Bar]
    width: int
    height: int
    baseline: float
    label_every: int

    @property
    def total(self) -> int:
        return sum(bar.value for bar in self.bars)


def bar_chart(
    title: str, values: Sequence[tuple[str, int]], *, width: int = WIDTH, height: int = HEIGHT
) -> BarChart:
    """Bars for ``values`` (label, count), the tallest filling the chart's height; with
    many bars only every n-th label is written, so labels never overlap."""
    baseline = height - LABEL_ROOM
    room = baseline - VALUE_ROOM
    top = max((value for _, value in values), default=0)
    slot = width / max(len(values), 1)
    bars = []
    for index, (label, value) in enumerate(values):
        tall = 0.0 if top == 0 else room * max(value, 0) / top
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(index * slot + slot * GAP / 2, 2),
                y=round(baseline - tall, 2),
                width=round(slot * (1 - GAP), 2),
                height=round(tall, 2),
            )
        )
    label_every = max(1, -(-len(values) // 14))  # at most 14 labels
    return BarChart(title, bars, width, height, baseline, label_every)
