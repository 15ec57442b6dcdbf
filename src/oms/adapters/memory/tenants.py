"""Tenants, API keys and order numbers in memory (``TenantRepository``).

Order numbers follow the SQLite adapter: a counter on the tenant from 1000, taken
numbers given back by a rollback (PostgreSQL's sequence may leave gaps instead).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from oms.adapters.memory.tables import MemorySession, StoredTenant
from oms.domain.carts import CartStatus
from oms.domain.policies import TenantPolicies
from oms.domain.routing_profile import RoutingProfile
from oms.domain.tenancy import Principal, Tenant
from oms.services.ports import ApiKeyRecord, ApiKeyView, IntakeSettings

__all__ = ["MemoryTenantRepository"]


class MemoryTenantRepository:
    def __init__(self, session: MemorySession) -> None:
        self._session = session

    def add(self, tenant: Tenant) -> bool:
        """Keep the tenant; False (and nothing kept) when its id or slug is taken."""
        tables = self._session.tables
        if tenant.id in tables.tenants or any(
            t.tenant.slug == tenant.slug for t in tables.tenants.values()
        ):
            return False
        self._session.write().tenants[tenant.id] = StoredTenant(tenant)
        return True

    def get(self, tenant_id: UUID) -> Tenant | None:
        stored = self._session.tables.tenants.get(tenant_id)
        return None if stored is None else stored.tenant

    def by_slug(self, slug: str) -> Tenant | None:
        return next(
            (t.tenant for t in self._session.tables.tenants.values() if t.tenant.slug == slug),
            None,
        )

    def slugs_like(self, base: str) -> set[str]:
        """The slugs taken among ``base`` and ``base-<anything>``."""
        return {
            t.tenant.slug
            for t in self._session.tables.tenants.values()
            if t.tenant.slug == base or t.tenant.slug.startswith(base + "-")
        }

    def list_ids(self) -> list[UUID]:
        return [t.id for t in self.all()]

    def all(self) -> list[Tenant]:
        tenants = [t.tenant for t in self._session.tables.tenants.values()]
        return sorted(tenants, key=lambda t: (t.created_at, t.id))

    def add_api_key(self, record: ApiKeyRecord) -> None:
        tables = self._session.tables
        if record.id in tables.api_keys or any(
            r.key_hash == record.key_hash for r, _ in tables.api_keys.values()
        ):
            raise ValueError(f"API key {record.id} or its hash exists already")
        self._session.write().api_keys[record.id] = (record, None)

    def api_keys(self, tenant_id: UUID | None = None) -> list[ApiKeyView]:
        """Every key (or one tenant's), oldest first; never the hash."""
        views = [
            ApiKeyView(
                id=r.id,
                tenant_id=r.tenant_id,
                scope=r.scope,
                name=r.name,
                prefix=r.prefix,
                created_at=r.created_at,
                revoked_at=revoked_at,
            )
            for r, revoked_at in self._session.tables.api_keys.values()
            if tenant_id is None or r.tenant_id == tenant_id
        ]
        return sorted(views, key=lambda v: (v.created_at, v.id))

    def principal_for_key(self, key_hash: str) -> Principal | None:
        for record, revoked_at in self._session.tables.api_keys.values():
            if record.key_hash == key_hash and revoked_at is None:
                return Principal(key_id=record.id, scope=record.scope, tenant_id=record.tenant_id)
        return None

    def revoke_api_key(self, key_id: UUID, at: datetime) -> bool:
        found = self._session.tables.api_keys.get(key_id)
        if found is None or found[1] is not None:
            return False
        self._session.write().api_keys[key_id] = (found[0], at)
        return True

    def _stored(self, tenant_id: UUID) -> StoredTenant | None:
        return self._session.tables.tenants.get(tenant_id)

    def policies(self, tenant_id: UUID) -> TenantPolicies:
        stored = self._stored(tenant_id)
        return TenantPolicies.from_dict(None if stored is None else stored.settings)

    def set_policies(self, tenant_id: UUID, policies: TenantPolicies) -> None:
        stored = self._session.write().tenants.get(tenant_id)
        if stored is not None:
            stored.settings = policies.to_dict()

    def intake_settings(self, tenant_id: UUID, now: datetime) -> IntakeSettings:
        """As on SQLite: policies, the default routing profile (routing profiles are not
        kept in memory), whether a cart is due; risk rules and rate cards not read."""
        carts_due = any(
            key[0] == tenant_id and cart.status is CartStatus.ACTIVE and cart.expires_at <= now
            for key, cart in self._session.tables.carts.items()
        )
        return IntakeSettings(
            policies=self.policies(tenant_id),
            routing_profile=RoutingProfile(),
            carts_due=carts_due,
        )

    def next_order_numbers(self, tenant_id: UUID, count: int) -> list[int]:
        """``count`` order numbers at once, ascending."""
        if count < 1:
            return []
        stored = self._session.write().tenants.get(tenant_id)
        assert stored is not None, "tenant vanished inside its own transaction"
        first = stored.last_order_number + 1
        stored.last_order_number += count
        return list(range(first, stored.last_order_number + 1))

    def next_order_number(self, tenant_id: UUID) -> int:
        (number,) = self.next_order_numbers(tenant_id, 1)
        return number
