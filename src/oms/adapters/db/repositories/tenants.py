"""Tenants and API keys."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, insert, select, update

from oms.adapters.db.tables import api_keys, tenants
from oms.domain.policies import TenantPolicies
from oms.domain.tenancy import ApiKeyScope, Principal, Tenant
from oms.services.ports import ApiKeyRecord

__all__ = ["SqlTenantRepository"]


class SqlTenantRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, tenant: Tenant) -> None:
        self._conn.execute(
            insert(tenants).values(id=tenant.id, name=tenant.name, created_at=tenant.created_at)
        )

    def get(self, tenant_id: UUID) -> Tenant | None:
        row = self._conn.execute(select(tenants).where(tenants.c.id == tenant_id)).first()
        return None if row is None else Tenant(id=row.id, name=row.name, created_at=row.created_at)

    def list_ids(self) -> list[UUID]:
        return list(self._conn.scalars(select(tenants.c.id).order_by(tenants.c.created_at)))

    def add_api_key(self, record: ApiKeyRecord) -> None:
        self._conn.execute(
            insert(api_keys).values(
                id=record.id,
                tenant_id=record.tenant_id,
                scope=record.scope.value,
                name=record.name,
                prefix=record.prefix,
                key_hash=record.key_hash,
                created_at=record.created_at,
            )
        )

    def principal_for_key(self, key_hash: str) -> Principal | None:
        row = self._conn.execute(
            select(api_keys.c.id, api_keys.c.scope, api_keys.c.tenant_id).where(
                api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)
            )
        ).first()
        if row is None:
            return None
        return Principal(key_id=row.id, scope=ApiKeyScope(row.scope), tenant_id=row.tenant_id)

    def revoke_api_key(self, key_id: UUID, at: datetime) -> bool:
        revoked = self._conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(api_keys.c.id)
        ).first()
        return revoked is not None

    def policies(self, tenant_id: UUID) -> TenantPolicies:
        raw = self._conn.scalar(select(tenants.c.settings).where(tenants.c.id == tenant_id))
        return TenantPolicies.from_dict(raw)

    def set_policies(self, tenant_id: UUID, policies: TenantPolicies) -> None:
        self._conn.execute(
            update(tenants).where(tenants.c.id == tenant_id).values(settings=policies.to_dict())
        )

    def next_order_number(self, tenant_id: UUID) -> int:
        number = self._conn.scalar(
            update(tenants)
            .where(tenants.c.id == tenant_id)
            .values(last_order_number=tenants.c.last_order_number + 1)
            .returning(tenants.c.last_order_number)
        )
        assert number is not None, "tenant vanished inside its own transaction"
        return int(number)
