"""Stock-out days per SKU and location over a range (``GET /v1/analytics/stockouts``, the
portal's analytics page): the days it was out where it had demand (``oms.domain.stockouts``
holds the rule; the worker's rollup refresh flags them on its daily stock samples), with
the units routed there on its other days (the ``routed`` rollups)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from oms.domain.stockouts import StockoutSpell
from oms.services.analytics import _range
from oms.services.dashboard import DayRange
from oms.services.ports import UnitOfWorkFactory

__all__ = ["StockoutReport", "stockouts"]


@dataclass(frozen=True)
class StockoutReport:
    days: DayRange
    spells: list[StockoutSpell]
    codes: dict[UUID, str]


def stockouts(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID | None,
    first: date | None,
    last: date | None,
    now: datetime,
) -> StockoutReport:
    """Per SKU and location: stock-out days over the range (default the last 30 days), the
    first and last of them, the demand per in-stock day and the units lost at that rate."""
    days = _range(first, last, now)
    with uow_factory(readonly=True) as uow:
        found = uow.analytics.stockout_spells(tenant_id, days.first, days.last)
        codes: dict[UUID, str] = {}
        for location_id in {s.location for s in found}:
            assert isinstance(location_id, UUID)
            location = uow.locations.get(location_id)
            codes[location_id] = location.code if location else str(location_id)
    return StockoutReport(days=days, spells=found, codes=codes)
