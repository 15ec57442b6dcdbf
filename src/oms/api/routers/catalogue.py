"""/v1/products and /v1/locations."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from oms.api.deps import (
    CurrentPrincipal,
    LocationRef,
    PageDep,
    TenantId,
    UowDep,
    page_of,
    page_of_all,
    parse_uuid,
)
from oms.api.one_hop import OneHopRoute
from oms.api.schemas.catalogue import (
    LocationBoxesUpdate,
    LocationCreate,
    LocationRead,
    LocationUpdate,
    ProductBinRead,
    ProductBinsUpdate,
    ProductCreate,
    ProductRead,
    ProductUpdate,
)
from oms.api.schemas.common import Page, Strict
from oms.services import catalogue

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1", tags=["catalogue"])


@router.post("/products", status_code=status.HTTP_201_CREATED, response_model=ProductRead)
def create_product(
    body: ProductCreate, tenant_id: TenantId, uow: UowDep, response: Response
) -> ProductRead:
    product = catalogue.create_product(
        uow_factory=uow, tenant_id=tenant_id, command=body.to_command()
    )
    response.headers["Location"] = f"/v1/products/{product.id}"
    return ProductRead.of(product)


@router.get("/products", response_model=Page[ProductRead])
def list_products(
    tenant_id: TenantId,
    uow: UowDep,
    page: PageDep,
    archived: Annotated[
        bool | None, Query(description="true: only archived products; false: only the others")
    ] = None,
) -> Page[ProductRead]:
    """The tenant's products in SKU order, archived ones included unless ``archived``."""
    found = catalogue.list_products(
        uow_factory=uow,
        tenant_id=tenant_id,
        after_sku=page.cursor,
        limit=page.limit + 1,
        archived=archived,
    )
    return page_of(
        found,
        page,
        item=lambda p: ProductRead.of(p),
        cursor=lambda p: p.sku,
    )


@router.get("/products/{product_id}", response_model=ProductRead)
def get_product(product_id: str, tenant_id: TenantId, uow: UowDep) -> ProductRead:
    product = catalogue.get_product(
        uow_factory=uow, tenant_id=tenant_id, product_id=parse_uuid(product_id, "product")
    )
    return ProductRead.of(product)


@router.patch("/products/{product_id}", response_model=ProductRead)
def edit_product(
    product_id: str, body: ProductUpdate, tenant_id: TenantId, uow: UowDep
) -> ProductRead:
    """Change the fields sent (null clears an optional one); the SKU, kind and components
    never change."""
    product = catalogue.edit_product(
        uow_factory=uow,
        tenant_id=tenant_id,
        product_id=parse_uuid(product_id, "product"),
        edit=body.to_edit(),
    )
    return ProductRead.of(product)


@router.delete("/products/{product_id}", status_code=status.HTTP_204_NO_CONTENT)
def archive_product(product_id: str, tenant_id: TenantId, uow: UowDep) -> Response:
    """Archive the product: its orders, stock and ledger stay; it can no longer be ordered."""
    catalogue.archive_product(
        uow_factory=uow, tenant_id=tenant_id, product_id=parse_uuid(product_id, "product")
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/locations", status_code=status.HTTP_201_CREATED, response_model=LocationRead)
def create_location(
    body: LocationCreate, principal: CurrentPrincipal, uow: UowDep, response: Response
) -> LocationRead:
    location = catalogue.create_location(
        uow_factory=uow, principal=principal, command=body.to_command()
    )
    response.headers["Location"] = f"/v1/locations/{location.id}"
    return LocationRead.of(location)


@router.get("/locations", response_model=Page[LocationRead])
def list_locations(principal: CurrentPrincipal, uow: UowDep, page: PageDep) -> Page[LocationRead]:
    found = catalogue.list_locations(
        uow_factory=uow, principal=principal, after_code=page.cursor, limit=page.limit + 1
    )
    return page_of(
        found,
        page,
        item=lambda loc: LocationRead.of(loc),
        cursor=lambda loc: loc.code,
    )


@router.get("/locations/{location}", response_model=LocationRead)
def get_location(location: LocationRef, principal: CurrentPrincipal, uow: UowDep) -> LocationRead:
    """A location the caller may use, by id or code."""
    found = catalogue.get_location(uow_factory=uow, principal=principal, ref=location)
    return LocationRead.of(found)


@router.patch("/locations/{location}", response_model=LocationRead)
def edit_location(
    location: LocationRef, body: LocationUpdate, principal: CurrentPrincipal, uow: UowDep
) -> LocationRead:
    """Change the fields sent (its owner only); the code never changes."""
    edited = catalogue.edit_location(
        uow_factory=uow, principal=principal, ref=location, edit=body.to_edit()
    )
    return LocationRead.of(edited)


@router.delete("/locations/{location}", status_code=status.HTTP_204_NO_CONTENT)
def archive_location(location: LocationRef, principal: CurrentPrincipal, uow: UowDep) -> Response:
    """Archive the location (its owner only): its stock and history stay, nothing is routed
    to it any more; 409 while stock is reserved there."""
    catalogue.archive_location(uow_factory=uow, principal=principal, ref=location)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class GrantCreate(Strict):
    tenant_id: UUID


@router.post("/locations/{location}/grants", status_code=status.HTTP_204_NO_CONTENT)
def grant_location(
    location: LocationRef, body: GrantCreate, principal: CurrentPrincipal, uow: UowDep
) -> Response:
    """Let a tenant use one of the operator's locations (operator keys only)."""
    catalogue.grant_location(
        uow_factory=uow, principal=principal, ref=location, tenant_id=body.tenant_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/locations/{location}/boxes", response_model=LocationRead)
def replace_location_boxes(
    location: LocationRef, body: LocationBoxesUpdate, principal: CurrentPrincipal, uow: UowDep
) -> LocationRead:
    """Replace the box sizes the location packs in (its owner only)."""
    changed = catalogue.replace_boxes(
        uow_factory=uow, principal=principal, ref=location, boxes=body.to_domain()
    )
    return LocationRead.of(changed)


@router.put("/locations/{location}/bins", response_model=Page[ProductBinRead])
def set_location_bins(
    location: LocationRef, body: ProductBinsUpdate, principal: CurrentPrincipal, uow: UowDep
) -> Page[ProductBinRead]:
    """Set where the listed SKUs lie at the location; answers all the tenant's bins there
    (one page, in SKU order)."""
    bins = catalogue.set_bins(
        uow_factory=uow, principal=principal, ref=location, bins=body.to_domain()
    )
    return Page(items=[ProductBinRead.of(b) for b in bins], next_cursor=None)


@router.get("/locations/{location}/bins", response_model=Page[ProductBinRead])
def list_location_bins(
    location: LocationRef, principal: CurrentPrincipal, uow: UowDep, page: PageDep
) -> Page[ProductBinRead]:
    """The tenant's bins at the location, in SKU order."""
    found = catalogue.list_bins(uow_factory=uow, principal=principal, ref=location)
    return page_of_all(found, page, item=ProductBinRead.of, cursor=lambda b: b.sku)
