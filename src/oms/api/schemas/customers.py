"""Customers and risk rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from oms.api.schemas.common import Strict, money_text
from oms.domain.risk import RiskRule, RiskRuleKind
from oms.services.customers import CustomerHistory
from oms.services.ports import CustomerRecord

__all__ = ["CustomerDetail", "CustomerRead", "RiskRuleCreate", "RiskRuleRead"]


class CustomerRead(BaseModel):
    id: UUID
    email: str
    name: str | None
    phone: str | None
    orders_count: int
    first_order_at: datetime | None
    last_order_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, record: CustomerRecord) -> CustomerRead:
        return cls(
            id=record.id,
            email=record.email,
            name=record.name,
            phone=record.phone,
            orders_count=record.orders_count,
            first_order_at=record.first_order_at,
            last_order_at=record.last_order_at,
            created_at=record.created_at,
        )


class OrderSummary(BaseModel):
    id: UUID
    number: int
    name: str
    status: str
    fulfillment_status: str
    payment_status: str
    total: str
    currency: str
    created_at: datetime


class CustomerDetail(CustomerRead):
    orders: list[OrderSummary] = Field(description="Most recent orders, newest first")
    store_credit: dict[str, str] = Field(
        default_factory=dict,
        description="Store-credit balance per currency (GET .../store-credit for the entries)",
    )

    @classmethod
    def of_history(cls, history: CustomerHistory) -> CustomerDetail:
        base = CustomerRead.of(history.customer).model_dump()
        return cls(
            **base,
            store_credit={c: money_text(b, c) for c, b in history.store_credit.items()},
            orders=[
                OrderSummary(
                    id=o.id,
                    number=o.number,
                    name=f"#{o.number}",
                    status=o.status.value,
                    fulfillment_status=o.fulfillment_status.value,
                    payment_status=o.payment_status.value,
                    total=money_text(o.total, o.currency),
                    currency=o.currency,
                    created_at=o.created_at,
                )
                for o in history.orders
            ],
        )


class RiskRuleCreate(Strict):
    kind: RiskRuleKind
    params: dict[str, Any] = Field(default_factory=dict)


class RiskRuleRead(BaseModel):
    id: UUID
    kind: RiskRuleKind
    params: dict[str, Any]
    active: bool

    @classmethod
    def of(cls, rule: RiskRule) -> RiskRuleRead:
        return cls(id=rule.id, kind=rule.kind, params=dict(rule.params), active=rule.active)
