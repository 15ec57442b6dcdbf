"""A tenant's risk rules in memory (``RiskRuleRepository``)."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from oms.adapters.memory.tables import MemorySession
from oms.domain.risk import RiskRule

__all__ = ["MemoryRiskRuleRepository"]


class MemoryRiskRuleRepository:
    def __init__(self, session: MemorySession) -> None:
        self._session = session

    def add(self, tenant_id: UUID, rule: RiskRule, at: datetime) -> None:
        if (tenant_id, rule.id) in self._session.tables.risk_rules:
            raise ValueError(f"risk rule {rule.id} exists already")
        stored = replace(rule, params=copy.deepcopy(dict(rule.params)))
        self._session.write().risk_rules[(tenant_id, rule.id)] = stored

    def all(self, tenant_id: UUID) -> list[RiskRule]:
        """The tenant's rules, oldest id first."""
        found = [r for (t, _), r in self._session.tables.risk_rules.items() if t == tenant_id]
        return [copy.deepcopy(r) for r in sorted(found, key=lambda r: r.id)]

    def active(self, tenant_id: UUID) -> list[RiskRule]:
        return [r for r in self.all(tenant_id) if r.active]

    def deactivate(self, tenant_id: UUID, rule_id: UUID) -> bool:
        found = self._session.tables.risk_rules.get((tenant_id, rule_id))
        if found is None or not found.active:
            return False
        self._session.write().risk_rules[(tenant_id, rule_id)] = replace(found, active=False)
        return True
