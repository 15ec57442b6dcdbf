"""/v1/dashboard: the operations dashboard's figures for a range of days."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from oms.api.deps import CurrentPrincipal, UowDep
from oms.api.one_hop import OneHopRoute
from oms.api.schemas.dashboard import DashboardRead
from oms.services import dashboard as dashboard_service
from oms.services.common import utcnow

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1/dashboard", tags=["dashboard"])


@router.get("", response_model=DashboardRead, response_model_by_alias=True)
def get_dashboard(
    principal: CurrentPrincipal,
    uow: UowDep,
    first: Annotated[
        date | None,
        Query(alias="from", description="First day (UTC), included; default: 6 days before to"),
    ] = None,
    last: Annotated[
        date | None, Query(alias="to", description="Last day (UTC), included; default: today")
    ] = None,
) -> DashboardRead:
    """The dashboard of the caller's tenant; an operator key without OMS-Tenant sees every
    tenant together. At most 366 days (422 beyond, or when `to` is before `from`)."""
    # An operator key names a tenant with OMS-Tenant; without one it sees every tenant's.
    # A tenant key only ever sees its own.
    tenant_id = principal.tenant_id if principal.is_operator else principal.require_tenant()
    found = dashboard_service.dashboard(
        uow_factory=uow, tenant_id=tenant_id, first=first, last=last, now=utcnow()
    )
    return DashboardRead.of(found)
