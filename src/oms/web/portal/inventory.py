"""The portal's inventory and catalogue pages, one tenant's at a time (an operator looking
at all tenants is asked to pick one):

- ``/app/inventory``: stock per SKU and location, a row highlighted when its available
  stock is at or below its safety stock, and the adjustment form (a delta or a counted
  figure, with a reason; ``oms.services.inventory.adjust_inventory``, as the API);
- ``/app/inventory/ledger?sku=``: one SKU's stock and its ledger, oldest first;
- ``/app/catalogue/products`` (list, edit, archive) and ``/app/catalogue/locations``.

Adjusting stock is for every role but ``merchant-viewer``; editing or archiving a product
is for admins. Nothing here reads the database: each page calls a use case.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import RedirectResponse, Response

from oms.domain.errors import FieldError, InvalidRequest, NotFound, OmsError
from oms.services import catalogue, inventory
from oms.services.order_overview import search_choices
from oms.web.portal.auth import (
    CheckedForm,
    PortalDep,
    Viewer,
    ViewerDep,
    actor_may_act,
    app_state,
    checked_form,
)
from oms.web.portal.rendering import PortalPages, parse_uuid, refusal
from oms.web.portal.settings import may_configure
from oms.web.portal.settings import require_admin as _admin

__all__ = ["is_low", "router"]

router = APIRouter(prefix="/app", include_in_schema=False)

PAGE_SIZE = 100
_Text = Annotated[str | None, Query(max_length=200)]


def is_low(stock: inventory.LocationStock) -> bool:
    """Low stock: available at or below the safety stock kept at the location."""
    return stock.available <= (stock.safety_stock or 0)


def _render(
    pages: PortalPages,
    request: Request,
    viewer: Viewer,
    template: str,
    *,
    status: int = 200,
    **context: Any,
) -> Response:
    if viewer.tenant_id is None:
        return pages.render("pick_tenant.html", viewer=viewer, path=request.url.path)
    return pages.render(
        template,
        status=status,
        viewer=viewer,
        path=request.url.path,
        may_act=viewer.user.role.may_act,
        may_configure=may_configure(viewer),
        is_low=is_low,
        **context,
    )


def _not_found(pages: PortalPages, request: Request, viewer: Viewer, what: str) -> Response:
    return pages.render(
        "not_found.html",
        status=404,
        viewer=viewer,
        path=request.url.path,
        what=what,
        back=("/app/inventory", "Back to the inventory"),
    )


# -- stock ---------------------------------------------------------------------------------


def _stock_page(
    request: Request,
    viewer: Viewer,
    pages: PortalPages,
    *,
    after: str | None = None,
    status: int = 200,
    problem: str | None = None,
    done: str | None = None,
    asked: dict[str, str] | None = None,
) -> Response:
    stock: list[inventory.SkuStock] = []
    locations: list[Any] = []
    if viewer.tenant_id is not None:
        uow = app_state(request).uow_factory
        stock = inventory.list_stock(
            uow_factory=uow,
            tenant_id=viewer.tenant_id,
            after_sku=after or None,
            limit=PAGE_SIZE + 1,
            at=pages.clock.now(),
        )
        locations = search_choices(uow_factory=uow, tenant_id=viewer.tenant_id).locations
    more = None
    if len(stock) > PAGE_SIZE:
        stock = stock[:PAGE_SIZE]
        more = "/app/inventory?" + urlencode({"after": stock[-1].product.sku})
    return _render(
        pages,
        request,
        viewer,
        "inventory.html",
        status=status,
        stock=stock,
        locations=locations,
        more=more,
        problem=problem,
        done=done,
        asked=asked or {},
    )


@router.get("/inventory")
def stock_page(
    request: Request, viewer: ViewerDep, portal: PortalDep, after: _Text = None, done: _Text = None
) -> Response:
    """Stock per SKU and location, low stock highlighted, and the adjustment form."""
    return _stock_page(request, viewer, portal.pages, after=after, done=done)


def _count(text: str, name: str) -> int | None:
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidRequest("Not a whole number", [_field(name, "a whole number")]) from None


def _field(name: str, detail: str) -> FieldError:
    return FieldError(f"#/{name}", detail)


@router.post("/inventory/adjust")
def adjust(request: Request, viewer: ViewerDep, portal: PortalDep, form: CheckedForm) -> Response:
    """Change the stock of a SKU at a location by a delta or to a counted figure, with a
    reason (required); the ledger records it under the user."""
    actor_may_act(viewer)
    if viewer.tenant_id is None:
        return _stock_page(request, viewer, portal.pages)
    asked = {
        name: form.get(name)[:200]
        for name in ("sku", "location", "mode", "quantity", "reason", "safety_stock")
    }
    state = app_state(request)
    try:
        quantity = _count(asked["quantity"], "quantity")
        if quantity is None:
            raise InvalidRequest("How many?", [_field("quantity", "required")])
        if not asked["reason"]:
            raise InvalidRequest("Say why", [_field("reason", "required")])
        counted = asked["mode"] == "set"
        inventory.adjust_inventory(
            uow_factory=state.uow_factory,
            tenant_id=viewer.tenant_id,
            command=inventory.Adjustment(
                sku=asked["sku"],
                location_code=asked["location"],
                reason=asked["reason"],
                delta=None if counted else quantity,
                set_on_hand=quantity if counted else None,
                safety_stock=_count(asked["safety_stock"], "safety_stock"),
            ),
            actor=viewer.actor,
            at=portal.pages.clock.now(),
            geocoder=state.geocoder,
            gateways=state.gateways,
        )
    except OmsError as refused:
        status, problem = refusal(refused)
        return _stock_page(
            request, viewer, portal.pages, status=status, problem=problem, asked=asked
        )
    where = "/app/inventory/ledger?" + urlencode(
        {"sku": asked["sku"], "done": f"Stock of {asked['sku']} at {asked['location']} adjusted"}
    )
    return RedirectResponse(where, 303)


@router.get("/inventory/ledger")
def ledger(
    request: Request,
    viewer: ViewerDep,
    portal: PortalDep,
    sku: _Text = None,
    after: _Text = None,
    done: _Text = None,
) -> Response:
    """One SKU's stock per location and its ledger, oldest first."""
    if viewer.tenant_id is None:
        return _render(portal.pages, request, viewer, "ledger.html")
    uow = app_state(request).uow_factory
    try:
        stock = inventory.get_stock(
            uow_factory=uow, tenant_id=viewer.tenant_id, sku=sku or "", at=portal.pages.clock.now()
        )
        movements = inventory.list_movements(
            uow_factory=uow,
            tenant_id=viewer.tenant_id,
            sku=sku or "",
            location_code=None,
            after_id=parse_uuid(after),
            limit=PAGE_SIZE + 1,
        )
    except NotFound:
        return _not_found(portal.pages, request, viewer, "product")
    more = None
    if len(movements) > PAGE_SIZE:
        movements = movements[:PAGE_SIZE]
        more = "/app/inventory/ledger?" + urlencode({"sku": sku, "after": movements[-1].id})
    return _render(
        portal.pages,
        request,
        viewer,
        "ledger.html",
        stock=stock,
        movements=movements,
        more=more,
        done=done,
    )


# -- catalogue -----------------------------------------------------------------------------


@router.get("/catalogue/products")
def products(
    request: Request,
    viewer: ViewerDep,
    portal: PortalDep,
    archived: _Text = None,
    after: _Text = None,
    done: _Text = None,
) -> Response:
    """The tenant's products in SKU order (the archived ones apart)."""
    show_archived = archived == "1"
    found: list[Any] = []
    if viewer.tenant_id is not None:
        found = catalogue.list_products(
            uow_factory=app_state(request).uow_factory,
            tenant_id=viewer.tenant_id,
            after_sku=after or None,
            limit=PAGE_SIZE + 1,
            archived=show_archived,
        )
    more = None
    if len(found) > PAGE_SIZE:
        found = found[:PAGE_SIZE]
        query = {"after": found[-1].sku, **({"archived": "1"} if show_archived else {})}
        more = "/app/catalogue/products?" + urlencode(query)
    return _render(
        portal.pages,
        request,
        viewer,
        "products.html",
        products=found,
        archived=show_archived,
        more=more,
        done=done,
    )


PRODUCT_FIELDS = ("name", "price", "category", "barcode", "weight_grams")


def _product_page(
    request: Request,
    viewer: Viewer,
    pages: PortalPages,
    product_id: str,
    *,
    status: int = 200,
    problem: str | None = None,
    done: str | None = None,
) -> Response:
    wanted = parse_uuid(product_id)
    if viewer.tenant_id is None:
        return _render(pages, request, viewer, "product.html")
    try:
        if wanted is None:
            raise NotFound("No such product")
        product = catalogue.get_product(
            uow_factory=app_state(request).uow_factory,
            tenant_id=viewer.tenant_id,
            product_id=wanted,
        )
    except NotFound:
        return _not_found(pages, request, viewer, "product")
    return _render(
        pages,
        request,
        viewer,
        "product.html",
        status=status,
        product=product,
        problem=problem,
        done=done,
    )


@router.get("/catalogue/products/{product_id}")
def product_page(
    request: Request, product_id: str, viewer: ViewerDep, portal: PortalDep, done: _Text = None
) -> Response:
    """One product, with the edit and archive forms for admins."""
    return _product_page(request, viewer, portal.pages, product_id, done=done)


def _optional(text: str) -> str | None:
    return text or None


@router.post("/catalogue/products/{product_id}")
def product_edit(
    request: Request, product_id: str, viewer: ViewerDep, portal: PortalDep, form: CheckedForm
) -> Response:
    """Change the product's name, price, category, barcode and weight."""
    _admin(viewer)
    wanted = parse_uuid(product_id)
    if viewer.tenant_id is None or wanted is None:
        return _not_found(portal.pages, request, viewer, "product")
    try:
        try:
            price = Decimal(form.get("price"))
        except InvalidOperation:
            raise InvalidRequest("Not a price", [_field("price", "a decimal amount")]) from None
        weight = _count(form.get("weight_grams"), "weight_grams") or 0
        catalogue.edit_product(
            uow_factory=app_state(request).uow_factory,
            tenant_id=viewer.tenant_id,
            product_id=wanted,
            edit=catalogue.ProductEdit(
                given=frozenset(PRODUCT_FIELDS),
                name=form.get("name")[:500] or None,
                price=price,
                category=_optional(form.get("category")[:500]),
                barcode=_optional(form.get("barcode")[:200]),
                weight_grams=weight,
            ),
        )
    except NotFound:
        return _not_found(portal.pages, request, viewer, "product")
    except OmsError as refused:
        status, problem = refusal(refused)
        return _product_page(
            request, viewer, portal.pages, product_id, status=status, problem=problem
        )
    return RedirectResponse(
        f"/app/catalogue/products/{wanted}?" + urlencode({"done": "Product saved"}), 303
    )


@router.post("/catalogue/products/{product_id}/archive", dependencies=[Depends(checked_form)])
def product_archive(
    request: Request, product_id: str, viewer: ViewerDep, portal: PortalDep
) -> Response:
    """Archive the product: kept with its orders, stock and ledger, no longer sold."""
    _admin(viewer)
    wanted = parse_uuid(product_id)
    try:
        if viewer.tenant_id is None or wanted is None:
            raise NotFound("No such product")
        catalogue.archive_product(
            uow_factory=app_state(request).uow_factory,
            tenant_id=viewer.tenant_id,
            product_id=wanted,
            at=portal.pages.clock.now(),
        )
    except NotFound:
        return _not_found(portal.pages, request, viewer, "product")
    return RedirectResponse(
        f"/app/catalogue/products/{wanted}?" + urlencode({"done": "Product archived"}), 303
    )


@router.get("/catalogue/locations")
def locations(request: Request, viewer: ViewerDep, portal: PortalDep) -> Response:
    """The locations the tenant may use (its own and the operator's it was granted); an
    operator looking at all tenants sees the operator's own."""
    found = search_choices(
        uow_factory=app_state(request).uow_factory, tenant_id=viewer.tenant_id
    ).locations
    return portal.pages.render(
        "locations.html",
        viewer=viewer,
        path=request.url.path,
        locations=found,
        names=viewer.tenant_names,
    )
