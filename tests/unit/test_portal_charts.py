"""The portal's SVG bar charts (coordinates worked out on the server) and the low-stock
rule of the stock page."""

from __future__ import annotations

from uuid import uuid4

from oms.domain.catalogue import Location, LocationKind
from oms.services.inventory import LocationStock
from oms.web.portal.charts import LABEL_ROOM, VALUE_ROOM, bar_chart
from oms.web.portal.inventory import is_low


def test_the_tallest_bar_fills_the_chart_and_the_others_are_in_proportion() -> None:
    chart = bar_chart("Orders", [("a", 10), ("b", 5), ("c", 0)], width=300, height=200)

    tall, half, empty = chart.bars
    room = 200 - LABEL_ROOM - VALUE_ROOM
    assert tall.height == room
    assert half.height == room / 2
    assert empty.height == 0
    assert {bar.y + bar.height for bar in chart.bars} == {chart.baseline}
    assert tall.x < half.x < empty.x
    assert all(bar.x + bar.width <= 300 for bar in chart.bars)
    assert chart.total == 15


def test_a_chart_of_nothing_has_flat_bars() -> None:
    chart = bar_chart("Orders", [("a", 0), ("b", 0)])

    assert [bar.height for bar in chart.bars] == [0, 0]
    assert bar_chart("Orders", []).bars == []


def test_a_long_range_writes_only_some_labels() -> None:
    days = [(f"day {n}", n) for n in range(31)]

    assert bar_chart("Orders", days).label_every == 3
    assert bar_chart("Orders", days[:7]).label_every == 1


def _stock(available: int, safety: int) -> LocationStock:
    where = Location(id=uuid4(), code="WH", name="WH", kind=LocationKind.WAREHOUSE)
    return LocationStock(
        where, available, on_hand=available + safety, reserved=0, safety_stock=safety
    )


def test_stock_is_low_when_available_is_at_or_below_the_safety_stock() -> None:
    assert is_low(_stock(available=5, safety=5))
    assert is_low(_stock(available=0, safety=0))
    assert not is_low(_stock(available=6, safety=5))
