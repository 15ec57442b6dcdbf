"""/v1/analytics: sales, SKUs and fulfilment over the daily rollups (docs/analytics.md),
as JSON or, with ``format=csv``, as a CSV file of the same rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from starlette.responses import JSONResponse, Response

from oms.api.deps import CurrentPrincipal, UowDep
from oms.api.one_hop import OneHopRoute
from oms.domain.tenancy import Principal
from oms.services import analytics
from oms.services.common import utcnow
from oms.services.stockouts import StockoutReport, stockouts

__all__ = [
    "fulfilment_rows",
    "return_reason_rows",
    "router",
    "sales_rows",
    "sku_rows",
    "stockout_rows",
]

router = APIRouter(route_class=OneHopRoute, prefix="/v1/analytics", tags=["analytics"])

First = Annotated[
    date | None, Query(alias="from", description="First day (UTC); default: 29 days before to")
]
Last = Annotated[date | None, Query(alias="to", description="Last day (UTC); default: today")]
Format = Annotated[Literal["json", "csv"], Query(description="json, or csv for a file")]


def _tenant(principal: Principal) -> Any:
    # An operator key without OMS-Tenant sees every tenant's; a tenant key only its own.
    return principal.tenant_id if principal.is_operator else principal.require_tenant()


def _text(value: Any) -> Any:
    if isinstance(value, Decimal | date):
        return str(value)
    if value is not None and not isinstance(value, int | str | float | dict | list):
        return str(value)
    return value


def answer(name: str, meta: dict[str, Any], rows: Sequence[dict[str, Any]], fmt: str) -> Response:
    if fmt == "csv":
        out = io.StringIO()
        columns = list(rows[0]) if rows else []
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row[c] is None else _text(row[c]) for c in columns])
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    body = {k: _text(v) for k, v in meta.items()}
    body["rows"] = [{k: _text(v) for k, v in row.items()} for row in rows]
    return JSONResponse(body)


def sales_rows(report: analytics.SalesReport) -> list[dict[str, Any]]:
    return [
        {
            "period": p.period,
            report.by: p.key,
            "currency": p.currency,
            "orders": p.orders,
            "units": p.units,
            "cancelled_units": p.cancelled_units,
            "sales": p.sales,
        }
        for p in report.points
    ]


def sku_rows(report: analytics.SkuReport) -> list[dict[str, Any]]:
    return [
        {
            "sku": s.sku,
            "location_id": s.location_id,
            "units": s.units,
            "velocity_per_day": s.velocity,
            "available": s.available,
            "days_of_cover": s.days_of_cover,
            "sell_through": s.sell_through,
            "abc": s.abc,
            "xyz": s.xyz,
        }
        for s in report.skus
    ]


def fulfilment_rows(report: analytics.FulfilmentReport) -> list[dict[str, Any]]:
    return [
        {
            report.by: g.key,
            "currency": g.currency,
            "shipments": g.shipments,
            "orders": g.orders,
            "on_time_ship_rate": g.on_time_ship_rate,
            "delivered": g.delivered,
            "on_time_delivery_rate": g.on_time_delivery_rate,
            "cost": g.cost,
            "cost_per_order": g.cost_per_order,
            "transit_days": {str(d): n for d, n in g.transit_days.items()},
        }
        for g in report.groups
    ]


@router.get("/sales")
def get_sales(
    principal: CurrentPrincipal,
    uow: UowDep,
    first: First = None,
    last: Last = None,
    period: Annotated[str, Query(description="day, week (ISO, from Monday) or month")] = "day",
    by: Annotated[str, Query(description="total, channel, sku, category or location")] = "total",
    format: Format = "json",
) -> Response:
    """Orders, units and sales per period, in total or per channel, SKU, category or
    location (units routed there; the 50 biggest SKUs or locations)."""
    report = analytics.sales(
        uow_factory=uow,
        tenant_id=_tenant(principal),
        first=first,
        last=last,
        period=period,
        by=by,
        now=utcnow(),
    )
    meta = {"from": report.days.first, "to": report.days.last, "period": period, "by": by}
    return answer(f"sales-by-{by}-{period}", meta, sales_rows(report), format)


@router.get("/skus")
def get_skus(
    principal: CurrentPrincipal,
    uow: UowDep,
    first: First = None,
    last: Last = None,
    format: Format = "json",
) -> Response:
    """Per SKU and location: units, velocity, available now, days of cover, sell-through,
    ABC and XYZ classes."""
    report = analytics.skus(
        uow_factory=uow, tenant_id=_tenant(principal), first=first, last=last, now=utcnow()
    )
    meta = {"from": report.days.first, "to": report.days.last}
    return answer("skus", meta, sku_rows(report), format)


@router.get("/fulfilment")
def get_fulfilment(
    principal: CurrentPrincipal,
    uow: UowDep,
    first: First = None,
    last: Last = None,
    by: Annotated[str, Query(description="carrier, service or location")] = "carrier",
    format: Format = "json",
) -> Response:
    """Shipments by carrier, service or location: on-time ship and delivery, cost per
    order, transit days; with the split rate and fulfilment errors by cause."""
    report = analytics.fulfilment(
        uow_factory=uow,
        tenant_id=_tenant(principal),
        first=first,
        last=last,
        by=by,
        now=utcnow(),
    )
    meta = {
        "from": report.days.first,
        "to": report.days.last,
        "by": by,
        "split_rate": report.split_rate,
        "split_of": report.split_of,
        "errors": report.errors,
    }
    return answer(f"fulfilment-by-{by}", meta, fulfilment_rows(report), format)


def stockout_rows(report: StockoutReport) -> list[dict[str, Any]]:
    return [
        {
            "sku": s.sku,
            "location": report.codes.get(s.location, str(s.location)),  # type: ignore[call-overload]
            "stockout_days": s.days,
            "first_day": s.first_day,
            "last_day": s.last_day,
            "demand_per_day": s.demand_per_day,
            "lost_units": s.lost_units,
        }
        for s in report.spells
    ]


@router.get("/stockouts")
def get_stockouts(
    principal: CurrentPrincipal,
    uow: UowDep,
    first: First = None,
    last: Last = None,
    format: Format = "json",
) -> Response:
    """Per SKU and location: the days it was out where it had demand, the demand per
    in-stock day and the units lost at that rate (docs/analytics.md)."""
    report = stockouts(
        uow_factory=uow, tenant_id=_tenant(principal), first=first, last=last, now=utcnow()
    )
    meta = {"from": report.days.first, "to": report.days.last}
    return answer("stockouts", meta, stockout_rows(report), format)


def return_reason_rows(report: analytics.ReturnReasonReport) -> list[dict[str, Any]]:
    return [
        {
            "sku": r.sku,
            "reason": r.reason,
            "units": r.units,
            "returns": r.returns,
            "received": r.received,
            "ordered": r.ordered,
            "return_rate": r.return_rate,
        }
        for r in report.rows
    ]


@router.get("/returns")
def get_return_reasons(
    principal: CurrentPrincipal,
    uow: UowDep,
    first: First = None,
    last: Last = None,
    format: Format = "json",
) -> Response:
    """Return reasons by SKU: units asked back per reason, returns, units received, and the
    SKU's return rate (units asked back / units ordered in the range)."""
    report = analytics.return_reasons(
        uow_factory=uow, tenant_id=_tenant(principal), first=first, last=last, now=utcnow()
    )
    meta = {"from": report.days.first, "to": report.days.last}
    return answer("return-reasons", meta, return_reason_rows(report), format)
