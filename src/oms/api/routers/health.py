"""Liveness and readiness."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from oms.api.deps import UowDep
from oms.api.one_hop import OneHopRoute

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(uow: UowDep) -> JSONResponse | dict[str, str]:
    """The database answers."""
    try:
        with uow(readonly=True) as unit:
            unit.tenants.get(UUID(int=0))
    except Exception as exc:  # any failure means not ready; say which
        return JSONResponse(
            {"status": "unavailable", "detail": type(exc).__name__}, status_code=503
        )
    return {"status": "ok"}
