"""Discount codes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from oms.api.schemas.common import Currency, Price, Strict, UtcTime
from oms.domain import lengths
from oms.domain.money import round_money
from oms.domain.pricing import DiscountCode, DiscountKind

__all__ = ["DiscountCodeCreate", "DiscountCodeRead"]

CodeText = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_upper=True,
        min_length=1,
        max_length=lengths.DISCOUNT_CODE,
        pattern=r"^[A-Za-z0-9_-]+$",
    ),
]


class DiscountCodeCreate(Strict):
    code: CodeText
    kind: DiscountKind
    value: Price = Field(
        default=Decimal(0), description="Percent for percentage, amount for fixed_amount, 0 else"
    )
    currency: Currency | None = None
    min_subtotal: Price | None = None
    starts_at: UtcTime | None = None
    ends_at: UtcTime | None = None
    usage_limit: int | None = Field(default=None, ge=1, le=1_000_000_000)
    per_customer_limit: int | None = Field(default=None, ge=1, le=1_000_000)
    active: bool = True

    def to_domain(self) -> DiscountCode:
        return DiscountCode(
            id=UUID(int=0),
            code=self.code,
            kind=self.kind,
            value=self.value,
            currency=self.currency,
            min_subtotal=self.min_subtotal,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            usage_limit=self.usage_limit,
            per_customer_limit=self.per_customer_limit,
            active=self.active,
        )


class DiscountCodeRead(BaseModel):
    id: UUID
    code: str
    kind: DiscountKind
    value: str
    currency: str | None
    min_subtotal: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    usage_limit: int | None
    per_customer_limit: int | None
    times_used: int
    active: bool

    @classmethod
    def of(cls, code: DiscountCode) -> DiscountCodeRead:
        def text(amount: Decimal | None) -> str | None:
            # Storage keeps four decimals: an amount shows its currency's, a percentage its own.
            if amount is None:
                return None
            return format(
                round_money(amount, code.currency) if code.currency else amount.normalize(), "f"
            )

        return cls(
            id=code.id,
            code=code.code,
            kind=code.kind,
            value=text(code.value) or "0",
            currency=code.currency,
            min_subtotal=text(code.min_subtotal),
            starts_at=code.starts_at,
            ends_at=code.ends_at,
            usage_limit=code.usage_limit,
            per_customer_limit=code.per_customer_limit,
            times_used=code.times_used,
            active=code.active,
        )
