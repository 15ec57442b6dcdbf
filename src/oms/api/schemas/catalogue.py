"""Products and locations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints, model_validator

from oms.api.schemas.common import AddressIn, AddressOut, Code, ShortText, Sku, Strict, money_text
from oms.domain.catalogue import BundleComponent, Location, LocationKind, Product, ProductKind
from oms.services.catalogue import NewLocation, NewProduct

__all__ = ["LocationCreate", "LocationRead", "ProductCreate", "ProductRead"]

Currency = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")
]
Price = Annotated[
    Decimal, Field(ge=0, le=Decimal("99999999999999"), max_digits=18, decimal_places=4)
]


class ComponentIn(Strict):
    sku: Sku
    quantity: int = Field(ge=1, le=10_000)


class ProductCreate(Strict):
    sku: Sku
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    price: Price = Field(description='Unit price as a decimal string, e.g. "19.99"')
    currency: Currency
    kind: ProductKind = ProductKind.PHYSICAL
    weight_grams: int = Field(default=0, ge=0, le=10_000_000)
    category: ShortText | None = None
    components: list[ComponentIn] = Field(default_factory=list, max_length=100)

    def to_command(self) -> NewProduct:
        return NewProduct(
            sku=self.sku,
            name=self.name,
            price=self.price,
            currency=self.currency,
            kind=self.kind,
            weight_grams=self.weight_grams,
            category=self.category,
            components=tuple(BundleComponent(c.sku, c.quantity) for c in self.components),
        )


class ComponentOut(BaseModel):
    sku: str
    quantity: int


class ProductRead(BaseModel):
    id: UUID
    sku: str
    name: str
    price: str
    currency: str
    kind: ProductKind
    weight_grams: int
    category: str | None
    components: list[ComponentOut]
    created_at: datetime | None

    @classmethod
    def of(cls, product: Product) -> ProductRead:
        return cls(
            id=product.id,
            sku=product.sku,
            name=product.name,
            price=money_text(product.price, product.currency),
            currency=product.currency,
            kind=product.kind,
            weight_grams=product.weight_grams,
            category=product.category,
            components=[ComponentOut(sku=c.sku, quantity=c.quantity) for c in product.components],
            created_at=product.created_at,
        )


class LocationCreate(Strict):
    code: Code
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    kind: LocationKind = LocationKind.WAREHOUSE
    address: AddressIn | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    can_ship: bool = True
    can_pickup: bool = False
    priority: int = Field(default=100, ge=0, le=1_000_000, description="Lower goes first")
    pickup_cutoff: str = Field(
        default="16:00",
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Daily carrier pickup cut-off (HH:MM UTC); later orders ship a day later",
    )

    @model_validator(mode="after")
    def _both_coordinates(self) -> LocationCreate:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self

    def to_command(self) -> NewLocation:
        return NewLocation(
            code=self.code,
            name=self.name,
            kind=self.kind,
            address=None if self.address is None else self.address.to_domain(),
            latitude=self.latitude,
            longitude=self.longitude,
            can_ship=self.can_ship,
            can_pickup=self.can_pickup,
            priority=self.priority,
            pickup_cutoff=self.pickup_cutoff,
        )


class LocationRead(BaseModel):
    id: UUID
    code: str
    name: str
    kind: LocationKind
    owner: str = Field(description='"operator" or "tenant"')
    address: AddressOut | None
    latitude: float | None
    longitude: float | None
    can_ship: bool
    can_pickup: bool
    priority: int
    active: bool
    pickup_cutoff: str
    created_at: datetime | None

    @classmethod
    def of(cls, location: Location) -> LocationRead:
        return cls(
            id=location.id,
            code=location.code,
            name=location.name,
            kind=location.kind,
            owner="operator" if location.owner_tenant_id is None else "tenant",
            address=AddressOut.of(location.address),
            latitude=location.latitude,
            longitude=location.longitude,
            can_ship=location.can_ship,
            can_pickup=location.can_pickup,
            priority=location.priority,
            active=location.active,
            pickup_cutoff=location.pickup_cutoff,
            created_at=location.created_at,
        )
