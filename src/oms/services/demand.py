"""Demand history: a merchant's imported sales history and the daily demand of the system's
own orders, kept per SKU, location and day (``uow.demand``, the ``DemandRepository`` port;
``oms.adapters.db.repositories.demand`` implements it, ``oms.adapters.memory.demand`` fakes it).

Forecasts read the sum of both sources. Importing a file again replaces the days it names;
aggregating orders again replaces the order days of the range it covers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Protocol
from uuid import UUID

from oms.domain.demand import DemandDay, parse_sales_history
from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.forecasting import DemandForecast
from oms.domain.stockouts import DEMAND_WINDOW, days_out_with_demand
from oms.services.ports import UnitOfWorkFactory

__all__ = [
    "DemandRepository",
    "HistoryImport",
    "import_sales_history",
    "refresh_order_demand",
]

IMPORT = "import"
ORDERS = "orders"


class DemandRepository(Protocol):
    """Daily demand and the latest forecasts of one tenant's SKUs."""

    def put_days(self, tenant_id: UUID, days: Sequence[DemandDay], *, source: str) -> None:
        """Create or replace the days of ``source`` named by ``days``."""
        ...

    def replace_range(
        self, tenant_id: UUID, days: Sequence[DemandDay], *, source: str, first: date, last: date
    ) -> None:
        """Drop every day of ``source`` from ``first`` to ``last``, then add ``days``."""
        ...

    def order_demand(self, tenant_id: UUID, *, first: date, last: date) -> list[DemandDay]:
        """The units ordered per SKU, location code and day of the order (allocated, less
        what was released), and the units backordered as stock-out days at no location."""
        ...

    def stock_out_days(
        self, tenant_id: UUID, *, first: date, last: date
    ) -> list[tuple[str, str, date]]:
        """(SKU, location code, day) of the days its lowest availability there was <= 0
        (the worker's ``stock_days`` samples)."""
        ...

    def skus(self, tenant_id: UUID) -> list[str]:
        """Every SKU with demand, in order."""
        ...

    def days(self, tenant_id: UUID, skus: Sequence[str]) -> list[DemandDay]:
        """The demand of ``skus``, both sources summed per SKU, location and day."""
        ...

    def put_forecasts(self, tenant_id: UUID, forecasts: Sequence[DemandForecast]) -> None:
        """Store each forecast, replacing the one of the same SKU and location."""
        ...

    def forecast(self, tenant_id: UUID, sku: str, location: str) -> DemandForecast | None: ...

    def forecasts(self, tenant_id: UUID, *, location: str) -> list[DemandForecast]:
        """The latest forecasts of every SKU at ``location`` ("": all locations together)."""
        ...


@dataclass(frozen=True)
class HistoryImport:
    """What an import stored: rows (after merging duplicates), SKUs and days covered."""

    rows: int
    skus: int
    first: date | None
    last: date | None


def import_sales_history(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, text: str
) -> HistoryImport:
    """Store a sales-history CSV as the tenant's imported demand, in one transaction. Every
    location must be one the tenant can use (its code); a bad file changes nothing."""
    days = parse_sales_history(text)
    with uow_factory() as uow:
        known = {loc.code for loc in uow.locations.visible_to(tenant_id)}
        unknown = sorted({d.location for d in days} - known)
        if unknown:
            raise InvalidRequest(
                "the sales history names unknown locations",
                [FieldError("/rows/location", "no such location: " + ", ".join(unknown[:10]))],
            )
        uow.demand.put_days(tenant_id, days, source=IMPORT)
        uow.commit()
    return HistoryImport(
        rows=len(days),
        skus=len({d.sku for d in days}),
        first=min((d.day for d in days), default=None),
        last=max((d.day for d in days), default=None),
    )


def refresh_order_demand(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, now: datetime, days: int = 3
) -> int:
    """Aggregate the orders of the last ``days`` days (today included, UTC) into daily
    demand, replacing what an earlier run stored for them; the stock-out days among them
    (``oms.domain.stockouts``) are flagged censored, with a row of 0 units where nothing
    sold. Answers the rows stored."""
    last = now.date()
    first = last - timedelta(days=days - 1)
    with uow_factory() as uow:
        found = uow.demand.order_demand(tenant_id, first=first, last=last)
        found = _censor_stock_outs(uow.demand, tenant_id, found, first=first, last=last)
        uow.demand.replace_range(tenant_id, found, source=ORDERS, first=first, last=last)
        uow.commit()
    return len(found)


def _censor_stock_outs(
    demand: DemandRepository,
    tenant_id: UUID,
    found: list[DemandDay],
    *,
    first: date,
    last: date,
) -> list[DemandDay]:
    """``found`` with the SKU-location days that were stock-out days flagged ``stockout``,
    and a censored row of 0 units for each such day with no sales: forecasting then treats
    them as unknown demand, not as no demand."""
    out = demand.stock_out_days(tenant_id, first=first, last=last)
    if not out:
        return found
    skus = sorted({sku for sku, _, _ in out})
    start = first - timedelta(days=DEMAND_WINDOW)
    sold: dict[tuple[str, str, date], int] = {
        (d.sku, d.location, d.day): d.quantity
        for d in demand.days(tenant_id, skus)
        if start <= d.day < first
    }
    for d in found:
        sold[(d.sku, d.location, d.day)] = d.quantity
    censored = days_out_with_demand(out, sold)
    flagged = [
        replace(d, stockout=True) if (d.sku, d.location, d.day) in censored else d for d in found
    ]
    have = {(d.sku, d.location, d.day) for d in found}
    flagged += [
        DemandDay(day=day, sku=sku, location=code, quantity=0, stockout=True)
        for sku, code, day in sorted(censored - have)
    ]
    return flagged
