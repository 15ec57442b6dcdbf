"""``AnalyticsRepository`` over the rollups (``analytics_facts``): one aggregate query per
figure, on the ``ix_analytics_facts_day`` index (kind, day, tenant)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Date, Select, and_, case, cast, func, literal, select

from oms.adapters.db.tables import analytics_facts, inventory_levels, products, stock_days
from oms.domain.stockouts import DEMAND_WINDOW, StockoutSpell, spell
from oms.services.analytics import ReturnReasonRow, SalesRow, ShippedRow, SkuRow
from oms.services.dashboard import DayRange

__all__ = ["SqlAnalyticsRepository"]

_f = analytics_facts.c
_p = products.c
_inv = inventory_levels.c
_E4 = Decimal(10000)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _money(e4: Any) -> Decimal:
    return Decimal(int(e4 or 0)) / _E4


class SqlAnalyticsRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _where(
        self, query: Select[Any], kind: str, tenant_id: UUID | None, days: DayRange
    ) -> Select[Any]:
        query = query.where(_f.kind == kind, _f.day >= days.first, _f.day <= days.last)
        if tenant_id is not None:
            query = query.where(_f.tenant_id == tenant_id)
        return query

    def _top(
        self, kind: str, column: Any, tenant_id: UUID | None, days: DayRange, top: int
    ) -> list[Any]:
        query = self._where(select(column, func.sum(_f.n).label("n")), kind, tenant_id, days)
        rows = self._conn.execute(
            query.group_by(column).order_by(func.sum(_f.n).desc(), column).limit(top)
        )
        return [row[0] for row in rows]

    def _period(self, period: str) -> Any:
        """The first day of each rollup day's period, counted by the database."""
        if period == "day":
            return _f.day
        if self._conn.dialect.name == "postgresql":
            return cast(func.date_trunc(period, _f.day), Date)
        if period == "week":  # SQLite: the Monday on or before the day
            return func.date(_f.day, "-6 days", "weekday 1")
        return func.date(_f.day, "start of month")

    def sales(
        self, tenant_id: UUID | None, days: DayRange, by: str, top: int, period: str = "day"
    ) -> list[SalesRow]:
        key: Any
        if by == "location":
            kind, key = "routed", _f.location_id
        elif by == "category":
            kind, key = "sku", func.coalesce(_p.category, literal("(none)"))
        elif by == "sku":
            kind, key = "sku", _f.sku
        else:
            kind = "units"
            key = {"channel": _f.channel, "total": literal(None)}[by]
        currency = literal(None) if by == "location" else _f.currency
        source: Any = analytics_facts
        if by == "category":
            source = analytics_facts.outerjoin(
                products, and_(_p.tenant_id == _f.tenant_id, _p.sku == _f.sku)
            )
        start = self._period(period).label("start")
        query: Any = select(
            start,
            key.label("key"),
            currency.label("currency"),
            func.sum(_f.orders).label("orders"),
            func.sum(_f.n).label("units"),
            func.sum(_f.done_met if kind == "routed" else _f.met).label("cancelled"),
            func.sum(_f.amount_e4).label("e4"),
        ).select_from(source)
        query = self._where(query, kind, tenant_id, days)
        if by in ("sku", "location"):
            column = _f.sku if by == "sku" else _f.location_id
            keep = self._top(kind, column, tenant_id, days, top)
            query = query.where(column.in_(keep))
        rows = self._conn.execute(query.group_by(start, key, currency))
        return [
            SalesRow(
                day=_day(row.start),
                key=None if row.key is None else str(row.key),
                currency=row.currency,
                orders=int(row.orders or 0),
                units=int(row.units or 0),
                cancelled=int(row.cancelled or 0),
                amount=_money(row.e4),
            )
            for row in rows
        ]

    def shipped(self, tenant_id: UUID | None, days: DayRange, by: str) -> list[ShippedRow]:
        key = {
            "carrier": _f.carrier,
            "service": _f.carrier + literal("/") + _f.service,
            "location": _f.location_id,
        }[by]
        query = self._where(
            select(
                key.label("key"),
                _f.currency,
                func.sum(_f.n).label("n"),
                func.sum(_f.orders).label("orders"),
                func.sum(_f.met).label("met"),
                func.sum(_f.done).label("done"),
                func.sum(_f.done_met).label("done_met"),
                func.sum(_f.amount_e4).label("e4"),
            ),
            "shipment",
            tenant_id,
            days,
        ).group_by(key, _f.currency)
        return [
            ShippedRow(
                key=None if row.key is None else str(row.key),
                currency=row.currency,
                shipments=int(row.n or 0),
                orders=int(row.orders or 0),
                on_time=int(row.met or 0),
                delivered=int(row.done or 0),
                delivered_on_time=int(row.done_met or 0),
                cost=_money(row.e4),
            )
            for row in self._conn.execute(query)
        ]

    def transit(
        self, tenant_id: UUID | None, days: DayRange, by: str
    ) -> dict[tuple[str | None, int], int]:
        key = {
            "carrier": _f.carrier,
            "service": _f.carrier + literal("/") + _f.service,
            "location": _f.location_id,
        }[by]
        query = self._where(
            select(key.label("key"), _f.detail, func.sum(_f.n).label("n")),
            "transit",
            tenant_id,
            days,
        ).group_by(key, _f.detail)
        return {
            (None if row.key is None else str(row.key), int(row.detail)): int(row.n or 0)
            for row in self._conn.execute(query)
        }

    def splits(self, tenant_id: UUID | None, days: DayRange) -> tuple[int, int]:
        query = self._where(select(func.sum(_f.n), func.sum(_f.met)), "split", tenant_id, days)
        of, met = self._conn.execute(query).one()
        return int(of or 0), int(met or 0)

    def errors(self, tenant_id: UUID | None, days: DayRange) -> dict[str, int]:
        query = self._where(
            select(_f.detail, func.sum(_f.n).label("n")), "error", tenant_id, days
        ).group_by(_f.detail)
        return {row.detail: int(row.n or 0) for row in self._conn.execute(query)}

    def return_reasons(self, tenant_id: UUID | None, days: DayRange) -> list[ReturnReasonRow]:
        query = self._where(
            select(
                _f.sku,
                _f.detail,
                func.sum(_f.n).label("units"),
                func.sum(_f.done).label("received"),
                func.sum(_f.orders).label("returns"),
            ),
            "return",
            tenant_id,
            days,
        ).group_by(_f.sku, _f.detail)
        return [
            ReturnReasonRow(
                sku=row.sku,
                reason=row.detail,
                units=int(row.units or 0),
                received=int(row.received or 0),
                returns=int(row.returns or 0),
            )
            for row in self._conn.execute(query)
        ]

    def units_by_sku_day(
        self, tenant_id: UUID | None, days: DayRange
    ) -> dict[tuple[str, date], int]:
        query = self._where(
            select(_f.sku, _f.day, func.sum(_f.n).label("n")), "sku", tenant_id, days
        ).group_by(_f.sku, _f.day)
        return {(row.sku, _day(row.day)): int(row.n or 0) for row in self._conn.execute(query)}

    def sku_locations(self, tenant_id: UUID | None, days: DayRange) -> list[SkuRow]:
        query = self._where(
            select(_f.sku, _f.location_id, func.sum(_f.n).label("n")), "routed", tenant_id, days
        ).group_by(_f.sku, _f.location_id)
        return [
            SkuRow(
                sku=row.sku, location_id=row.location_id, units=int(row.n or 0), amount=Decimal(0)
            )
            for row in self._conn.execute(query)
        ]

    def sku_sales(self, tenant_id: UUID | None, days: DayRange) -> dict[str, Decimal]:
        query = self._where(
            select(_f.sku, func.sum(_f.amount_e4).label("e4")), "sku", tenant_id, days
        ).group_by(_f.sku)
        return {row.sku: _money(row.e4) for row in self._conn.execute(query)}

    def available(self, tenant_id: UUID | None) -> dict[tuple[str, UUID], int]:
        query = select(
            _inv.sku,
            _inv.location_id,
            func.sum(_inv.on_hand - _inv.reserved - _inv.safety_stock).label("free"),
        ).group_by(_inv.sku, _inv.location_id)
        if tenant_id is not None:
            query = query.where(_inv.tenant_id == tenant_id)
        return {(row.sku, row.location_id): int(row.free or 0) for row in self._conn.execute(query)}

    def stock_out_days(
        self, tenant_id: UUID | None, first: date, last: date
    ) -> list[tuple[str, UUID, date]]:
        """(SKU, location, day) of every sampled day whose lowest availability was <= 0."""
        sd = stock_days.c
        query = select(sd.sku, sd.location_id, sd.day).where(
            sd.low <= 0, sd.day >= first, sd.day <= last
        )
        if tenant_id is not None:
            query = query.where(sd.tenant_id == tenant_id)
        return [(row.sku, row.location_id, _day(row.day)) for row in self._conn.execute(query)]

    def routed_by_day(
        self, tenant_id: UUID | None, first: date, last: date, skus: list[str]
    ) -> dict[tuple[str, UUID, date], int]:
        """Units routed per SKU (of ``skus``), location and day (the ``routed`` rollups)."""
        if not skus:
            return {}
        query = (
            select(_f.sku, _f.location_id, _f.day, func.sum(_f.n).label("n"))
            .where(_f.kind == "routed", _f.day >= first, _f.day <= last, _f.sku.in_(sorted(skus)))
            .group_by(_f.sku, _f.location_id, _f.day)
        )
        if tenant_id is not None:
            query = query.where(_f.tenant_id == tenant_id)
        return {
            (row.sku, row.location_id, _day(row.day)): int(row.n or 0)
            for row in self._conn.execute(query)
        }

    def stockout_spells(
        self, tenant_id: UUID | None, first: date, last: date
    ) -> list[StockoutSpell]:
        """Per SKU and location, the days flagged ``stockout`` from ``first`` to ``last``
        and the units routed there on its other days from ``DEMAND_WINDOW`` days before."""
        sd = stock_days.c
        flagged = [sd.stockout, sd.day >= first, sd.day <= last]
        if tenant_id is not None:
            flagged.append(sd.tenant_id == tenant_id)
        found = {
            (row.sku, row.location_id): row
            for row in self._conn.execute(
                select(
                    sd.sku,
                    sd.location_id,
                    func.count(sd.day.distinct()).label("days"),
                    func.min(sd.day).label("first_day"),
                    func.max(sd.day).label("last_day"),
                )
                .where(*flagged)
                .group_by(sd.sku, sd.location_id)
            )
        }
        if not found:
            return []
        start = first - timedelta(days=DEMAND_WINDOW)
        # The units routed on the days not flagged: a left join on the flagged days and a
        # sum of the rows it found none for (hashed; an anti-join sorted the rows by text).
        out = stock_days.alias("out")
        flagged_then = and_(
            out.c.tenant_id == _f.tenant_id,
            out.c.sku == _f.sku,
            out.c.location_id == _f.location_id,
            out.c.day == _f.day,
            out.c.stockout,
            out.c.day >= first,
        )
        query = (
            select(
                _f.sku,
                _f.location_id,
                func.sum(case((out.c.day.is_(None), _f.n), else_=0)).label("n"),
            )
            .select_from(analytics_facts.outerjoin(out, flagged_then))
            .where(_f.kind == "routed", _f.day >= start, _f.day <= last)
            .group_by(_f.sku, _f.location_id)
        )
        if tenant_id is not None:
            query = query.where(_f.tenant_id == tenant_id)
        units = {(row.sku, row.location_id): int(row.n or 0) for row in self._conn.execute(query)}
        span = (last - start).days + 1
        return [
            spell(
                sku=sku,
                location=location_id,
                days=int(row.days),
                first_day=_day(row.first_day),
                last_day=_day(row.last_day),
                in_stock_units=units.get((sku, location_id), 0),
                span=span,
            )
            for (sku, location_id), row in sorted(
                found.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))
            )
        ]
