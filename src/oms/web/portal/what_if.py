"""The routing profile's what-if run (``/app/settings/routing/what-if``): a candidate profile
(JSON or YAML, the form starts with the one in force) compared with the profile in force on
a set of orders (the tenant's latest ones, or CSV / JSON lines as ``oms routing simulate``
reads them), through ``oms.services.simulation.simulate`` against the stock as it is now.
Nothing is written; the result is told in sentences, with the figures in a table beside.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import yaml
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from oms.domain.errors import FieldError, InvalidRequest, OmsError
from oms.domain.routing_profile import RoutingProfile
from oms.services import routing_profiles
from oms.services.simulation import SimulationTotals, parse_orders, recent_orders, simulate
from oms.web.portal.auth import CheckedForm, PortalDep, Viewer, ViewerDep, app_state
from oms.web.portal.rendering import PortalPages, refusal

__all__ = ["router", "what_if_story"]

router = APIRouter(prefix="/app/settings/routing", include_in_schema=False)

RECENT_ORDERS = 200
MAX_ORDERS = 1000
MAX_TEXT = 100_000  # the portal refuses larger forms anyway (auth.MAX_FORM_BYTES)


def _money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')):,}"


def _share(part: float) -> str:
    return f"{part:.0%}"


def _compared(new: str, old: str) -> str:
    return f"{new}, as now" if new == old else f"{new} instead of {old}"


def what_if_story(now: SimulationTotals, candidate: SimulationTotals) -> list[str]:
    """The comparison in sentences: cost, parcels, splits, late promises, backorders and
    where the parcels would leave from (``now``: the profile in force)."""
    if not now.orders:
        return ["There were no orders to route: nothing to compare."]
    told = [
        f"{now.orders} order(s) routed under both profiles against the stock as it is now; "
        "nothing was changed."
    ]
    difference = candidate.total_cost - now.total_cost
    if difference == 0:
        told.append(
            f"Shipping and handling would cost {_money(candidate.total_cost)} under the "
            "candidate, the same as now."
        )
    else:
        way = "less" if difference < 0 else "more"
        share = f" ({abs(difference) / now.total_cost:.1%} {way})" if now.total_cost else ""
        told.append(
            f"Shipping and handling would cost {_money(candidate.total_cost)} under the "
            f"candidate: {_money(abs(difference))} {way} than the "
            f"{_money(now.total_cost)} of the profile in force{share}."
        )
    told.append(
        "Parcels per order: "
        + _compared(f"{candidate.packages_per_order:.2f}", f"{now.packages_per_order:.2f}")
        + "."
    )
    told.append(
        "Orders split over several locations: "
        + _compared(_share(candidate.split_rate), _share(now.split_rate))
        + "."
    )
    told.append(
        "Orders that would miss their promised date: "
        + _compared(str(candidate.late_orders), str(now.late_orders))
        + "."
    )
    told.append(
        "Units that would wait for stock: "
        + _compared(str(candidate.backordered_units), str(now.backordered_units))
        + "."
    )
    codes = sorted(set(now.load) | set(candidate.load))
    if codes:
        told.append(
            "Parcels per location: "
            + "; ".join(
                f"{code} {_compared(str(candidate.load[code]), str(now.load[code]))}"
                for code in codes
            )
            + "."
        )
    return told


@dataclass(frozen=True)
class WhatIfRow:
    name: str
    now: str
    candidate: str


def _rows(now: SimulationTotals, candidate: SimulationTotals) -> list[WhatIfRow]:
    return [
        WhatIfRow("Orders", str(now.orders), str(candidate.orders)),
        WhatIfRow("Shipping cost", _money(now.shipping), _money(candidate.shipping)),
        WhatIfRow("Handling cost", _money(now.handling), _money(candidate.handling)),
        WhatIfRow("Total cost", _money(now.total_cost), _money(candidate.total_cost)),
        WhatIfRow(
            "Parcels per order",
            f"{now.packages_per_order:.2f}",
            f"{candidate.packages_per_order:.2f}",
        ),
        WhatIfRow("Split rate", _share(now.split_rate), _share(candidate.split_rate)),
        WhatIfRow("Late promises", str(now.late_orders), str(candidate.late_orders)),
        WhatIfRow(
            "Backordered units", str(now.backordered_units), str(candidate.backordered_units)
        ),
    ]


def _candidate(text: str) -> RoutingProfile:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        first = str(error).splitlines()[0]
        raise InvalidRequest(
            "The candidate profile is not JSON or YAML", [FieldError("#/profile", first)]
        ) from None
    if not isinstance(raw, dict):
        raise InvalidRequest(
            "A routing profile is an object of settings",
            [FieldError("#/profile", "not an object")],
        )
    return RoutingProfile.from_dict(raw)


def _render(
    pages: PortalPages,
    request: Request,
    viewer: Viewer,
    *,
    profile_text: str,
    orders_text: str,
    status: int = 200,
    **result: Any,
) -> Response:
    template = "what_if.html" if viewer.tenant_id else "settings_pick.html"
    return pages.render(
        template,
        status=status,
        viewer=viewer,
        path=request.url.path,
        section="routing_profile.html",
        profile_text=profile_text,
        orders_text=orders_text,
        recent=RECENT_ORDERS,
        **result,
    )


@router.get("/what-if")
def what_if_form(request: Request, viewer: ViewerDep, portal: PortalDep) -> Response:
    """The form, starting from the profile in force."""
    text = ""
    if viewer.tenant_id is not None:
        current = routing_profiles.get_routing_profile(
            uow_factory=app_state(request).uow_factory, tenant_id=viewer.tenant_id
        )
        text = json.dumps(current.to_dict(), indent=2)
    return _render(portal.pages, request, viewer, profile_text=text, orders_text="")


@router.post("/what-if")
async def what_if_run(
    request: Request, viewer: ViewerDep, portal: PortalDep, form: CheckedForm
) -> Response:
    """Route the orders under the profile in force and the candidate; tell the difference.
    Reading only: any signed-in user of the tenant may run it."""
    profile_text = form.get("profile")[:MAX_TEXT]
    orders_text = form.get("orders")[:MAX_TEXT]
    tenant_id = viewer.tenant_id
    if tenant_id is None:
        return _render(portal.pages, request, viewer, profile_text="", orders_text="")
    state = app_state(request)

    def run() -> tuple[SimulationTotals, SimulationTotals, int, str]:
        candidate = _candidate(profile_text)
        if orders_text.strip():
            orders, source = parse_orders(orders_text), "the orders given"
        else:
            orders = recent_orders(
                uow_factory=state.uow_factory, tenant_id=tenant_id, limit=RECENT_ORDERS
            )
            source = f"the tenant's latest {len(orders)} orders shipped to an address"
        if len(orders) > MAX_ORDERS:
            raise InvalidRequest(
                f"At most {MAX_ORDERS} orders a run",
                [FieldError("#/orders", f"{len(orders)} orders")],
            )
        current = routing_profiles.get_routing_profile(
            uow_factory=state.uow_factory, tenant_id=tenant_id
        )
        now, then = simulate(
            uow_factory=state.uow_factory,
            tenant_id=tenant_id,
            orders=orders,
            profiles=[current, candidate],
            geocoder=state.geocoder,
            at=portal.pages.clock.now(),
        )
        return now, then, current.version, source

    try:
        now, then, version, source = await run_in_threadpool(run)
    except OmsError as refused:
        status, problem = refusal(refused)
        return _render(
            portal.pages,
            request,
            viewer,
            profile_text=profile_text,
            orders_text=orders_text,
            status=status,
            problem=problem,
        )
    return _render(
        portal.pages,
        request,
        viewer,
        profile_text=profile_text,
        orders_text=orders_text,
        story=what_if_story(now, then),
        rows=_rows(now, then),
        version=version,
        source=source,
    )
