"""A tenant's risk rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Row, bindparam, insert, select, update

from oms.adapters.db.tables import risk_rules
from oms.domain.risk import RiskRule, RiskRuleKind

__all__ = ["SqlRiskRuleRepository"]

_r = risk_rules.c
# Read by every order intake: built once, the tenant bound at execution.
_ACTIVE = (
    select(risk_rules)
    .where(_r.tenant_id == bindparam("p_tenant_id", type_=_r.tenant_id.type), _r.active.is_(True))
    .order_by(_r.id)
)


def _rule(row: Row[Any]) -> RiskRule:
    return RiskRule(id=row.id, kind=RiskRuleKind(row.kind), params=row.params, active=row.active)


class SqlRiskRuleRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, tenant_id: UUID, rule: RiskRule, at: datetime) -> None:
        self._conn.execute(
            insert(risk_rules).values(
                tenant_id=tenant_id,
                id=rule.id,
                kind=rule.kind.value,
                params=dict(rule.params),
                active=rule.active,
                created_at=at,
            )
        )

    def active(self, tenant_id: UUID) -> list[RiskRule]:
        return [_rule(row) for row in self._conn.execute(_ACTIVE, {"p_tenant_id": tenant_id})]

    def all(self, tenant_id: UUID) -> list[RiskRule]:
        query = select(risk_rules).where(_r.tenant_id == tenant_id)
        return [_rule(row) for row in self._conn.execute(query.order_by(_r.id))]

    def deactivate(self, tenant_id: UUID, rule_id: UUID) -> bool:
        done = self._conn.execute(
            update(risk_rules)
            .where(_r.tenant_id == tenant_id, _r.id == rule_id, _r.active.is_(True))
            .values(active=False)
            .returning(_r.id)
        ).first()
        return done is not None
