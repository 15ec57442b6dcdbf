"""/v1/customers and /v1/risk-rules."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from oms.api.deps import PageDep, TenantId, UowDep, page_of, page_of_all, parse_uuid, uuid_cursor
from oms.api.one_hop import OneHopRoute
from oms.api.schemas.common import Page
from oms.api.schemas.customers import CustomerDetail, CustomerRead, RiskRuleCreate, RiskRuleRead
from oms.domain import lengths
from oms.services import customers, risk

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1", tags=["customers"])


@router.get("/customers", response_model=Page[CustomerRead])
def list_customers(
    tenant_id: TenantId,
    uow: UowDep,
    page: PageDep,
    email: Annotated[str | None, Query(max_length=lengths.EMAIL)] = None,
) -> Page[CustomerRead]:
    """Customers matched by normalised email, oldest first."""
    found = customers.list_customers(
        uow_factory=uow,
        tenant_id=tenant_id,
        email=email,
        after_id=None if page.cursor is None else uuid_cursor(page.cursor),
        limit=page.limit + 1,
    )
    return page_of(
        found,
        page,
        item=lambda c: CustomerRead.of(c),
        cursor=lambda c: str(c.id),
    )


@router.get("/customers/{customer_id}", response_model=CustomerDetail)
def get_customer(customer_id: str, tenant_id: TenantId, uow: UowDep) -> CustomerDetail:
    """One customer and their recent orders."""
    return CustomerDetail.of_history(
        customers.get_customer(
            uow_factory=uow, tenant_id=tenant_id, customer_id=parse_uuid(customer_id, "customer")
        )
    )


@router.post("/risk-rules", status_code=status.HTTP_201_CREATED, response_model=RiskRuleRead)
def create_risk_rule(body: RiskRuleCreate, tenant_id: TenantId, uow: UowDep) -> RiskRuleRead:
    """Add a rule; orders that match any active rule go on a fraud_review hold."""
    return RiskRuleRead.of(
        risk.create_risk_rule(
            uow_factory=uow, tenant_id=tenant_id, kind=body.kind, params=body.params
        )
    )


@router.get("/risk-rules", response_model=Page[RiskRuleRead])
def list_risk_rules(tenant_id: TenantId, uow: UowDep, page: PageDep) -> Page[RiskRuleRead]:
    """The tenant's risk rules, oldest first."""
    return page_of_all(
        risk.list_risk_rules(uow_factory=uow, tenant_id=tenant_id),
        page,
        item=RiskRuleRead.of,
        cursor=lambda r: str(r.id),
    )


@router.delete("/risk-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def deactivate_risk_rule(rule_id: str, tenant_id: TenantId, uow: UowDep) -> Response:
    """Stop applying a rule (it stays listed, inactive)."""
    risk.deactivate_risk_rule(
        uow_factory=uow, tenant_id=tenant_id, rule_id=parse_uuid(rule_id, "risk rule")
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
