"""The ``DemandRepository`` port in memory: demand days per source and the latest
forecasts in dictionaries; ``order_days`` stands in for the orders the SQL repository
aggregates. Tests of ``oms.services.demand``, ``forecasting`` and ``replenishment`` use it
through ``MemoryDemandUow`` (a unit of work whose ``demand`` and ``locations`` are fakes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Self
from uuid import UUID

from oms.domain.catalogue import Location
from oms.domain.demand import DemandDay, merge_days
from oms.domain.forecasting import DemandForecast
from oms.domain.inventory import StockLevel

__all__ = ["MemoryDemand", "MemoryDemandUow"]


@dataclass
class MemoryDemand:
    """Demand days keyed by (tenant, sku, location, day, source)."""

    rows: dict[tuple[UUID, str, str, date, str], DemandDay] = field(default_factory=dict)
    forecasts_: dict[tuple[UUID, str, str], DemandForecast] = field(default_factory=dict)
    order_days: dict[UUID, list[DemandDay]] = field(default_factory=dict)
    out_days: dict[UUID, list[tuple[str, str, date]]] = field(default_factory=dict)

    def put_days(self, tenant_id: UUID, days: Sequence[DemandDay], *, source: str) -> None:
        for d in days:
            self.rows[(tenant_id, d.sku, d.location, d.day, source)] = d

    def replace_range(
        self, tenant_id: UUID, days: Sequence[DemandDay], *, source: str, first: date, last: date
    ) -> None:
        for key in [
            k for k in self.rows if k[0] == tenant_id and k[4] == source and first <= k[3] <= last
        ]:
            del self.rows[key]
        self.put_days(tenant_id, days, source=source)

    def order_demand(self, tenant_id: UUID, *, first: date, last: date) -> list[DemandDay]:
        return [d for d in self.order_days.get(tenant_id, []) if first <= d.day <= last]

    def stock_out_days(
        self, tenant_id: UUID, *, first: date, last: date
    ) -> list[tuple[str, str, date]]:
        return [k for k in self.out_days.get(tenant_id, []) if first <= k[2] <= last]

    def skus(self, tenant_id: UUID) -> list[str]:
        return sorted({k[1] for k in self.rows if k[0] == tenant_id})

    def days(self, tenant_id: UUID, skus: Sequence[str]) -> list[DemandDay]:
        wanted = set(skus)
        return merge_days(d for k, d in self.rows.items() if k[0] == tenant_id and k[1] in wanted)

    def put_forecasts(self, tenant_id: UUID, forecasts: Sequence[DemandForecast]) -> None:
        for f in forecasts:
            self.forecasts_[(tenant_id, f.sku, f.location)] = f

    def forecast(self, tenant_id: UUID, sku: str, location: str) -> DemandForecast | None:
        return self.forecasts_.get((tenant_id, sku, location))

    def forecasts(self, tenant_id: UUID, *, location: str) -> list[DemandForecast]:
        return sorted(
            (f for k, f in self.forecasts_.items() if k[0] == tenant_id and k[2] == location),
            key=lambda f: f.sku,
        )


@dataclass
class _Locations:
    known: list[Location] = field(default_factory=list)

    def visible_to(self, tenant_id: UUID) -> list[Location]:
        return [loc for loc in self.known if loc.owner_tenant_id in (None, tenant_id)]


@dataclass
class _Inventory:
    stock: list[StockLevel] = field(default_factory=list)

    def levels(
        self, tenant_id: UUID, skus: Sequence[str], location_ids: Sequence[UUID] | None = None
    ) -> list[StockLevel]:
        wanted = set(skus)
        return [
            s
            for s in self.stock
            if s.sku in wanted and (location_ids is None or s.location_id in location_ids)
        ]


@dataclass
class MemoryDemandUow:
    """A unit of work (and its factory) holding the fakes the demand use cases touch."""

    demand: MemoryDemand = field(default_factory=MemoryDemand)
    locations: _Locations = field(default_factory=_Locations)
    inventory: _Inventory = field(default_factory=_Inventory)
    commits: int = 0

    def __call__(self, *, readonly: bool = False) -> Self:
        return self

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        self.commits += 1

    def record_day(
        self,
        tenant_id: UUID,
        *,
        sales: Sequence[DemandDay],
        out_of_stock: Sequence[tuple[str, str, date]],
    ) -> None:
        """The replay's ``SalesFeed``: ``sales`` become the orders' demand (``order_days``)
        and the stock-out samples are added (``out_days``)."""
        self.demand.order_days[tenant_id] = list(sales)
        self.demand.out_days.setdefault(tenant_id, []).extend(out_of_stock)
