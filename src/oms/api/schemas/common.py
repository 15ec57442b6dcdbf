"""Shapes shared by several resources: addresses, money, pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from oms.domain.addresses import Address
from oms.domain.money import round_money

__all__ = ["AddressIn", "AddressOut", "Code", "Page", "Sku", "money_text"]

T = TypeVar("T")

Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Code = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$"
    ),
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]


class Strict(BaseModel):
    """Unknown fields are refused, so a typo never silently drops data; so is text with NUL."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL can neither store nor compare text holding NUL: refuse it as a 422 here.
        items = value if isinstance(value, list) else (value,)
        if any(isinstance(item, str) and "\x00" in item for item in items):
            raise ValueError("text cannot contain the NUL character")
        return value


class AddressIn(Strict):
    name: ShortText | None = None
    company: ShortText | None = None
    line1: ShortText | None = None
    line2: ShortText | None = None
    city: ShortText | None = None
    region: ShortText | None = None
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = (
        None
    )
    country: Annotated[
        str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$")
    ] = Field(description="ISO 3166-1 alpha-2 country code")
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)

    def to_domain(self) -> Address:
        return Address(**self.model_dump())


class AddressOut(BaseModel):
    name: str | None
    company: str | None
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str
    phone: str | None
    latitude: float | None
    longitude: float | None

    @classmethod
    def of(cls, address: Address | None) -> AddressOut | None:
        return None if address is None else cls(**address.to_dict())


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= to get the next page; null on the last page"
    )


def money_text(amount: Decimal, currency: str) -> str:
    """A decimal string with exactly the currency's minor digits, e.g. "12.50"."""
    return format(round_money(amount, currency), "f")
