"""/v1/routing-profile: the rules the router works under, versioned."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict

from oms.api.deps import ActorDep, PageDep, TenantId, UowDep, page_of_all
from oms.api.one_hop import OneHopRoute
from oms.api.schemas.common import Page
from oms.domain.routing_profile import RoutingProfile
from oms.services import routing_profiles

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1", tags=["routing"])


class RoutingProfileRead(BaseModel):
    """The version and every setting side by side, in the shape ``PUT`` takes: what is read
    can be sent back unchanged (``version``, ``created_at``, ``created_by`` are read-only
    and ignored there)."""

    # The settings are RoutingProfile.to_dict's, whatever it holds: one source for both ways.
    model_config = ConfigDict(extra="allow")

    version: int
    created_at: datetime | None = None
    created_by: str | None = None

    @classmethod
    def of(cls, profile: RoutingProfile, **extra: Any) -> RoutingProfileRead:
        return cls(version=profile.version, **profile.to_dict(), **extra)


@router.get("/routing-profile", response_model=RoutingProfileRead)
def get_profile(tenant_id: TenantId, uow: UowDep) -> RoutingProfileRead:
    """The current routing profile (version 0: the defaults, never saved)."""
    return RoutingProfileRead.of(
        routing_profiles.get_routing_profile(uow_factory=uow, tenant_id=tenant_id)
    )


@router.put("/routing-profile", response_model=RoutingProfileRead)
def put_profile(
    body: Annotated[
        dict[str, Any],
        Body(
            description="The settings, as GET answers them (docs/routing.md); a setting left "
            "out takes its default; version, created_at and created_by are ignored"
        ),
    ],
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
) -> RoutingProfileRead:
    """Replace the profile: allow_split, max_locations, excluded_locations, ship_from_store,
    daily_capacity, safety_stock, handling_cost, default_handling_cost, split_penalty,
    service_levels (days). Saved as a new version; orders record the version they used.
    What GET answers can be sent back unchanged."""
    return RoutingProfileRead.of(
        routing_profiles.put_routing_profile(
            uow_factory=uow, tenant_id=tenant_id, raw=body, actor=actor
        )
    )


@router.get("/routing-profile/versions", response_model=Page[RoutingProfileRead])
def list_versions(tenant_id: TenantId, uow: UowDep, page: PageDep) -> Page[RoutingProfileRead]:
    """Every saved version, newest first."""
    return page_of_all(
        routing_profiles.list_profile_versions(uow_factory=uow, tenant_id=tenant_id),
        page,
        item=lambda v: RoutingProfileRead.of(
            v.profile, created_at=v.created_at, created_by=v.created_by
        ),
        cursor=lambda v: f"{v.profile.version:010d}",
        descending=True,
    )
