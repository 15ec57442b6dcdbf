"""Products (physical, digital, bundles) and locations (warehouses, stores)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from urllib.parse import urlsplit
from uuid import UUID

from oms.domain import lengths
from oms.domain.addresses import Address
from oms.domain.customs import customs_problems
from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.packing import Box, is_valid_gtin, validate_boxes

__all__ = [
    "MAX_DOWNLOAD_URL_LENGTH",
    "BundleComponent",
    "Location",
    "LocationKind",
    "Product",
    "ProductBin",
    "ProductKind",
    "check_bins",
    "holds_stock",
    "location_named",
    "order_line_refusal",
    "unit_demand",
    "unit_weight_grams",
    "weighed_by",
]

MAX_DOWNLOAD_URL_LENGTH = 2000
_DIMENSIONS = ("length_mm", "width_mm", "height_mm")


class ProductKind(StrEnum):
    PHYSICAL = "physical"
    DIGITAL = "digital"
    BUNDLE = "bundle"


def holds_stock(kind: ProductKind) -> bool:
    """Only physical products have inventory levels of their own."""
    return kind is ProductKind.PHYSICAL


class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    STORE = "store"


@dataclass(frozen=True)
class BundleComponent:
    """``quantity`` units of ``sku`` go into one unit of the bundle."""

    sku: str
    quantity: int


@dataclass
class Product:
    """A sellable item of one tenant; a bundle draws its stock from its components."""

    id: UUID
    tenant_id: UUID
    sku: str
    name: str
    price: Decimal
    currency: str
    kind: ProductKind = ProductKind.PHYSICAL
    weight_grams: int = 0
    category: str | None = None
    components: tuple[BundleComponent, ...] = field(default_factory=tuple)
    created_at: datetime | None = None
    barcode: str | None = None
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None
    download_url: str | None = None
    archived_at: datetime | None = None
    # Customs (oms.domain.customs): tariff number, ISO country of origin, description.
    hs_code: str | None = None
    origin_country: str | None = None
    customs_description: str | None = None

    @property
    def archived(self) -> bool:
        """Archived: kept with its history, no longer sold (``order_line_refusal``)."""
        return self.archived_at is not None

    @property
    def holds_stock(self) -> bool:
        """Only physical products have inventory levels of their own."""
        return holds_stock(self.kind)

    def validate(self, component_kinds: Mapping[str, ProductKind]) -> None:
        """Refuse a bundle without components, components elsewhere, or unknown parts; and a
        bad barcode, partial dimensions, or a download URL on anything but a digital product.

        ``component_kinds`` maps each component SKU that exists to its kind.
        """
        errors = self._fulfilment_field_errors()
        if self.kind is ProductKind.BUNDLE and not self.components:
            errors.append(FieldError("#/components", "a bundle needs at least one component"))
        if self.kind is not ProductKind.BUNDLE and self.components:
            errors.append(FieldError("#/components", "only a bundle has components"))
        seen: set[str] = set()
        for i, component in enumerate(self.components):
            pointer = f"#/components/{i}"
            if component.sku in seen:
                errors.append(FieldError(f"{pointer}/sku", "component listed twice"))
            seen.add(component.sku)
            if component.sku == self.sku:
                errors.append(FieldError(f"{pointer}/sku", "a bundle cannot contain itself"))
            elif component.sku not in component_kinds:
                errors.append(FieldError(f"{pointer}/sku", f"unknown SKU {component.sku!r}"))
            elif component_kinds[component.sku] is not ProductKind.PHYSICAL:
                errors.append(FieldError(f"{pointer}/sku", "components must be physical products"))
        if errors:
            raise InvalidRequest("The product is not valid", errors)

    def _fulfilment_field_errors(self) -> list[FieldError]:
        errors: list[FieldError] = customs_problems(
            hs_code=self.hs_code,
            origin_country=self.origin_country,
            description=self.customs_description,
        )
        if self.barcode is not None and not is_valid_gtin(self.barcode):
            errors.append(
                FieldError("#/barcode", "must be a GTIN-8, -12, -13 or -14 with its check digit")
            )
        sides = {name: getattr(self, name) for name in _DIMENSIONS}
        given = [name for name, side in sides.items() if side is not None]
        for name in given:
            if sides[name] <= 0:
                errors.append(FieldError(f"#/{name}", "must be positive"))
        if given and len(given) < len(_DIMENSIONS):
            for name in _DIMENSIONS:
                if name not in given:
                    errors.append(
                        FieldError(f"#/{name}", "give length_mm, width_mm and height_mm, or none")
                    )
        if self.download_url is not None:
            if self.kind is not ProductKind.DIGITAL:
                errors.append(FieldError("#/download_url", "only a digital product has one"))
            elif not _is_web_url(self.download_url):
                errors.append(
                    FieldError(
                        "#/download_url",
                        f"must be an http or https URL of at most {MAX_DOWNLOAD_URL_LENGTH}"
                        " characters",
                    )
                )
        return errors


def _is_web_url(url: str) -> bool:
    if len(url) > MAX_DOWNLOAD_URL_LENGTH or not url.isprintable() or " " in url:
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return False
    return parts.scheme.lower() in ("http", "https") and bool(host)


def order_line_refusal(product: Product | None, sku: str) -> str | None:
    """Why a new order line (or cart line) cannot name ``sku``: there is no such product,
    or it is archived; None when it can. Lines already ordered are not affected."""
    if product is None:
        return f"no product with SKU {sku!r}"
    if product.archived:
        return f"the product with SKU {sku!r} is archived: it is no longer sold"
    return None


def weighed_by(product: Product) -> tuple[str, ...]:
    """The SKUs whose weights make up one unit's weight: a bundle's components when it has
    no weight of its own; else none (the product's own weight)."""
    if product.kind is ProductKind.BUNDLE and not product.weight_grams:
        return tuple(c.sku for c in product.components)
    return ()


def unit_weight_grams(product: Product, parts: Mapping[str, Product]) -> int:
    """Grams one unit weighs: its own weight, or for a bundle without one the sum of its
    components' weights times their quantities (``parts`` by SKU; one missing weighs 0)."""
    if not weighed_by(product):
        return product.weight_grams
    return sum(c.quantity * parts[c.sku].weight_grams for c in product.components if c.sku in parts)


def unit_demand(product: Product) -> dict[str, int]:
    """Stock one unit of ``product`` draws, per SKU; empty for digital goods."""
    if product.kind is ProductKind.BUNDLE:
        return {c.sku: c.quantity for c in product.components}
    if product.kind is ProductKind.DIGITAL:
        return {}
    return {product.sku: 1}


@dataclass
class Location:
    """A warehouse or store; ``owner_tenant_id`` is None for the operator's own locations."""

    id: UUID
    code: str
    name: str
    kind: LocationKind
    owner_tenant_id: UUID | None = None
    address: Address | None = None
    latitude: float | None = None
    longitude: float | None = None
    can_ship: bool = True
    can_pickup: bool = False
    priority: int = 100
    active: bool = True
    created_at: datetime | None = None
    pickup_cutoff: str = "16:00"
    timezone: str = "UTC"
    boxes: tuple[Box, ...] = ()
    archived_at: datetime | None = None

    @property
    def preference(self) -> tuple[int, str]:
        """Sort key for the priority rule: lower priority number first, then code."""
        return (self.priority, self.code)

    def sender_address(self, country: str) -> Address:
        """What labels and slips print as the sender: the location's address, or its name in
        ``country`` (the destination's) when it has none on file."""
        return self.address or Address(country=country, name=self.name)

    def archive(self, at: datetime) -> None:
        """Keep it with its history but route nothing to it (``active`` False) any more; the
        caller has checked that no stock is reserved there."""
        if self.archived_at is None:
            self.archived_at = at
        self.active = False

    def validate(self) -> None:
        """Refuse one coordinate without the other, boxes ``validate_boxes`` refuses, and a
        box code listed twice."""
        errors: list[FieldError] = []
        if self.latitude is None and self.longitude is not None:
            errors.append(FieldError("#/latitude", "give both latitude and longitude, or neither"))
        if self.longitude is None and self.latitude is not None:
            errors.append(FieldError("#/longitude", "give both latitude and longitude, or neither"))
        try:
            validate_boxes(self.boxes)
        except InvalidRequest as refused:
            errors.extend(refused.errors)
        seen: set[str] = set()
        for index, box in enumerate(self.boxes):
            if box.code in seen:
                errors.append(FieldError(f"#/boxes/{index}/code", "box code listed twice"))
            seen.add(box.code)
        if errors:
            raise InvalidRequest("The location is not valid", errors)


@dataclass(frozen=True)
class ProductBin:
    """Where one tenant keeps one SKU at one location: the bin a picker walks to."""

    sku: str
    bin: str


def check_bins(bins: Sequence[ProductBin], kinds: Mapping[str, ProductKind]) -> None:
    """Refuse a blank or over-long bin, and a SKU listed twice, unknown or not physical.

    ``kinds`` maps each listed SKU the tenant has to its kind.
    """
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, entry in enumerate(bins):
        where = f"#/bins/{index}"
        if entry.sku in seen:
            errors.append(FieldError(f"{where}/sku", "SKU listed twice"))
        elif entry.sku not in kinds:
            errors.append(FieldError(f"{where}/sku", f"unknown SKU {entry.sku!r}"))
        elif kinds[entry.sku] is not ProductKind.PHYSICAL:
            errors.append(FieldError(f"{where}/sku", "only physical products lie in bins"))
        seen.add(entry.sku)
        if not entry.bin.strip() or len(entry.bin) > lengths.BIN:
            errors.append(FieldError(f"{where}/bin", f"must be 1 to {lengths.BIN} characters"))
    if errors:
        raise InvalidRequest("The bins are not valid", errors)


def location_named(
    locations: Iterable[Location], ref: str, tenant_id: UUID | None
) -> Location | None:
    """The location a caller means by ``ref``, its id or its code, among ``locations`` (those
    it may use). An id names one; a code names the caller's own before one of the
    operator's it was granted (codes are unique per owner, not across owners). The one
    resolver for every request that names a location."""
    candidates = list(locations)
    try:
        wanted: UUID | None = UUID(ref)
    except ValueError:
        wanted = None
    if wanted is not None:
        for loc in candidates:
            if loc.id == wanted:
                return loc
    matches = [loc for loc in candidates if loc.code == ref]
    own = [loc for loc in matches if loc.owner_tenant_id == tenant_id]
    found = own or matches
    return found[0] if found else None
