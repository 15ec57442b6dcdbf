"""Stock-out days per SKU and location over a range (``GET /v1/analytics/stockouts``, the
portal's analytics page): the days it was out where it had demand (``oms.domain.stockouts``
holds the rule), from the worker's daily stock samples and the ``routed`` rollups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from oms.domain.stockouts import DEMAND_WINDOW, StockoutSpell, days_out_with_demand, spells
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
    start = days.first - timedelta(days=DEMAND_WINDOW)
    with uow_factory(readonly=True) as uow:
        out = uow.analytics.stock_out_days(tenant_id, days.first, days.last)
        skus = sorted({sku for sku, _, _ in out})
        demand = uow.analytics.routed_by_day(tenant_id, start, days.last, skus)
        codes: dict[UUID, str] = {}
        for location_id in {location_id for _, location_id, _ in out}:
            location = uow.locations.get(location_id)
            codes[location_id] = location.code if location else str(location_id)
    found = days_out_with_demand(out, demand)
    return StockoutReport(
        days=days, spells=spells(found, demand, first=days.first, last=days.last), codes=codes
    )
