"""The tenant's routing profile: read it, change it (a new version), see its history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from oms.domain.catalogue import location_named
from oms.domain.orders import Actor
from oms.domain.routing_profile import RoutingProfile
from oms.services.common import retry_transient, utcnow
from oms.services.ports import UnitOfWorkFactory

__all__ = ["ProfileVersion", "get_routing_profile", "list_profile_versions", "put_routing_profile"]


@dataclass(frozen=True)
class ProfileVersion:
    profile: RoutingProfile
    created_at: datetime
    created_by: str


def get_routing_profile(*, uow_factory: UnitOfWorkFactory, tenant_id: UUID) -> RoutingProfile:
    """The current version (version 0 means the defaults, never saved)."""
    with uow_factory(readonly=True) as uow:
        return uow.routing.current_profile(tenant_id)


def put_routing_profile(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    raw: Mapping[str, Any],
    actor: Actor,
    at: datetime | None = None,
) -> RoutingProfile:
    """Validate ``raw`` and save it as the next version (422 with pointers when invalid).
    Locations may be named by id or code; the profile keeps their codes."""
    profile = RoutingProfile.from_dict(raw)
    when = at or utcnow()

    def attempt() -> RoutingProfile:
        with uow_factory() as uow:
            visible = uow.locations.visible_to(tenant_id)

            def code_of(ref: str) -> str:
                found = location_named(visible, ref, tenant_id)
                return ref if found is None else found.code

            named = profile.by_code(code_of)
            saved = uow.routing.add_profile(tenant_id, named, actor=str(actor), at=when)
            uow.commit()
            return saved

    return retry_transient(attempt)


def list_profile_versions(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> list[ProfileVersion]:
    """Every saved version, newest first."""
    with uow_factory(readonly=True) as uow:
        return [
            ProfileVersion(profile=p, created_at=at, created_by=by)
            for p, at, by in uow.routing.profile_versions(tenant_id)
        ]
