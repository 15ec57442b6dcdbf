"""Products (physical, digital, bundles) and locations (warehouses, stores)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from oms.domain.addresses import Address
from oms.domain.errors import FieldError, InvalidRequest

__all__ = [
    "BundleComponent",
    "Location",
    "LocationKind",
    "Product",
    "ProductKind",
    "unit_demand",
]


class ProductKind(StrEnum):
    PHYSICAL = "physical"
    DIGITAL = "digital"
    BUNDLE = "bundle"


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

    @property
    def holds_stock(self) -> bool:
        """Only physical products have inventory levels of their own."""
        return self.kind is ProductKind.PHYSICAL

    def validate(self, component_kinds: Mapping[str, ProductKind]) -> None:
        """Refuse a bundle without components, components elsewhere, or unknown parts.

        ``component_kinds`` maps each component SKU that exists to its kind.
        """
        errors: list[FieldError] = []
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

    @property
    def preference(self) -> tuple[int, str]:
        """Sort key for the priority rule: lower priority number first, then code."""
        return (self.priority, self.code)
