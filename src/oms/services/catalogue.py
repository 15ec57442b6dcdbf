"""Products and locations: create, read, list, edit, archive; a location's boxes and a
tenant's bins there."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from oms.domain.addresses import Address
from oms.domain.catalogue import (
    BundleComponent,
    Location,
    LocationKind,
    Product,
    ProductBin,
    ProductKind,
    check_bins,
    location_named,
)
from oms.domain.errors import (
    AlreadyExists,
    FieldError,
    Forbidden,
    InvalidRequest,
    NotFound,
    StockReserved,
)
from oms.domain.ids import new_id
from oms.domain.money import is_known_currency, minor_unit_problem
from oms.domain.packing import Box
from oms.domain.tenancy import Principal
from oms.services.common import utcnow
from oms.services.ports import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "LocationEdit",
    "NewLocation",
    "NewProduct",
    "ProductEdit",
    "archive_location",
    "archive_product",
    "create_location",
    "create_product",
    "edit_location",
    "edit_product",
    "get_location",
    "get_product",
    "grant_location",
    "list_bins",
    "list_locations",
    "list_products",
    "replace_boxes",
    "set_bins",
]


@dataclass(frozen=True)
class NewProduct:
    sku: str
    name: str
    price: Decimal
    currency: str
    kind: ProductKind = ProductKind.PHYSICAL
    weight_grams: int = 0
    category: str | None = None
    components: tuple[BundleComponent, ...] = ()
    barcode: str | None = None
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None
    download_url: str | None = None
    hs_code: str | None = None
    origin_country: str | None = None
    customs_description: str | None = None


def create_product(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    command: NewProduct,
    at: datetime | None = None,
) -> Product:
    """Add a product; a SKU already used by this tenant is refused with 409."""
    _check_currency(command.currency)
    product = Product(
        id=new_id(),
        tenant_id=tenant_id,
        sku=command.sku,
        name=command.name,
        price=command.price,
        currency=command.currency,
        kind=command.kind,
        weight_grams=command.weight_grams,
        category=command.category,
        components=command.components,
        created_at=at or utcnow(),
        barcode=command.barcode,
        length_mm=command.length_mm,
        width_mm=command.width_mm,
        height_mm=command.height_mm,
        download_url=command.download_url,
        hs_code=command.hs_code,
        origin_country=command.origin_country,
        customs_description=command.customs_description,
    )
    with uow_factory() as uow:
        parts = uow.products.by_skus(tenant_id, [c.sku for c in command.components])
        product.validate({sku: p.kind for sku, p in parts.items()})
        if not uow.products.add(product):
            raise AlreadyExists(f"SKU {command.sku!r} already exists", sku=command.sku)
        uow.commit()
    return product


def _check_currency(currency: str) -> None:
    if not is_known_currency(currency):
        raise InvalidRequest(
            "Unknown currency",
            [FieldError("#/currency", f"{currency!r} is not a currency in use (ISO 4217)")],
        )


@dataclass(frozen=True)
class ProductEdit:
    """A partial edit: the fields named in ``given`` take the values here (None clears an
    optional one); the rest stay. The SKU, kind and components never change."""

    given: frozenset[str]
    name: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    weight_grams: int | None = None
    category: str | None = None
    barcode: str | None = None
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None
    download_url: str | None = None
    hs_code: str | None = None
    origin_country: str | None = None
    customs_description: str | None = None


def _refuse_cleared(edit: ProductEdit | LocationEdit, required: frozenset[str]) -> None:
    """An edit may clear an optional field with null, never a required one."""
    errors = [
        FieldError(f"#/{name}", "cannot be cleared")
        for name in sorted(edit.given & required)
        if getattr(edit, name) is None
    ]
    if errors:
        raise InvalidRequest("A required field cannot be cleared", errors)


def edit_product(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, product_id: UUID, edit: ProductEdit
) -> Product:
    """Change the named fields of a product (the SKU, kind and components never change);
    the edited product is checked like a new one."""
    _refuse_cleared(edit, frozenset({"name", "price", "currency", "weight_grams"}))
    if edit.currency is not None:
        _check_currency(edit.currency)
    with uow_factory() as uow:
        found = uow.products.get(tenant_id, product_id, for_update=True)
        if found is None:
            raise NotFound(f"No product {product_id}")
        product = replace(found, **{name: getattr(edit, name) for name in edit.given})
        problem = minor_unit_problem(product.price, product.currency)
        if problem is not None:
            raise InvalidRequest(
                "Invalid price", [FieldError("#/price", f"{product.price} {problem}")]
            )
        parts = uow.products.by_skus(tenant_id, [c.sku for c in product.components])
        product.validate({sku: p.kind for sku, p in parts.items()})
        uow.products.update(product)
        uow.commit()
    return product


def archive_product(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    product_id: UUID,
    at: datetime | None = None,
) -> Product:
    """Archive a product: it keeps its orders, stock and ledger but can no longer be
    ordered; archiving it again changes nothing."""
    with uow_factory() as uow:
        product = uow.products.get(tenant_id, product_id, for_update=True)
        if product is None:
            raise NotFound(f"No product {product_id}")
        if product.archived_at is None:
            product.archived_at = at or utcnow()
            uow.products.update(product)
            uow.commit()
    return product


def get_product(*, uow_factory: UnitOfWorkFactory, tenant_id: UUID, product_id: UUID) -> Product:
    """One product of the tenant."""
    with uow_factory(readonly=True) as uow:
        product = uow.products.get(tenant_id, product_id)
    if product is None:
        raise NotFound(f"No product {product_id}")
    return product


def list_products(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    after_sku: str | None,
    limit: int,
    archived: bool | None = None,
) -> list[Product]:
    """A page of the tenant's products in SKU order (only archived ones, or only the others,
    when ``archived`` says so)."""
    with uow_factory(readonly=True) as uow:
        return uow.products.page(tenant_id, after_sku=after_sku, limit=limit, archived=archived)


@dataclass(frozen=True)
class NewLocation:
    code: str
    name: str
    kind: LocationKind = LocationKind.WAREHOUSE
    address: Address | None = None
    latitude: float | None = None
    longitude: float | None = None
    can_ship: bool = True
    can_pickup: bool = False
    priority: int = 100
    pickup_cutoff: str = "16:00"
    boxes: tuple[Box, ...] = ()


def create_location(
    *,
    uow_factory: UnitOfWorkFactory,
    principal: Principal,
    command: NewLocation,
    at: datetime | None = None,
) -> Location:
    """Add a location: the operator's own with a bare operator key, else the tenant's own
    (a tenant key's, or the tenant an operator key names with OMS-Tenant)."""
    owner = principal.tenant_id
    location = Location(
        id=new_id(),
        owner_tenant_id=owner,
        code=command.code,
        name=command.name,
        kind=command.kind,
        address=command.address,
        latitude=command.latitude,
        longitude=command.longitude,
        can_ship=command.can_ship,
        can_pickup=command.can_pickup,
        priority=command.priority,
        pickup_cutoff=command.pickup_cutoff,
        created_at=at or utcnow(),
        boxes=command.boxes,
    )
    location.validate()
    with uow_factory() as uow:
        if not uow.locations.add(location):
            raise AlreadyExists(
                f"Location code {command.code!r} already exists", location_code=command.code
            )
        uow.commit()
    return location


def _visible_in(uow: UnitOfWork, principal: Principal) -> list[Location]:
    if principal.is_operator and principal.tenant_id is None:
        return uow.locations.operator_page(after_code=None, limit=10_000)
    return uow.locations.visible_to(principal.require_tenant())


def _visible(uow_factory: UnitOfWorkFactory, principal: Principal) -> list[Location]:
    with uow_factory(readonly=True) as uow:
        return _visible_in(uow, principal)


def _named(uow: UnitOfWork, principal: Principal, ref: str) -> Location:
    """The location the caller means by ``ref`` (an id or a code; a code names its tenant's
    own before a granted one)."""
    found = location_named(_visible_in(uow, principal), ref, principal.tenant_id)
    if found is None:
        # The same answer for another tenant's location as for one nobody has.
        raise NotFound(f"No location {ref!r}")
    return found


def _ensure_owner(principal: Principal, location: Location, action: str) -> None:
    """Only a location's owner changes it: a tenant its own, an operator key the operator's
    (a tenant using a granted operator location gets Forbidden)."""
    if location.owner_tenant_id is None and not principal.is_operator:
        raise Forbidden(f"Only an operator key may {action} location {location.code!r}")


def list_locations(
    *, uow_factory: UnitOfWorkFactory, principal: Principal, after_code: str | None, limit: int
) -> list[Location]:
    """Locations the caller may use, in code order."""
    found = sorted(_visible(uow_factory, principal), key=lambda loc: (loc.code, str(loc.id)))
    if after_code is not None:
        found = [loc for loc in found if loc.code > after_code]
    return found[:limit]


def get_location(*, uow_factory: UnitOfWorkFactory, principal: Principal, ref: str) -> Location:
    """One location the caller may use, by id or code; others answer NotFound."""
    with uow_factory(readonly=True) as uow:
        return _named(uow, principal, ref)


def grant_location(
    *,
    uow_factory: UnitOfWorkFactory,
    principal: Principal,
    ref: str,
    tenant_id: UUID,
    at: datetime | None = None,
) -> None:
    """Let a tenant use one of the operator's locations (by id or code; operator keys
    only)."""
    principal.require_operator()
    with uow_factory() as uow:
        location = location_named(uow.locations.operator_locations(), ref, None)
        if location is None:
            raise NotFound(f"No operator location {ref!r}")
        if uow.tenants.get(tenant_id) is None:
            raise NotFound(f"No tenant {tenant_id}")
        uow.locations.grant(tenant_id, location.id, at or utcnow())
        uow.commit()


@dataclass(frozen=True)
class LocationEdit:
    """A partial edit: the fields named in ``given`` take the values here (None clears an
    optional one); the rest stay. The code and the owner never change; archiving is
    ``archive_location``."""

    given: frozenset[str]
    name: str | None = None
    kind: LocationKind | None = None
    address: Address | None = None
    latitude: float | None = None
    longitude: float | None = None
    can_ship: bool | None = None
    can_pickup: bool | None = None
    priority: int | None = None
    pickup_cutoff: str | None = None
    boxes: tuple[Box, ...] | None = None


def edit_location(
    *, uow_factory: UnitOfWorkFactory, principal: Principal, ref: str, edit: LocationEdit
) -> Location:
    """Change the named fields of a location (by id or code; its owner only); the edited
    location is checked like a new one."""
    required = {"name", "kind", "can_ship", "can_pickup", "priority", "pickup_cutoff", "boxes"}
    _refuse_cleared(edit, frozenset(required))
    with uow_factory() as uow:
        location = _named(uow, principal, ref)
        _ensure_owner(principal, location, "change")
        edited = replace(location, **{name: getattr(edit, name) for name in edit.given})
        edited.validate()
        uow.locations.update(edited)
        uow.commit()
    return edited


def archive_location(
    *, uow_factory: UnitOfWorkFactory, principal: Principal, ref: str, at: datetime | None = None
) -> Location:
    """Archive a location (by id or code; its owner only): it keeps its stock, ledger and
    history but is routed to no more. Refused (StockReserved) while any tenant's stock is
    reserved there; archiving it again changes nothing."""
    with uow_factory() as uow:
        location = _named(uow, principal, ref)
        _ensure_owner(principal, location, "archive")
        if location.archived_at is None:
            reserved = uow.locations.reserved_units(location.id)
            if reserved:
                raise StockReserved(
                    f"{reserved} unit(s) are reserved at {location.code} for open orders or "
                    "checkouts: ship, move or cancel them first",
                    location=location.code,
                    reserved=reserved,
                )
            location.archive(at or utcnow())
            uow.locations.update(location)
            uow.commit()
    return location


def replace_boxes(
    *, uow_factory: UnitOfWorkFactory, principal: Principal, ref: str, boxes: Sequence[Box]
) -> Location:
    """Replace the boxes a location packs in; only its owner may (the operator's need an
    operator key, so a tenant using one gets Forbidden)."""
    with uow_factory() as uow:
        location = _named(uow, principal, ref)
        _ensure_owner(principal, location, "change the boxes of")
        location.boxes = tuple(boxes)
        location.validate()
        uow.locations.set_boxes(location.id, location.boxes)
        uow.commit()
    return location


def set_bins(
    *,
    uow_factory: UnitOfWorkFactory,
    principal: Principal,
    ref: str,
    bins: Sequence[ProductBin],
) -> list[ProductBin]:
    """Set the bins of the listed physical SKUs at a location the tenant can use (others
    keep theirs); answers every bin the tenant has there, in SKU order."""
    tenant_id = principal.require_tenant()
    with uow_factory() as uow:
        location = _named(uow, principal, ref)
        products = uow.products.by_skus(tenant_id, [entry.sku for entry in bins])
        check_bins(bins, {sku: product.kind for sku, product in products.items()})
        uow.fulfilment.set_bins(tenant_id, location.id, {b.sku: b.bin for b in bins})
        found = uow.fulfilment.all_bins(tenant_id, location.id)
        uow.commit()
    return [ProductBin(sku, found[sku]) for sku in sorted(found)]


def list_bins(
    *, uow_factory: UnitOfWorkFactory, principal: Principal, ref: str
) -> list[ProductBin]:
    """Every bin the tenant has at a location it can use, in SKU order."""
    tenant_id = principal.require_tenant()
    with uow_factory(readonly=True) as uow:
        location = _named(uow, principal, ref)
        found = uow.fulfilment.all_bins(tenant_id, location.id)
    return [ProductBin(sku, found[sku]) for sku in sorted(found)]
