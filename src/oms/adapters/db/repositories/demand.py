"""Daily demand and forecasts in SQL, the same on PostgreSQL and SQLite
(``oms.services.demand.DemandRepository``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Integer, and_, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from oms.adapters.db.tables import (
    allocations,
    demand_days,
    demand_forecasts,
    locations,
    order_lines,
    orders,
    stock_days,
)
from oms.domain.demand import ALL_LOCATIONS, DemandDay, merge_days
from oms.domain.forecasting import Backtest, DemandForecast, ForecastPoint

__all__ = ["SqlDemandRepository"]

_d = demand_days.c
_f = demand_forecasts.c
_CHUNK = 500


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


class SqlDemandRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._postgres = conn.dialect.name == "postgresql"

    def _upsert(self, table: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
        if not rows:
            return
        dialect = postgresql if self._postgres else sqlite
        new = dialect.insert(table)
        statement = new.on_conflict_do_update(
            index_elements=keys,
            set_={c.name: new.excluded[c.name] for c in table.c if c.name not in keys},
        )
        for start in range(0, len(rows), _CHUNK):
            self._conn.execute(statement, rows[start : start + _CHUNK])

    @staticmethod
    def _row(tenant_id: UUID, d: DemandDay, source: str) -> dict[str, Any]:
        return {
            "tenant_id": tenant_id,
            "sku": d.sku,
            "location": d.location,
            "day": d.day,
            "source": source,
            "quantity": d.quantity,
            "revenue": d.revenue,
            "promo": d.promo,
            "stockout": d.stockout,
        }

    def put_days(self, tenant_id: UUID, days: Sequence[DemandDay], *, source: str) -> None:
        self._upsert(
            demand_days,
            [self._row(tenant_id, d, source) for d in days],
            ["tenant_id", "sku", "location", "day", "source"],
        )

    def replace_range(
        self, tenant_id: UUID, days: Sequence[DemandDay], *, source: str, first: date, last: date
    ) -> None:
        self._conn.execute(
            delete(demand_days).where(
                _d.tenant_id == tenant_id, _d.source == source, _d.day >= first, _d.day <= last
            )
        )
        self.put_days(tenant_id, days, source=source)

    def _day_of(self, column: Any) -> Any:
        if self._postgres:
            return func.date(func.timezone("UTC", column))
        return func.substr(column, 1, 10)

    def order_demand(self, tenant_id: UUID, *, first: date, last: date) -> list[DemandDay]:
        start = datetime.combine(first, time(), tzinfo=UTC)
        end = datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC)
        o, a, ol, loc = orders.c, allocations.c, order_lines.c, locations.c
        day = self._day_of(o.created_at).label("day")
        allocated = (
            select(
                day,
                a.sku,
                loc.code,
                func.sum(a.quantity - a.released).label("units"),
            )
            .select_from(
                allocations.join(orders, and_(o.tenant_id == a.tenant_id, o.id == a.order_id)).join(
                    locations, loc.id == a.location_id
                )
            )
            .where(a.tenant_id == tenant_id, o.created_at >= start, o.created_at < end)
            .group_by(day, a.sku, loc.code)
        )
        found = [
            DemandDay(_as_date(r.day), r.sku, r.code, int(r.units))
            for r in self._conn.execute(allocated)
            if int(r.units) > 0
        ]
        backordered = (
            select(day, ol.sku, func.sum(ol.backordered).label("units"))
            .select_from(
                order_lines.join(orders, and_(o.tenant_id == ol.tenant_id, o.id == ol.order_id))
            )
            .where(
                ol.tenant_id == tenant_id,
                ol.backordered > 0,
                o.created_at >= start,
                o.created_at < end,
            )
            .group_by(day, ol.sku)
        )
        found += [
            DemandDay(_as_date(r.day), r.sku, ALL_LOCATIONS, int(r.units), stockout=True)
            for r in self._conn.execute(backordered)
        ]
        return merge_days(found)

    def stock_out_days(
        self, tenant_id: UUID, *, first: date, last: date
    ) -> list[tuple[str, str, date]]:
        """(SKU, location code, day) of the sampled days its availability was <= 0 there."""
        sd = stock_days.c
        rows = self._conn.execute(
            select(sd.sku, locations.c.code, sd.day)
            .join(locations, locations.c.id == sd.location_id)
            .where(sd.tenant_id == tenant_id, sd.low <= 0, sd.day >= first, sd.day <= last)
        )
        return [
            (
                row.sku,
                row.code,
                row.day if isinstance(row.day, date) else date.fromisoformat(row.day),
            )
            for row in rows
        ]

    def skus(self, tenant_id: UUID) -> list[str]:
        query = select(_d.sku).where(_d.tenant_id == tenant_id).distinct().order_by(_d.sku)
        return [r.sku for r in self._conn.execute(query)]

    def days(self, tenant_id: UUID, skus: Sequence[str]) -> list[DemandDay]:
        out: list[DemandDay] = []
        wanted = sorted(set(skus))
        for start in range(0, len(wanted), _CHUNK):
            query = (
                select(
                    _d.sku,
                    _d.location,
                    _d.day,
                    func.sum(_d.quantity).label("quantity"),
                    func.max(_d.promo.cast(Integer())).label("promo"),
                    func.max(_d.stockout.cast(Integer())).label("stockout"),
                )
                .where(_d.tenant_id == tenant_id, _d.sku.in_(wanted[start : start + _CHUNK]))
                .group_by(_d.sku, _d.location, _d.day)
            )
            out += [
                DemandDay(
                    _as_date(r.day),
                    r.sku,
                    r.location,
                    int(r.quantity),
                    promo=bool(r.promo),
                    stockout=bool(r.stockout),
                )
                for r in self._conn.execute(query)
            ]
        return out

    def put_forecasts(self, tenant_id: UUID, forecasts: Sequence[DemandForecast]) -> None:
        rows = [
            {
                "tenant_id": tenant_id,
                "sku": f.sku,
                "location": f.location,
                "made_at": f.made_at,
                "history_end": f.history_end,
                "model": f.model,
                "demand_class": f.demand_class,
                "points": [
                    [float(p.mean), float(p.lo80), float(p.hi80), float(p.lo95), float(p.hi95)]
                    for p in f.points
                ],
                "mase": f.backtest.mase,
                "origins": f.backtest.origins,
                "beats_baseline": f.beats_baseline,
                "error_sd": f.error_sd,
            }
            for f in forecasts
        ]
        self._upsert(demand_forecasts, rows, ["tenant_id", "sku", "location"])

    @staticmethod
    def _forecast(r: Any) -> DemandForecast:
        end = _as_date(r.history_end)
        points = tuple(
            ForecastPoint(end + timedelta(days=i + 1), *values) for i, values in enumerate(r.points)
        )
        return DemandForecast(
            sku=r.sku,
            location=r.location,
            made_at=r.made_at,
            history_end=end,
            model=r.model,
            demand_class=r.demand_class,
            points=points,
            backtest=Backtest(mase=r.mase, origins=r.origins),
            error_sd=r.error_sd,
        )

    def forecast(self, tenant_id: UUID, sku: str, location: str) -> DemandForecast | None:
        query = select(demand_forecasts).where(
            _f.tenant_id == tenant_id, _f.sku == sku, _f.location == location
        )
        row = self._conn.execute(query).first()
        return None if row is None else self._forecast(row)

    def forecasts(self, tenant_id: UUID, *, location: str) -> list[DemandForecast]:
        query = (
            select(demand_forecasts)
            .where(_f.tenant_id == tenant_id, _f.location == location)
            .order_by(_f.sku)
        )
        return [self._forecast(r) for r in self._conn.execute(query)]
