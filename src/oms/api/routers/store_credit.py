"""/v1/customers/{customer_id}/store-credit: a customer's store credit (docs/returns.md)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from oms.api.deps import TenantId, UowDep, parse_uuid
from oms.api.one_hop import OneHopRoute
from oms.api.schemas.common import money_text
from oms.services import store_credit

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1", tags=["customers"])


class StoreCreditBalanceRead(BaseModel):
    currency: str
    balance: str


class StoreCreditEntryRead(BaseModel):
    id: UUID
    amount: str = Field(description="+ credited (a return), - spent")
    currency: str
    return_id: UUID | None
    order_id: UUID | None
    note: str | None
    created_at: datetime
    created_by: str


class StoreCreditRead(BaseModel):
    customer_id: UUID
    balances: list[StoreCreditBalanceRead] = Field(
        description="Per currency: the sum of the entries, never below zero"
    )
    entries: list[StoreCreditEntryRead] = Field(description="The latest 50, newest first")


@router.get("/customers/{customer_id}/store-credit", response_model=StoreCreditRead)
def get_store_credit(customer_id: str, tenant_id: TenantId, uow: UowDep) -> StoreCreditRead:
    """A customer's store credit: what store-credit returns gave and what was spent."""
    account = store_credit.get_store_credit(
        uow_factory=uow, tenant_id=tenant_id, customer_id=parse_uuid(customer_id, "customer")
    )
    return StoreCreditRead(
        customer_id=account.customer_id,
        balances=[
            StoreCreditBalanceRead(currency=c, balance=money_text(b, c))
            for c, b in account.balances.items()
        ],
        entries=[
            StoreCreditEntryRead(
                id=e.id,
                amount=money_text(e.amount, e.currency),
                currency=e.currency,
                return_id=e.return_id,
                order_id=e.order_id,
                note=e.note,
                created_at=e.created_at,
                created_by=e.created_by,
            )
            for e in account.entries
        ],
    )
