"""Products and locations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from oms.api.schemas.common import (
    AddressIn,
    AddressOut,
    BoxCode,
    Code,
    Currency,
    Price,
    Sku,
    Strict,
    money_text,
    refuse_amounts_finer_than,
)
from oms.domain import lengths
from oms.domain.catalogue import (
    MAX_DOWNLOAD_URL_LENGTH,
    BundleComponent,
    Location,
    LocationKind,
    Product,
    ProductBin,
    ProductKind,
)
from oms.domain.customs import normal_hs_code
from oms.domain.packing import Box
from oms.services.catalogue import LocationEdit, NewLocation, NewProduct, ProductEdit

__all__ = [
    "BoxIn",
    "BoxOut",
    "LocationBoxesUpdate",
    "LocationCreate",
    "LocationRead",
    "LocationUpdate",
    "ProductBinIn",
    "ProductBinRead",
    "ProductBinsUpdate",
    "ProductCreate",
    "ProductRead",
    "ProductUpdate",
]

Millimetres = Annotated[int, Field(ge=1, le=100_000)]
Grams = Annotated[int, Field(ge=0, le=10_000_000)]


class ComponentIn(Strict):
    sku: Sku
    quantity: int = Field(ge=1, le=10_000)


ProductName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=lengths.PRODUCT_NAME)
]
Barcode = Annotated[str, StringConstraints(strip_whitespace=True, max_length=lengths.BARCODE)]
DownloadUrl = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_DOWNLOAD_URL_LENGTH)
]
ProductWeight = Annotated[int, Field(ge=0, le=10_000_000)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, max_length=lengths.CATEGORY)]
# Customs (oms.domain.customs): dots and spaces of an HS code are dropped before it is checked.
HsCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=lengths.HS_CODE),
    AfterValidator(normal_hs_code),
]
Country = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=2, max_length=2)
]
CustomsText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=lengths.CUSTOMS_DESCRIPTION),
]


def _never_changes(value: object, what: str) -> None:
    del value
    raise PydanticCustomError(
        "immutable", "{what} never changes: archive this one and create another", {"what": what}
    )


class ProductCreate(Strict):
    sku: Sku
    name: ProductName
    price: Price = Field(description='Unit price as a decimal string, e.g. "19.99"')
    currency: Currency
    kind: ProductKind = ProductKind.PHYSICAL
    weight_grams: ProductWeight = 0
    category: Category | None = None
    components: list[ComponentIn] = Field(default_factory=list, max_length=100)
    barcode: Barcode | None = Field(
        default=None, description="GTIN-8, -12, -13 or -14 with a correct check digit"
    )
    length_mm: Millimetres | None = Field(default=None, description="With width and height")
    width_mm: Millimetres | None = None
    height_mm: Millimetres | None = None
    download_url: DownloadUrl | None = Field(
        default=None, description="Digital products only: an http(s) URL"
    )
    hs_code: HsCode | None = Field(
        default=None, description='HS tariff code, 6 to 10 digits ("6109.10" allowed)'
    )
    origin_country: Country | None = Field(
        default=None, description="Country of origin, ISO 3166-1 alpha-2"
    )
    customs_description: CustomsText | None = Field(
        default=None, description="What the goods are, for customs forms"
    )

    @model_validator(mode="after")
    def _price_in_its_currency(self) -> ProductCreate:
        refuse_amounts_finer_than(self.currency, [(("price",), self.price)])
        return self

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
            barcode=self.barcode,
            length_mm=self.length_mm,
            width_mm=self.width_mm,
            height_mm=self.height_mm,
            download_url=self.download_url,
            hs_code=self.hs_code,
            origin_country=self.origin_country,
            customs_description=self.customs_description,
        )


class ProductUpdate(Strict):
    """Only the fields sent change; null clears an optional one. The SKU, kind and
    components never change (422 naming them)."""

    name: ProductName | None = None
    price: Price | None = Field(default=None, description='A decimal string, e.g. "19.99"')
    currency: Currency | None = None
    weight_grams: ProductWeight | None = None
    category: Category | None = None
    barcode: Barcode | None = Field(default=None, description="GTIN with its check digit")
    length_mm: Millimetres | None = Field(default=None, description="With width and height")
    width_mm: Millimetres | None = None
    height_mm: Millimetres | None = None
    download_url: DownloadUrl | None = Field(default=None, description="Digital products only")
    hs_code: HsCode | None = Field(default=None, description="HS tariff code, 6 to 10 digits")
    origin_country: Country | None = Field(default=None, description="ISO 3166-1 alpha-2")
    customs_description: CustomsText | None = None
    # Named so that sending them says why they are refused (not just "extra input").
    sku: SkipJsonSchema[object] = None
    kind: SkipJsonSchema[object] = None
    components: SkipJsonSchema[object] = None

    @field_validator("sku", "kind", "components", mode="before")
    @classmethod
    def _immutable(cls, value: object) -> None:
        _never_changes(value, "a product's SKU, kind or components")

    def to_edit(self) -> ProductEdit:
        never = {"sku", "kind", "components"}
        return ProductEdit(
            given=frozenset(self.model_fields_set - never), **self.model_dump(exclude=never)
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
    barcode: str | None
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    download_url: str | None
    hs_code: str | None = None
    origin_country: str | None = None
    customs_description: str | None = None
    created_at: datetime | None
    archived_at: datetime | None = Field(description="Set once archived: no longer sold")

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
            barcode=product.barcode,
            length_mm=product.length_mm,
            width_mm=product.width_mm,
            height_mm=product.height_mm,
            download_url=product.download_url,
            hs_code=product.hs_code,
            origin_country=product.origin_country,
            customs_description=product.customs_description,
            created_at=product.created_at,
            archived_at=product.archived_at,
        )


class BoxIn(Strict):
    code: BoxCode
    length_mm: Millimetres = Field(description="Inner length")
    width_mm: Millimetres = Field(description="Inner width")
    height_mm: Millimetres = Field(description="Inner height")
    max_weight_grams: Grams = Field(description="What the packed box may weigh in all")
    tare_grams: Grams = Field(default=0, description="The empty box's own weight")

    def to_domain(self) -> Box:
        return Box(
            code=self.code,
            length_mm=self.length_mm,
            width_mm=self.width_mm,
            height_mm=self.height_mm,
            max_weight_grams=self.max_weight_grams,
            tare_grams=self.tare_grams,
        )


Boxes = Annotated[list[BoxIn], Field(max_length=100)]


class BoxOut(BaseModel):
    code: str
    length_mm: int
    width_mm: int
    height_mm: int
    max_weight_grams: int
    tare_grams: int

    @classmethod
    def of(cls, box: Box) -> BoxOut:
        return cls(
            code=box.code,
            length_mm=box.length_mm,
            width_mm=box.width_mm,
            height_mm=box.height_mm,
            max_weight_grams=box.max_weight_grams,
            tare_grams=box.tare_grams,
        )


class LocationBoxesUpdate(Strict):
    boxes: Boxes = Field(description="The new list; it replaces the old one")

    def to_domain(self) -> tuple[Box, ...]:
        return tuple(box.to_domain() for box in self.boxes)


LocationName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=lengths.NAME)
]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Priority = Annotated[int, Field(ge=0, le=1_000_000, description="Lower goes first")]
Cutoff = Annotated[
    str,
    StringConstraints(max_length=lengths.CLOCK_TIME, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
    Field(description="Daily carrier pickup cut-off (HH:MM UTC); later orders ship a day later"),
]


class LocationCreate(Strict):
    code: Code
    name: LocationName
    kind: LocationKind = LocationKind.WAREHOUSE
    address: AddressIn | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    can_ship: bool = True
    can_pickup: bool = False
    priority: Priority = 100
    pickup_cutoff: Cutoff = "16:00"
    boxes: Boxes = Field(default_factory=list, description="The box sizes it packs in")

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
            boxes=tuple(box.to_domain() for box in self.boxes),
        )


class LocationUpdate(Strict):
    """Only the fields sent change; null clears an optional one (address, coordinates).
    The code never changes, and archiving is DELETE (422 naming them)."""

    name: LocationName | None = None
    kind: LocationKind | None = None
    address: AddressIn | None = None
    latitude: Latitude | None = Field(default=None, description="With longitude")
    longitude: Longitude | None = None
    can_ship: bool | None = None
    can_pickup: bool | None = None
    priority: Priority | None = None
    pickup_cutoff: Cutoff | None = None
    boxes: Boxes | None = Field(default=None, description="Replaces the list, like PUT .../boxes")
    code: SkipJsonSchema[object] = None
    active: SkipJsonSchema[object] = None

    @field_validator("code", mode="before")
    @classmethod
    def _immutable(cls, value: object) -> None:
        _never_changes(value, "a location's code")

    @field_validator("active", mode="before")
    @classmethod
    def _archive_with_delete(cls, value: object) -> None:
        del value
        raise PydanticCustomError("archive_with_delete", "archive a location with DELETE")

    def to_edit(self) -> LocationEdit:
        given = self.model_fields_set - {"code", "active"}
        return LocationEdit(
            given=frozenset(given),
            name=self.name,
            kind=self.kind,
            address=None if self.address is None else self.address.to_domain(),
            latitude=self.latitude,
            longitude=self.longitude,
            can_ship=self.can_ship,
            can_pickup=self.can_pickup,
            priority=self.priority,
            pickup_cutoff=self.pickup_cutoff,
            boxes=None if self.boxes is None else tuple(box.to_domain() for box in self.boxes),
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
    active: bool = Field(description="False once archived: routed to no more")
    pickup_cutoff: str
    boxes: list[BoxOut]
    created_at: datetime | None
    archived_at: datetime | None

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
            boxes=[BoxOut.of(box) for box in location.boxes],
            created_at=location.created_at,
            archived_at=location.archived_at,
        )


class ProductBinIn(Strict):
    sku: Sku
    bin: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=lengths.BIN)
    ]

    def to_domain(self) -> ProductBin:
        return ProductBin(sku=self.sku, bin=self.bin)


class ProductBinsUpdate(Strict):
    bins: list[ProductBinIn] = Field(
        max_length=1000, description="Bins of these SKUs; the tenant's other SKUs keep theirs"
    )

    def to_domain(self) -> list[ProductBin]:
        return [entry.to_domain() for entry in self.bins]


class ProductBinRead(BaseModel):
    sku: str
    bin: str

    @classmethod
    def of(cls, entry: ProductBin) -> ProductBinRead:
        return cls(sku=entry.sku, bin=entry.bin)
