"""The dashboard page (``/app/dashboard``, where signing in lands): the figures of
``oms.services.dashboard`` for a range of days (a week to today unless the form says
otherwise), for the viewer's tenant or, for an operator looking at all tenants, for every
tenant. Two small SVG charts (orders per day, backlog by age), each with a table of the
same figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from oms.domain.errors import InvalidRequest
from oms.services.dashboard import AGE_BUCKETS, dashboard
from oms.web.portal.auth import PortalDep, ViewerDep, app_state
from oms.web.portal.charts import bar_chart

__all__ = ["router"]

router = APIRouter(prefix="/app", include_in_schema=False)

AGE_WORDS = {
    "under_1_day": "Under 1 day",
    "1_to_2_days": "1 to 2 days",
    "2_to_3_days": "2 to 3 days",
    "over_3_days": "3 days or more",
}
CAUSE_WORDS = {
    "short_picks": "Short picks",
    "carrier_exceptions": "Carrier exceptions",
    "returned_to_sender": "Returned to sender",
}
_Day = Annotated[str | None, Query(max_length=32)]


def _day(text: str | None) -> date | None:
    """A form's date; a malformed one is refused like the API refuses it."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidRequest("Not a date", []) from None


def percent(value: Decimal | None) -> str:
    """A rate as a percentage to one place, or a dash when there was nothing to count."""
    return "\u2013" if value is None else f"{value * 100:.1f} %"


@router.get("")
def home() -> Response:
    return RedirectResponse("/app/dashboard", 303)


@router.get("/dashboard")
async def dashboard_page(
    request: Request,
    viewer: ViewerDep,
    portal: PortalDep,
    from_: Annotated[str | None, Query(alias="from", max_length=32)] = None,
    to: _Day = None,
) -> Response:
    """Today's orders, the backlog by status and age, holds past their SLA, shipped today,
    on-time ship and split rates, shipping cost per order and fulfilment errors."""
    uow = app_state(request).uow_factory
    now = portal.pages.clock.now()
    problem = None
    try:
        figures = await run_in_threadpool(
            dashboard,
            uow_factory=uow,
            tenant_id=viewer.tenant_id,
            first=_day(from_),
            last=_day(to),
            now=now,
        )
    except InvalidRequest as refused:
        problem = refused.detail + "".join(f"; {e.detail}" for e in refused.errors)
        figures = await run_in_threadpool(
            dashboard, uow_factory=uow, tenant_id=viewer.tenant_id, first=None, last=None, now=now
        )
    return portal.pages.render(
        "dashboard.html",
        status=422 if problem else 200,
        viewer=viewer,
        path=request.url.path,
        d=figures,
        problem=problem,
        per_day=bar_chart(
            "Orders per day",
            [(f"{day:%d %b}", count) for day, count in figures.orders_per_day],
        ),
        by_age=bar_chart(
            "Backlog by age", [(AGE_WORDS[age], figures.backlog.by_age[age]) for age in AGE_BUCKETS]
        ),
        past_sla=sum(h.past_sla for h in figures.holds),
        age_words=AGE_WORDS,
        cause_words=CAUSE_WORDS,
        percent=percent,
        asked={"from": figures.days.first.isoformat(), "to": figures.days.last.isoformat()},
    )
