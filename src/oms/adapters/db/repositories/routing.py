"""Routing profiles (versioned per tenant), carrier services and daily location load."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, func, select, update

from oms.adapters.db.repositories.support import insert_if_absent
from oms.adapters.db.tables import carrier_services, location_loads, routing_profiles
from oms.domain.routing_profile import RoutingProfile

__all__ = ["SqlRoutingRepository"]

_p = routing_profiles.c
_s = carrier_services.c
_l = location_loads.c
# Read by every routed order: built once (building a statement costs more than running it
# against an empty or small table).
_ALL_SERVICES = select(carrier_services).order_by(_s.carrier, _s.code)
_ACTIVE_SERVICES = select(carrier_services).where(_s.active.is_(True)).order_by(_s.carrier, _s.code)


class SqlRoutingRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def current_profile(self, tenant_id: UUID) -> RoutingProfile:
        """The newest version, or the defaults (version 0) when the tenant set none."""
        row = self._conn.execute(
            select(_p.version, _p.body)
            .where(_p.tenant_id == tenant_id)
            .order_by(_p.version.desc())
            .limit(1)
        ).first()
        if row is None:
            return RoutingProfile()
        return RoutingProfile.from_dict(row.body, version=row.version)

    def profile_versions(self, tenant_id: UUID) -> list[tuple[RoutingProfile, datetime, str]]:
        rows = self._conn.execute(
            select(routing_profiles).where(_p.tenant_id == tenant_id).order_by(_p.version.desc())
        )
        return [
            (RoutingProfile.from_dict(r.body, version=r.version), r.created_at, r.created_by)
            for r in rows
        ]

    def add_profile(
        self, tenant_id: UUID, profile: RoutingProfile, *, actor: str, at: datetime
    ) -> RoutingProfile:
        """Store ``profile`` as the next version; a concurrent save of the same version loses."""
        latest = self._conn.scalar(
            select(func.coalesce(func.max(_p.version), 0)).where(_p.tenant_id == tenant_id)
        )
        version = int(latest or 0) + 1
        saved = insert_if_absent(
            self._conn,
            routing_profiles,
            {
                "tenant_id": tenant_id,
                "version": version,
                "body": profile.to_dict(),
                "created_by": actor,
                "created_at": at,
            },
        )
        if not saved:
            raise RuntimeError("routing profile version taken concurrently")
        return RoutingProfile.from_dict(profile.to_dict(), version=version)

    def carrier_service_rows(self, *, active_only: bool = True) -> list[dict[str, Any]]:
        query = _ACTIVE_SERVICES if active_only else _ALL_SERVICES
        return [dict(r._mapping) for r in self._conn.execute(query)]

    def upsert_carrier_service(
        self,
        *,
        carrier: str,
        code: str,
        name: str,
        rate_card: dict[str, Any],
        service_id: UUID,
        at: datetime,
    ) -> bool:
        """Insert or replace a service's rate card; True when it was new."""
        if insert_if_absent(
            self._conn,
            carrier_services,
            {
                "id": service_id,
                "carrier": carrier,
                "code": code,
                "name": name,
                "rate_card": rate_card,
                "active": True,
                "created_at": at,
            },
        ):
            return True
        self._conn.execute(
            update(carrier_services)
            .where(_s.carrier == carrier, _s.code == code)
            .values(name=name, rate_card=rate_card, active=True)
        )
        return False

    def loads(self, tenant_id: UUID, day: date) -> dict[UUID, int]:
        rows = self._conn.execute(
            select(_l.location_id, _l.orders).where(_l.tenant_id == tenant_id, _l.day == day)
        )
        return {r.location_id: r.orders for r in rows}

    def take_capacity(
        self, tenant_id: UUID, location_id: UUID, day: date, capacity: int | None
    ) -> bool:
        """Count one more order at a location today, unless it is full (conditional update)."""
        insert_if_absent(
            self._conn,
            location_loads,
            {"tenant_id": tenant_id, "location_id": location_id, "day": day, "orders": 0},
        )
        query = update(location_loads).where(
            _l.tenant_id == tenant_id, _l.location_id == location_id, _l.day == day
        )
        if capacity is not None:
            query = query.where(_l.orders < capacity)
        return (
            self._conn.execute(query.values(orders=_l.orders + 1).returning(_l.orders)).first()
            is not None
        )

    def give_back_capacity(self, tenant_id: UUID, location_id: UUID, day: date) -> None:
        self._conn.execute(
            update(location_loads)
            .where(
                _l.tenant_id == tenant_id,
                _l.location_id == location_id,
                _l.day == day,
                _l.orders > 0,
            )
            .values(orders=_l.orders - 1)
        )
