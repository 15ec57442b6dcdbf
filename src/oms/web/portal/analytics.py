"""The analytics pages (``/app/analytics``): sales and units per period with a bar chart,
by a dimension; SKUs (velocity, cover, ABC/XYZ); stock-out days; fulfilment by carrier,
service or location with errors by cause (returns' fulfilment faults among them); return
reasons by SKU; each table also as CSV (``/app/analytics/{report}.csv``). The figures of
``oms.services.analytics``, the same the API answers (docs/analytics.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from oms.api.routers.analytics import (
    answer,
    fulfilment_rows,
    return_reason_rows,
    sales_rows,
    sku_rows,
    stockout_rows,
)
from oms.domain.errors import InvalidRequest
from oms.services import analytics
from oms.services.stockouts import stockouts
from oms.web.portal.auth import PortalDep, ViewerDep, app_state
from oms.web.portal.charts import bar_chart
from oms.web.portal.dashboard import CAUSE_WORDS, percent

__all__ = ["router"]

router = APIRouter(prefix="/app/analytics", include_in_schema=False)

_Text = Annotated[str | None, Query(max_length=32)]
CAUSES = {
    "fulfillment_order.short_picked": CAUSE_WORDS["short_picks"],
    "fulfillment_order.scan_refused": "Scan mismatches",
    "shipment.exception": CAUSE_WORDS["carrier_exceptions"],
    "shipment.returned_to_sender": CAUSE_WORDS["returned_to_sender"],
    "return.wrong_item": "Returns: wrong item sent",
    "return.damaged": "Returns: arrived damaged",
    "return.lost_in_transit": "Claims: lost in transit",
    "return.damaged_in_transit": "Claims: damaged in transit",
}


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidRequest("Not a date", []) from None


def _reports(
    uow: Any,
    tenant_id: Any,
    first: date | None,
    last: date | None,
    period: str,
    by: str,
    ship_by: str,
    now: Any,
) -> dict[str, Any]:
    common = {"uow_factory": uow, "tenant_id": tenant_id, "first": first, "last": last, "now": now}
    return {
        "sales": analytics.sales(period=period, by=by, **common),
        "skus": analytics.skus(**common),
        "fulfilment": analytics.fulfilment(by=ship_by, **common),
        "stockouts": stockouts(**common),
        "returns": analytics.return_reasons(**common),
    }


@router.get("")
async def analytics_page(
    request: Request,
    viewer: ViewerDep,
    portal: PortalDep,
    from_: Annotated[str | None, Query(alias="from", max_length=32)] = None,
    to: _Text = None,
    period: _Text = None,
    by: _Text = None,
    ship_by: _Text = None,
) -> Response:
    """Sales per period, SKUs and fulfilment over a range (the last 30 days by default)."""
    uow = app_state(request).uow_factory
    now = portal.pages.clock.now()
    asked = {"period": period or "day", "by": by or "total", "ship_by": ship_by or "carrier"}
    problem = None
    try:
        found = await run_in_threadpool(
            _reports,
            uow,
            viewer.tenant_id,
            _day(from_),
            _day(to),
            asked["period"],
            asked["by"],
            asked["ship_by"],
            now,
        )
    except InvalidRequest as refused:
        problem = refused.detail + "".join(f"; {e.detail}" for e in refused.errors)
        asked = {"period": "day", "by": "total", "ship_by": "carrier"}
        found = await run_in_threadpool(
            _reports, uow, viewer.tenant_id, None, None, "day", "total", "carrier", now
        )
    sales: analytics.SalesReport = found["sales"]
    units: dict[date, int] = {}
    for point in sales.points:
        units[point.period] = units.get(point.period, 0) + point.units
    days = sales.days
    asked.update({"from": days.first.isoformat(), "to": days.last.isoformat()})
    return portal.pages.render(
        "analytics.html",
        status=422 if problem else 200,
        viewer=viewer,
        path=request.url.path,
        problem=problem,
        asked=asked,
        sales=sales,
        skus=found["skus"],
        ful=found["fulfilment"],
        stockouts=stockout_rows(found["stockouts"]),
        returned=found["returns"],
        chart=bar_chart(
            f"Units per {sales.period}",
            [(f"{start:%d %b}", n) for start, n in sorted(units.items())],
        ),
        periods=analytics.PERIODS,
        dimensions=analytics.DIMENSIONS,
        ship_dimensions=analytics.FULFILMENT_DIMENSIONS,
        causes=CAUSES,
        percent=percent,
    )


@router.get("/{report}.csv")
async def analytics_csv(
    request: Request,
    viewer: ViewerDep,
    portal: PortalDep,
    report: str,
    from_: Annotated[str | None, Query(alias="from", max_length=32)] = None,
    to: _Text = None,
    period: _Text = None,
    by: _Text = None,
    ship_by: _Text = None,
) -> Response:
    """One of the page's tables as a CSV file: ``sales``, ``skus``, ``fulfilment`` or
    ``stockouts`` or ``returns`` (return reasons by SKU)."""
    if report not in ("sales", "skus", "fulfilment", "stockouts", "returns"):
        return await run_in_threadpool(
            portal.pages.render, "not_found.html", status=404, viewer=viewer, path=request.url.path
        )
    found = await run_in_threadpool(
        _reports,
        app_state(request).uow_factory,
        viewer.tenant_id,
        _day(from_),
        _day(to),
        period or "day",
        by or "total",
        ship_by or "carrier",
        portal.pages.clock.now(),
    )
    if report == "sales":
        rows = sales_rows(found[report])
    elif report == "skus":
        rows = sku_rows(found[report])
    elif report == "stockouts":
        rows = stockout_rows(found[report])
    elif report == "returns":
        rows = return_reason_rows(found[report])
    else:
        rows = fulfilment_rows(found[report])
    return answer(report, {}, rows, "csv")
