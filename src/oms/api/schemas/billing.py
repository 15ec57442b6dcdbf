"""Billing shapes: a merchant's price list in and out, and its statement."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from oms.api.schemas.common import Currency, Strict, money_text
from oms.domain import lengths
from oms.domain.billing import (
    ANY_LOCATION,
    PriceList,
    Statement,
    StorageBasis,
    StorageRate,
)
from oms.domain.money import without_negative_zero
from oms.services.billing import StatementSet

__all__ = [
    "PriceListBody",
    "PriceListRead",
    "StatementLineRead",
    "StatementListRead",
    "StatementRead",
]

# A rate may be finer than the currency's minor unit; never negative zero (like Price).
Rate = Annotated[
    Decimal,
    Field(ge=0, max_digits=18, decimal_places=4),
    AfterValidator(without_negative_zero),
]
LocationOrAny = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=lengths.LOCATION_CODE)
]
Category = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=lengths.CATEGORY)
]


class StorageRateBody(Strict):
    location: LocationOrAny = Field(
        default=ANY_LOCATION, description='A location code, or "*" for any other'
    )
    basis: StorageBasis
    rate: Rate


class PriceListBody(Strict):
    """A merchant's prices; a rate left out is zero. Rates may have up to 4 decimals."""

    currency: Currency
    storage: list[StorageRateBody] = Field(default_factory=list, max_length=200)
    receiving_per_receipt: Rate = Decimal(0)
    receiving_per_line: Rate = Decimal(0)
    receiving_per_unit: Rate = Decimal(0)
    pick_per_order: Rate = Decimal(0)
    pick_per_line: Rate = Decimal(0)
    pick_per_unit: Rate = Decimal(0)
    per_package: Rate = Decimal(0)
    label_markup_percent: Rate = Decimal(0)
    special_handling: dict[Category, Rate] = Field(
        default_factory=dict,
        max_length=100,
        description="Product category -> price per unit shipped",
    )

    def to_price_list(self) -> PriceList:
        return PriceList(
            currency=self.currency,
            storage=tuple(StorageRate(s.location, s.basis, s.rate) for s in self.storage),
            receiving_per_receipt=self.receiving_per_receipt,
            receiving_per_line=self.receiving_per_line,
            receiving_per_unit=self.receiving_per_unit,
            pick_per_order=self.pick_per_order,
            pick_per_line=self.pick_per_line,
            pick_per_unit=self.pick_per_unit,
            per_package=self.per_package,
            label_markup_percent=self.label_markup_percent,
            special_handling=dict(self.special_handling),
        )


class PriceListRead(BaseModel):
    currency: str
    storage: list[dict[str, str]]
    receiving_per_receipt: str
    receiving_per_line: str
    receiving_per_unit: str
    pick_per_order: str
    pick_per_line: str
    pick_per_unit: str
    per_package: str
    label_markup_percent: str
    special_handling: dict[str, str]

    @classmethod
    def of(cls, prices: PriceList) -> PriceListRead:
        def text(value: Decimal) -> str:
            return format(value.normalize(), "f")

        return cls(
            currency=prices.currency,
            storage=[
                {"location": s.location, "basis": s.basis.value, "rate": text(s.rate)}
                for s in prices.storage
            ],
            receiving_per_receipt=text(prices.receiving_per_receipt),
            receiving_per_line=text(prices.receiving_per_line),
            receiving_per_unit=text(prices.receiving_per_unit),
            pick_per_order=text(prices.pick_per_order),
            pick_per_line=text(prices.pick_per_line),
            pick_per_unit=text(prices.pick_per_unit),
            per_package=text(prices.per_package),
            label_markup_percent=text(prices.label_markup_percent),
            special_handling={k: text(v) for k, v in prices.special_handling.items()},
        )


class StatementLineRead(BaseModel):
    code: str
    description: str
    quantity: str
    rate: str
    amount: str


class StorageRead(BaseModel):
    location: str
    unit_days: int
    bin_days: int


class ActivityRead(BaseModel):
    storage: list[StorageRead]
    receipts: int
    receipt_lines: int
    receipt_units: int
    pick_orders: int
    pick_lines: int
    pick_units: int
    packages: int
    labels: int
    label_cost: dict[str, str]
    units_by_category: dict[str, int]


class StatementRead(BaseModel):
    tenant_id: UUID
    tenant_name: str
    period: str
    currency: str
    activity: ActivityRead
    lines: list[StatementLineRead]
    total: str
    unpriced_label_cost: dict[str, str]

    @classmethod
    def of(cls, statement: Statement) -> StatementRead:
        cur = statement.currency
        a = statement.activity
        return cls(
            tenant_id=statement.tenant_id,
            tenant_name=statement.tenant_name,
            period=str(statement.period),
            currency=cur,
            activity=ActivityRead(
                storage=[
                    StorageRead(
                        location=s.location_code, unit_days=s.unit_days, bin_days=s.bin_days
                    )
                    for s in a.storage
                ],
                receipts=a.receipts,
                receipt_lines=a.receipt_lines,
                receipt_units=a.receipt_units,
                pick_orders=a.pick_orders,
                pick_lines=a.pick_lines,
                pick_units=a.pick_units,
                packages=a.packages,
                labels=a.labels,
                label_cost={c: money_text(v, c) for c, v in a.label_cost.items()},
                units_by_category=dict(a.units_by_category),
            ),
            lines=[
                StatementLineRead(
                    code=line.code,
                    description=line.description,
                    quantity=format(line.quantity.normalize(), "f"),
                    rate=format(line.rate.normalize(), "f"),
                    amount=money_text(line.amount, cur),
                )
                for line in statement.lines
            ],
            total=money_text(statement.total, cur),
            unpriced_label_cost={
                c: money_text(v, c) for c, v in statement.unpriced_label_cost.items()
            },
        )


class StatementListRead(BaseModel):
    period: str
    items: list[StatementRead]
    unpriced_tenants: list[UUID] = Field(
        description="Merchants of this page with no price list: not billed until one is set"
    )
    next_cursor: str | None = Field(
        description="Pass as ?cursor= to get the next merchants; null on the last page"
    )

    @classmethod
    def of(cls, found: StatementSet, next_cursor: str | None) -> StatementListRead:
        return cls(
            period=str(found.period),
            items=[StatementRead.of(s) for s in found.statements],
            unpriced_tenants=found.unpriced_tenants,
            next_cursor=next_cursor,
        )
