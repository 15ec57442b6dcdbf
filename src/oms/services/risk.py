"""Risk rules: define them, and assess an order being placed against them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from oms.domain.addresses import Address
from oms.domain.errors import NotFound
from oms.domain.ids import new_id
from oms.domain.risk import (
    RiskAssessment,
    RiskFacts,
    RiskRule,
    RiskRuleKind,
    address_key,
    assess,
    parse_rule_params,
    windows_needed,
)
from oms.services.common import utcnow
from oms.services.ports import UnitOfWork, UnitOfWorkFactory

__all__ = ["assess_order", "create_risk_rule", "deactivate_risk_rule", "list_risk_rules"]


def create_risk_rule(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    kind: RiskRuleKind,
    params: Mapping[str, Any],
    at: datetime | None = None,
) -> RiskRule:
    """Add a rule after checking its parameters (422 with field pointers)."""
    rule = RiskRule(id=new_id(), kind=kind, params=parse_rule_params(kind, params))
    with uow_factory() as uow:
        uow.risk_rules.add(tenant_id, rule, at or utcnow())
        uow.commit()
    return rule


def list_risk_rules(*, uow_factory: UnitOfWorkFactory, tenant_id: UUID) -> list[RiskRule]:
    """Every rule of the tenant, active or not, oldest first."""
    with uow_factory(readonly=True) as uow:
        return uow.risk_rules.all(tenant_id)


def deactivate_risk_rule(*, uow_factory: UnitOfWorkFactory, tenant_id: UUID, rule_id: UUID) -> None:
    """Stop applying a rule; orders it flagged keep their holds."""
    with uow_factory() as uow:
        if not uow.risk_rules.deactivate(tenant_id, rule_id):
            raise NotFound(f"No active risk rule {rule_id}")
        uow.commit()


def assess_order(
    uow: UnitOfWork,
    *,
    tenant_id: UUID,
    total: Decimal,
    currency: str,
    email: str | None,
    shipping_address: Address | None,
    billing_address: Address | None,
    is_new_customer: bool,
    at: datetime,
    rules: Sequence[RiskRule] | None = None,
) -> RiskAssessment:
    """Gather the facts the tenant's active rules need and assess the order against them.

    ``rules``: the tenant's active rules when already read in this transaction.
    """
    rules = uow.risk_rules.active(tenant_id) if rules is None else list(rules)
    if not rules:
        return RiskAssessment(matches=())
    key = (
        None
        if shipping_address is None
        else address_key(
            shipping_address.line1, shipping_address.postal_code, shipping_address.country
        )
    )
    email_windows, address_windows = windows_needed(rules)
    by_email = {
        hours: uow.orders.count_recent(
            tenant_id, email=email, address=None, since=at - timedelta(hours=hours)
        )
        for hours in email_windows
        if email is not None
    }
    by_address = {
        hours: uow.orders.count_recent(
            tenant_id, email=None, address=key, since=at - timedelta(hours=hours)
        )
        for hours in address_windows
        if key is not None
    }
    facts = RiskFacts(
        total=total,
        currency=currency,
        email=email,
        shipping_country=None if shipping_address is None else shipping_address.country,
        billing_country=None if billing_address is None else billing_address.country,
        shipping_address_key=key,
        is_new_customer=is_new_customer,
        orders_by_email_in_window=by_email,
        orders_by_address_in_window=by_address,
    )
    return assess(rules, facts)
