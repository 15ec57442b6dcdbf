"""Locations and the grants that share them in memory (``LocationRepository``)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from oms.adapters.memory.tables import MemorySession
from oms.domain.catalogue import Location
from oms.domain.packing import Box

__all__ = ["MemoryLocationRepository"]


class MemoryLocationRepository:
    def __init__(self, session: MemorySession) -> None:
        self._session = session

    def add(self, location: Location) -> bool:
        """Keep the location; False when its id, or its code among its owner's locations
        (the operator's: owner None), is taken."""
        stored = self._session.tables.locations
        if location.id in stored or any(
            other.owner_tenant_id == location.owner_tenant_id and other.code == location.code
            for other in stored.values()
        ):
            return False
        self._session.write().locations[location.id] = copy.deepcopy(location)
        return True

    def update(self, location: Location) -> None:
        """Write everything but the id, owner, code and creation time."""
        stored = self._session.tables.locations.get(location.id)
        if stored is None:
            return
        self._session.write().locations[location.id] = replace(
            copy.deepcopy(location),
            owner_tenant_id=stored.owner_tenant_id,
            code=stored.code,
            created_at=stored.created_at,
        )

    def reserved_units(self, location_id: UUID) -> int:
        """Units reserved at the location for any tenant."""
        return sum(
            level.reserved
            for (_, _, at), level in self._session.tables.levels.items()
            if at == location_id
        )

    def get(self, location_id: UUID) -> Location | None:
        found = self._session.tables.locations.get(location_id)
        return None if found is None else copy.deepcopy(found)

    def visible_to(self, tenant_id: UUID) -> list[Location]:
        """The tenant's own locations and those granted to it, by code."""
        tables = self._session.tables
        granted = {loc for tenant, loc in tables.location_grants if tenant == tenant_id}
        found = [
            loc
            for loc in tables.locations.values()
            if loc.owner_tenant_id == tenant_id or loc.id in granted
        ]
        found.sort(key=lambda loc: (loc.code, loc.id))
        return [copy.deepcopy(loc) for loc in found]

    def grant(self, tenant_id: UUID, location_id: UUID, at: datetime) -> None:
        if (tenant_id, location_id) not in self._session.tables.location_grants:
            self._session.write().location_grants[(tenant_id, location_id)] = at

    def set_boxes(self, location_id: UUID, boxes: Iterable[Box]) -> None:
        stored = self._session.tables.locations.get(location_id)
        if stored is not None:
            self._session.write().locations[location_id] = replace(stored, boxes=tuple(boxes))

    def operator_locations(self) -> list[Location]:
        """Every location of the operator's own, by code."""
        found = [
            loc for loc in self._session.tables.locations.values() if loc.owner_tenant_id is None
        ]
        found.sort(key=lambda loc: loc.code)
        return [copy.deepcopy(loc) for loc in found]

    def operator_page(self, *, after_code: str | None, limit: int) -> list[Location]:
        found = [
            loc for loc in self.operator_locations() if after_code is None or loc.code > after_code
        ]
        return found[:limit]
