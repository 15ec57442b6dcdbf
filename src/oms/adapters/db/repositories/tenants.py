"""Tenants, API keys, and each tenant's order numbers.

Order numbers come from a per-tenant counter. On PostgreSQL that counter is a SEQUENCE
(``order_number_<tenant hex>``, created with the tenant): ``nextval`` takes no row lock, so
concurrent intakes of one tenant do not queue behind each other until commit, as they would
on a counter row. The price: a number taken by a transaction that then rolls back is not
reused, so numbers increase but may have gaps. On SQLite, where writers are serialised
anyway, the counter stays the ``tenants.last_order_number`` row (no gaps).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, bindparam, exists, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import aggregate_order_by

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.repositories.support import insert_if_absent
from oms.adapters.db.tables import (
    api_keys,
    carrier_services,
    cart_reservations,
    risk_rules,
    routing_profiles,
    tenants,
)
from oms.domain.carts import CartStatus
from oms.domain.policies import TenantPolicies
from oms.domain.risk import RiskRule, RiskRuleKind
from oms.domain.routing_profile import RoutingProfile
from oms.domain.tenancy import ApiKeyScope, Principal, Tenant
from oms.services.ports import ApiKeyRecord, ApiKeyView, IntakeSettings

__all__ = ["SqlTenantRepository", "order_number_sequence"]

# The first number a tenant's orders get: ``tenants.last_order_number`` starts at 1000.
FIRST_ORDER_NUMBER = 1001


# Asked by every order intake: built once, parameters bound at execution.
_POLICIES = select(tenants.c.settings).where(
    tenants.c.id == bindparam("p_tenant_id", type_=tenants.c.id.type)
)
_POLICIES_RUN = DriverStatement(_POLICIES)
_NEXT_IN_SEQUENCE = DriverStatement("SELECT nextval(CAST(%(sequence)s AS regclass))")
_NEXT_IN_SEQUENCE_MANY = DriverStatement(
    "SELECT nextval(CAST(%(sequence)s AS regclass)) FROM generate_series(1, %(count)s)"
)
_rp, _cr = routing_profiles.c, cart_reservations.c
_tenant = bindparam("p_tenant_id", type_=tenants.c.id.type)
_newest_profile = (
    select(_rp.version, _rp.body).where(_rp.tenant_id == _tenant).order_by(_rp.version.desc())
)
# Three reads of every order intake in one statement: the tenant's policies, its current
# routing profile, and whether any cart reservation is due to expire (the same conditions
# as the cart repository's sweep).
_INTAKE_SETTINGS = select(
    _POLICIES.scalar_subquery().label("settings"),
    _newest_profile.with_only_columns(_rp.version).limit(1).scalar_subquery().label("version"),
    _newest_profile.with_only_columns(_rp.body).limit(1).scalar_subquery().label("body"),
    exists()
    .where(
        _cr.tenant_id == _tenant,
        _cr.status == CartStatus.ACTIVE.value,
        _cr.expires_at <= bindparam("p_now", type_=_cr.expires_at.type),
    )
    .label("carts_due"),
)
_r = risk_rules.c
# On PostgreSQL the active risk rules come along too, as one JSON array (oldest id first,
# as SqlRiskRuleRepository.active lists them).
_INTAKE_SETTINGS_PG_QUERY = _INTAKE_SETTINGS.add_columns(
    select(
        func.json_agg(
            aggregate_order_by(
                func.json_build_object(
                    "id", _r.id, "kind", _r.kind, "params", _r.params, "active", _r.active
                ),
                _r.id,
            )
        )
    )
    .where(_r.tenant_id == _tenant, _r.active.is_(True))
    .scalar_subquery()
    .label("risk_rules"),
    # The rate cards of the deployment's active carrier services, in the order
    # SqlRoutingRepository.carrier_service_rows lists them.
    select(
        func.json_agg(
            aggregate_order_by(
                carrier_services.c.rate_card, carrier_services.c.carrier, carrier_services.c.code
            )
        )
    )
    .where(carrier_services.c.active.is_(True))
    .scalar_subquery()
    .label("rate_cards"),
)
_INTAKE_SETTINGS_PG = DriverStatement(_INTAKE_SETTINGS_PG_QUERY)


def _rules(raw: list[dict[str, Any]] | None) -> list[RiskRule]:
    return [
        RiskRule(
            id=UUID(r["id"]), kind=RiskRuleKind(r["kind"]), params=r["params"], active=r["active"]
        )
        for r in raw or []
    ]


_TENANT = select(tenants.c.id, tenants.c.name, tenants.c.created_at, tenants.c.slug)


def _tenant_of(row: Any) -> Tenant:
    return Tenant(id=row.id, name=row.name, created_at=row.created_at, slug=row.slug)


def order_number_sequence(tenant_id: UUID) -> str:
    """The name of the PostgreSQL sequence that numbers ``tenant_id``'s orders."""
    return f"order_number_{tenant_id.hex}"


class SqlTenantRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, tenant: Tenant) -> bool:
        """Insert the tenant; False (and nothing written) when its slug is taken."""
        added = insert_if_absent(
            self._conn,
            tenants,
            {
                "id": tenant.id,
                "name": tenant.name,
                "created_at": tenant.created_at,
                "slug": tenant.slug,
            },
        )
        if not added:
            return False
        if self._conn.dialect.name == "postgresql":
            # Transactional DDL: the sequence exists exactly when the tenant row does.
            self._conn.execute(
                text(
                    f"CREATE SEQUENCE {order_number_sequence(tenant.id)} AS bigint "
                    f"START WITH {FIRST_ORDER_NUMBER}"
                )
            )
        return True

    def get(self, tenant_id: UUID) -> Tenant | None:
        row = self._conn.execute(_TENANT.where(tenants.c.id == tenant_id)).first()
        return None if row is None else _tenant_of(row)

    def by_slug(self, slug: str) -> Tenant | None:
        row = self._conn.execute(_TENANT.where(tenants.c.slug == slug)).first()
        return None if row is None else _tenant_of(row)

    def slugs_like(self, base: str) -> set[str]:
        """The slugs taken among ``base`` and ``base-<anything>``."""
        escaped = base.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return set(
            self._conn.scalars(
                select(tenants.c.slug).where(
                    (tenants.c.slug == base) | tenants.c.slug.like(f"{escaped}-%", escape="\\")
                )
            )
        )

    def list_ids(self) -> list[UUID]:
        return list(self._conn.scalars(select(tenants.c.id).order_by(tenants.c.created_at)))

    def all(self) -> list[Tenant]:
        rows = self._conn.execute(_TENANT.order_by(tenants.c.created_at, tenants.c.id))
        return [_tenant_of(row) for row in rows]

    def api_keys(self, tenant_id: UUID | None = None) -> list[ApiKeyView]:
        """Every key (or one tenant's), oldest first; the hash is never read."""
        k = api_keys.c
        query = select(
            k.id, k.tenant_id, k.scope, k.name, k.prefix, k.created_at, k.revoked_at
        ).order_by(k.created_at, k.id)
        if tenant_id is not None:
            query = query.where(k.tenant_id == tenant_id)
        return [
            ApiKeyView(
                id=row.id,
                tenant_id=row.tenant_id,
                scope=ApiKeyScope(row.scope),
                name=row.name,
                prefix=row.prefix,
                created_at=row.created_at,
                revoked_at=row.revoked_at,
            )
            for row in self._conn.execute(query)
        ]

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
        raw = _POLICIES_RUN.scalar(self._conn, {"p_tenant_id": tenant_id})
        return TenantPolicies.from_dict(raw)

    def intake_settings(self, tenant_id: UUID, now: datetime) -> IntakeSettings:
        """Policies, current routing profile (defaults if none), whether carts are due and,
        on PostgreSQL, the active risk rules and carrier rate cards."""
        postgres = self._conn.dialect.name == "postgresql"
        params = {"p_tenant_id": tenant_id, "p_now": now}
        row = (
            _INTAKE_SETTINGS_PG.one(self._conn, params)
            if postgres
            else self._conn.execute(_INTAKE_SETTINGS, params).one()
        )
        return IntakeSettings(
            policies=TenantPolicies.from_dict(row.settings),
            routing_profile=RoutingProfile()
            if row.version is None
            else RoutingProfile.from_dict(row.body, version=row.version),
            carts_due=bool(row.carts_due),
            risk_rules=_rules(row.risk_rules) if postgres else None,
            carrier_rate_cards=(row.rate_cards or []) if postgres else None,
        )

    def set_policies(self, tenant_id: UUID, policies: TenantPolicies) -> None:
        self._conn.execute(
            update(tenants).where(tenants.c.id == tenant_id).values(settings=policies.to_dict())
        )

    def next_order_numbers(self, tenant_id: UUID, count: int) -> list[int]:
        """``count`` order numbers at once, ascending."""
        if count < 1:
            return []
        if self._conn.dialect.name == "postgresql":
            rows = _NEXT_IN_SEQUENCE_MANY.rows(
                self._conn, {"sequence": order_number_sequence(tenant_id), "count": count}
            )
            return sorted(int(row[0]) for row in rows)
        last = self._conn.scalar(
            update(tenants)
            .where(tenants.c.id == tenant_id)
            .values(last_order_number=tenants.c.last_order_number + count)
            .returning(tenants.c.last_order_number)
        )
        assert last is not None, "tenant vanished inside its own transaction"
        return list(range(int(last) - count + 1, int(last) + 1))

    def next_order_number(self, tenant_id: UUID) -> int:
        if self._conn.dialect.name == "postgresql":
            taken = _NEXT_IN_SEQUENCE.one(
                self._conn, {"sequence": order_number_sequence(tenant_id)}
            )[0]
            return int(taken)
        number = self._conn.scalar(
            update(tenants)
            .where(tenants.c.id == tenant_id)
            .values(last_order_number=tenants.c.last_order_number + 1)
            .returning(tenants.c.last_order_number)
        )
        assert number is not None, "tenant vanished inside its own transaction"
        return int(number)
