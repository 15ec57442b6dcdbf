"""Analytics over the daily rollups (``oms.services.rollups``): sales and units by period
and dimension, SKU velocity, days of cover, ABC/XYZ classes and sell-through, and the
fulfilment figures by carrier, service or location. docs/analytics.md defines each.

These read the rollups only (one aggregate query per figure through ``AnalyticsRepository``,
``oms.adapters.db.repositories.analytics``), so they are as fresh as the worker's last
refresh (``oms worker --rollup-seconds``) and fast on millions of order lines; a tenant
whose rollups were never built (``oms analytics rebuild``) has none to show. Days are UTC.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol
from uuid import UUID

from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.stockouts import StockoutSpell
from oms.services.dashboard import DayRange, day_range
from oms.services.ports import UnitOfWorkFactory

__all__ = [
    "DIMENSIONS",
    "FULFILMENT_DIMENSIONS",
    "PERIODS",
    "AnalyticsRepository",
    "FulfilmentGroup",
    "FulfilmentReport",
    "SalesPoint",
    "SalesReport",
    "SkuFigures",
    "SkuReport",
    "fulfilment",
    "period_start",
    "sales",
    "skus",
]

PERIODS = ("day", "week", "month")
DIMENSIONS = ("total", "channel", "sku", "category", "location")
FULFILMENT_DIMENSIONS = ("carrier", "service", "location")
TOP = 50
"""At most this many keys of a dimension (the biggest by units); the rest are ``other``."""
_RATE = Decimal("0.0001")
_CENTS = Decimal("0.01")


@dataclass(frozen=True)
class SalesRow:
    """What the repository gives: one day and key (None: the total) in one currency."""

    day: date
    key: str | None
    currency: str | None
    orders: int
    units: int
    cancelled: int
    amount: Decimal


@dataclass(frozen=True)
class ShippedRow:
    key: str | None
    currency: str
    shipments: int
    orders: int
    on_time: int
    delivered: int
    delivered_on_time: int
    cost: Decimal


@dataclass(frozen=True)
class SkuRow:
    sku: str
    location_id: UUID | None
    units: int
    amount: Decimal


@dataclass(frozen=True)
class ReturnReasonRow:
    """Units of one SKU asked back for one reason (returns not rejected)."""

    sku: str
    reason: str
    units: int
    received: int
    returns: int


class AnalyticsRepository(Protocol):
    """Aggregates of the rollups of one tenant (None: every tenant) over days."""

    def sales(
        self, tenant_id: UUID | None, days: DayRange, by: str, top: int, period: str = "day"
    ) -> list[SalesRow]: ...
    def shipped(self, tenant_id: UUID | None, days: DayRange, by: str) -> list[ShippedRow]: ...
    def transit(
        self, tenant_id: UUID | None, days: DayRange, by: str
    ) -> dict[tuple[str | None, int], int]: ...
    def splits(self, tenant_id: UUID | None, days: DayRange) -> tuple[int, int]: ...
    def errors(self, tenant_id: UUID | None, days: DayRange) -> dict[str, int]: ...
    def return_reasons(self, tenant_id: UUID | None, days: DayRange) -> list[ReturnReasonRow]: ...
    def units_by_sku_day(
        self, tenant_id: UUID | None, days: DayRange
    ) -> dict[tuple[str, date], int]: ...
    def sku_locations(self, tenant_id: UUID | None, days: DayRange) -> list[SkuRow]: ...
    def sku_sales(self, tenant_id: UUID | None, days: DayRange) -> dict[str, Decimal]: ...
    def available(self, tenant_id: UUID | None) -> dict[tuple[str, UUID], int]: ...
    def stock_out_days(
        self, tenant_id: UUID | None, first: date, last: date
    ) -> list[tuple[str, UUID, date]]: ...
    def routed_by_day(
        self, tenant_id: UUID | None, first: date, last: date, skus: list[str]
    ) -> dict[tuple[str, UUID, date], int]: ...
    def stockout_spells(
        self, tenant_id: UUID | None, first: date, last: date
    ) -> list[StockoutSpell]: ...


def _rate(met: int, of: int) -> Decimal | None:
    return None if of == 0 else (Decimal(met) / Decimal(of)).quantize(_RATE, ROUND_HALF_UP)


def period_start(day: date, period: str) -> date:
    """The first day of ``day``'s period: itself, its ISO week's Monday, its month's 1st."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def _range(first: date | None, last: date | None, now: datetime) -> DayRange:
    today = now.astimezone(UTC).date()
    return day_range(first=first or (last or today) - timedelta(days=29), last=last, today=today)


def _choice(value: str, allowed: Iterable[str], where: str) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise InvalidRequest(
            f"Unknown {where.split(':')[-1]}", [FieldError(where, "one of " + ", ".join(allowed))]
        )
    return value


# --- sales -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SalesPoint:
    period: date
    key: str | None
    currency: str | None
    orders: int
    units: int
    cancelled_units: int
    sales: Decimal | None  # None for locations: the rollups hold units only there


@dataclass(frozen=True)
class SalesReport:
    days: DayRange
    period: str
    by: str
    points: list[SalesPoint]


def sales(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID | None,
    first: date | None,
    last: date | None,
    period: str = "day",
    by: str = "total",
    now: datetime,
) -> SalesReport:
    """Orders, units and sales per period (``day``, ``week``, ``month``) and, with ``by``,
    per channel, SKU, category or location (units routed there); the range defaults to
    the last 30 days."""
    _choice(period, PERIODS, "query:period")
    _choice(by, DIMENSIONS, "query:by")
    days = _range(first, last, now)
    with uow_factory(readonly=True) as uow:
        rows = uow.analytics.sales(tenant_id, days, by, TOP, period)
    summed: dict[tuple[date, str | None, str | None], list[object]] = {}
    for row in rows:
        key = (period_start(row.day, period), row.key, row.currency)
        found = summed.setdefault(key, [0, 0, 0, Decimal(0)])
        found[0] = int(str(found[0])) + row.orders
        found[1] = int(str(found[1])) + row.units
        found[2] = int(str(found[2])) + row.cancelled
        found[3] = Decimal(str(found[3])) + row.amount
    points = [
        SalesPoint(
            period=start,
            key=key,
            currency=currency,
            orders=int(str(v[0])),
            units=int(str(v[1])),
            cancelled_units=int(str(v[2])),
            sales=None if by == "location" else Decimal(str(v[3])).quantize(_CENTS),
        )
        for (start, key, currency), v in sorted(
            summed.items(), key=lambda item: (item[0][0], item[0][1] or "", item[0][2] or "")
        )
    ]
    return SalesReport(days=days, period=period, by=by, points=points)


# --- SKUs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SkuFigures:
    sku: str
    location_id: UUID | None  # None: every location together
    units: int
    velocity: Decimal  # units per day over the range
    available: int
    days_of_cover: Decimal | None  # None: nothing sold
    sell_through: Decimal | None
    abc: str | None
    xyz: str | None


@dataclass(frozen=True)
class SkuReport:
    days: DayRange
    skus: list[SkuFigures] = field(default_factory=list)


def abc_classes(sales_by_sku: dict[str, Decimal]) -> dict[str, str]:
    """A: the biggest sellers making the first 80% of sales, B: the next 15%, C: the rest
    (ties broken by SKU)."""
    total = sum(sales_by_sku.values(), Decimal(0))
    out: dict[str, str] = {}
    running = Decimal(0)
    for sku, amount in sorted(sales_by_sku.items(), key=lambda kv: (-kv[1], kv[0])):
        share_before = running / total if total else Decimal(1)
        out[sku] = (
            "A" if share_before < Decimal("0.8") else "B" if share_before < Decimal("0.95") else "C"
        )
        running += amount
    return out


def xyz_class(weekly_units: list[int]) -> str | None:
    """X: steady (coefficient of variation of weekly units under 0.5), Y: under 1.0, Z:
    erratic; None without a sale."""
    mean = statistics.fmean(weekly_units) if weekly_units else 0.0
    if mean == 0:
        return None
    cv = statistics.pstdev(weekly_units) / mean
    return "X" if cv < 0.5 else "Y" if cv < 1.0 else "Z"


def skus(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID | None,
    first: date | None,
    last: date | None,
    now: datetime,
) -> SkuReport:
    """Per SKU and location: units routed there over the range, velocity (units per day),
    what is available now and the days it covers, sell-through; per SKU: ABC by sales and
    XYZ by the variation of weekly units."""
    days = _range(first, last, now)
    with uow_factory(readonly=True) as uow:
        repo = uow.analytics
        per_location = repo.sku_locations(tenant_id, days)
        by_day = repo.units_by_sku_day(tenant_id, days)
        amounts = repo.sku_sales(tenant_id, days)
        available = repo.available(tenant_id)
    abc = abc_classes(amounts)
    weeks = max(1, -(-days.days // 7))
    weekly: dict[str, list[int]] = defaultdict(lambda: [0] * weeks)
    for (sku, day), units in by_day.items():
        weekly[sku][min((day - days.first).days // 7, weeks - 1)] += units
    out: list[SkuFigures] = []
    seen: set[tuple[str, UUID]] = set()
    for row in per_location:
        if row.location_id is None:
            continue
        seen.add((row.sku, row.location_id))
        out.append(
            _figures(
                row.sku,
                row.location_id,
                row.units,
                available.get((row.sku, row.location_id), 0),
                days,
                abc,
                weekly,
            )
        )
    for (sku, location_id), free in available.items():
        if (sku, location_id) not in seen:
            out.append(_figures(sku, location_id, 0, free, days, abc, weekly))
    out.sort(key=lambda f: (f.sku, str(f.location_id)))
    return SkuReport(days=days, skus=out)


def _figures(
    sku: str,
    location_id: UUID | None,
    units: int,
    free: int,
    days: DayRange,
    abc: dict[str, str],
    weekly: dict[str, list[int]],
) -> SkuFigures:
    velocity = (Decimal(units) / days.days).quantize(_RATE, ROUND_HALF_UP)
    return SkuFigures(
        sku=sku,
        location_id=location_id,
        units=units,
        velocity=velocity,
        available=free,
        days_of_cover=None
        if units == 0
        else (Decimal(max(free, 0)) / velocity).quantize(Decimal("0.1"), ROUND_HALF_UP),
        sell_through=_rate(units, units + max(free, 0)),
        abc=abc.get(sku),
        xyz=xyz_class(weekly[sku]) if sku in weekly else None,
    )


# --- fulfilment --------------------------------------------------------------------------


@dataclass(frozen=True)
class FulfilmentGroup:
    key: str | None
    currency: str
    shipments: int
    orders: int
    on_time_ship_rate: Decimal | None
    delivered: int
    on_time_delivery_rate: Decimal | None
    cost: Decimal
    cost_per_order: Decimal | None
    transit_days: dict[int, int]


@dataclass(frozen=True)
class FulfilmentReport:
    days: DayRange
    by: str
    groups: list[FulfilmentGroup]
    split_rate: Decimal | None
    split_of: int
    errors: dict[str, int]


def fulfilment(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID | None,
    first: date | None,
    last: date | None,
    by: str = "carrier",
    now: datetime,
) -> FulfilmentReport:
    """Shipments by carrier, service or location over the range: on-time ship and delivery
    rates, cost per order, transit days; the split rate and the fulfilment errors by cause."""
    _choice(by, FULFILMENT_DIMENSIONS, "query:by")
    days = _range(first, last, now)
    with uow_factory(readonly=True) as uow:
        repo = uow.analytics
        shipped = repo.shipped(tenant_id, days, by)
        transit = repo.transit(tenant_id, days, by)
        split_of, split_met = repo.splits(tenant_id, days)
        errors = repo.errors(tenant_id, days)
    groups = [
        FulfilmentGroup(
            key=row.key,
            currency=row.currency,
            shipments=row.shipments,
            orders=row.orders,
            on_time_ship_rate=_rate(row.on_time, row.shipments),
            delivered=row.delivered,
            on_time_delivery_rate=_rate(row.delivered_on_time, row.delivered),
            cost=row.cost.quantize(_CENTS),
            cost_per_order=(row.cost / row.orders).quantize(_CENTS, ROUND_HALF_UP)
            if row.orders
            else None,
            transit_days=dict(sorted((d, n) for (k, d), n in transit.items() if k == row.key)),
        )
        for row in sorted(shipped, key=lambda r: (r.key or "", r.currency))
    ]
    return FulfilmentReport(
        days=days,
        by=by,
        groups=groups,
        split_rate=_rate(split_met, split_of),
        split_of=split_of,
        errors=dict(sorted(errors.items())),
    )


@dataclass(frozen=True)
class ReturnReasonFigures:
    sku: str
    reason: str
    units: int  # asked back for this reason
    received: int
    returns: int
    ordered: int  # units of the SKU ordered in the range
    return_rate: Decimal | None  # units asked back (any reason) / units ordered


@dataclass(frozen=True)
class ReturnReasonReport:
    days: DayRange
    rows: list[ReturnReasonFigures]


def return_reasons(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID | None,
    first: date | None,
    last: date | None,
    now: datetime,
) -> ReturnReasonReport:
    """Return reasons by SKU over the range (by the day each return was asked for): units,
    returns, units received, and the SKU's return rate against its units ordered; the SKUs
    returned most first."""
    days = _range(first, last, now)
    with uow_factory(readonly=True) as uow:
        repo = uow.analytics
        found = repo.return_reasons(tenant_id, days)
        ordered: dict[str, int] = {}
        for (sku, _day), units in repo.units_by_sku_day(tenant_id, days).items():
            ordered[sku] = ordered.get(sku, 0) + units
    per_sku: dict[str, int] = {}
    for row in found:
        per_sku[row.sku] = per_sku.get(row.sku, 0) + row.units
    rows = [
        ReturnReasonFigures(
            sku=row.sku,
            reason=row.reason,
            units=row.units,
            received=row.received,
            returns=row.returns,
            ordered=ordered.get(row.sku, 0),
            return_rate=_rate(per_sku[row.sku], ordered.get(row.sku, 0)),
        )
        for row in found
    ]
    rows.sort(key=lambda r: (-per_sku[r.sku], r.sku, -r.units, r.reason))
    return ReturnReasonReport(days=days, rows=rows)
