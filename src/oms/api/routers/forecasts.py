"""/v1/forecasts: the latest demand forecast of a SKU (``oms forecast run`` makes them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from oms.api.deps import TenantId, UowDep
from oms.api.one_hop import OneHopRoute
from oms.api.schemas.forecasts import ForecastRead
from oms.services.forecasting import get_forecast

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1/forecasts", tags=["forecasts"])


@router.get("/{sku}", response_model=ForecastRead)
def read_forecast(
    sku: str,
    tenant_id: TenantId,
    uow: UowDep,
    location: Annotated[
        str | None, Query(description="A location code; default: all locations together")
    ] = None,
) -> ForecastRead:
    """The chosen model, the horizon's daily points with 80%/95% intervals and the backtest
    against seasonal-naive; 404 if no forecast was made for the SKU (and location)."""
    found = get_forecast(uow_factory=uow, tenant_id=tenant_id, sku=sku, location=location)
    return ForecastRead.of(found)
