"""The public pages customers open, HTML for browsers and JSON for ``Accept:
application/json`` (``oms.web.negotiation``), no API key needed:

- ``GET /track/{tracking_number}``: one parcel; its JSON is the tracking answer the labels'
  links always gave (``TrackingRead``).
- ``GET /status/{slug}``: a shop's order status page; ``?number=&email=`` (or
  ``&postal_code=``) or ``?token=`` (the signed link of the shop's emails) open an order, a
  form asks for them otherwise.

Both count against a per-client rate limit (``oms.web.rate_limit``): 429 with
``Retry-After``, as a page or as problem+json.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from oms.api.deps import UowDep
from oms.api.errors import problem
from oms.api.schemas.fulfilment import TrackingRead
from oms.config import Settings
from oms.domain.errors import FieldError, Gone, InvalidRequest, NotFound
from oms.services import order_status
from oms.services.order_status import StatusGrants
from oms.services.ports import UnitOfWorkFactory
from oms.web.negotiation import prefers_html
from oms.web.pages import JSON_HEADERS, STYLESHEET, PageClock, PublicPages
from oms.web.rate_limit import RateLimited, RateLimiter, client_key
from oms.web.schemas import OrderStatusRead

__all__ = ["install_public_pages", "router"]

router = APIRouter(tags=["public"])


def _pages_of(request: Request) -> PublicPages:
    pages: PublicPages = request.app.state.public_pages
    return pages


async def _pages(request: Request) -> PublicPages:
    # async, like every dependency: a plain def would cost a thread-pool hop.
    return _pages_of(request)


async def _grants(request: Request) -> StatusGrants:
    grants: StatusGrants = request.app.state.status_grants
    return grants


async def _rate_limited(request: Request) -> None:
    host = request.client.host if request.client else None
    wait = _pages_of(request).limiter.take(client_key(host))
    if wait is not None:
        raise RateLimited(wait)


PagesDep = Annotated[PublicPages, Depends(_pages)]
GrantsDep = Annotated[StatusGrants, Depends(_grants)]
RATE_LIMITED = [Depends(_rate_limited)]

_BOTH = {
    "content": {"text/html": {"schema": {"type": "string"}}},
    "description": "HTML for browsers, JSON for Accept: application/json",
}


def _json(model: Any) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json"), headers=JSON_HEADERS)


@router.get(
    "/track/{tracking_number}",
    response_model=None,
    responses={200: {**_BOTH, "model": TrackingRead}},
    dependencies=RATE_LIMITED,
)
def track(tracking_number: str, request: Request, uow: UowDep, pages: PagesDep) -> Response:
    """The public tracking page behind every label's tracking URL: the parcel's status,
    scans and expected delivery with its sender's branding, without the order or the
    addresses (404 for an unknown number)."""
    number = tracking_number.strip().upper()
    if not prefers_html(request.headers.get("accept")):
        found = order_status.parcel_page(uow_factory=uow, tracking_number=number)
        return _json(TrackingRead.of(found.shipment))
    try:
        found = order_status.parcel_page(uow_factory=uow, tracking_number=number)
    except NotFound:
        return pages.render("not_found.html", status=404, what="parcel", number=number)
    return pages.render("track.html", branding=found.branding, parcel=found.parcel)


_Text = Annotated[str | None, Query()]


def _lookup_problem(number: str | None) -> str:
    if not number:
        return "Enter your order number"
    return "Enter the email address you ordered with, or your postal code"


@router.get(
    "/status/{slug}",
    response_model=None,
    responses={200: {**_BOTH, "model": OrderStatusRead}},
    dependencies=RATE_LIMITED,
)
def order_status_page(
    slug: str,
    request: Request,
    uow: UowDep,
    pages: PagesDep,
    grants: GrantsDep,
    number: _Text = None,
    email: _Text = None,
    postal_code: _Text = None,
    token: _Text = None,
) -> Response:
    """A shop's order status page: the order that ``number`` with ``email`` or
    ``postal_code`` names, or that ``token`` (a signed link) opens; a form otherwise. A
    wrong number and a wrong email or postal code get the same answer (404)."""
    html = prefers_html(request.headers.get("accept"))
    number, email, postal_code = ((v or "").strip() or None for v in (number, email, postal_code))
    asked = {"number": number or "", "email": email or "", "postal_code": postal_code or ""}
    try:
        if token:
            page = order_status.open_order(
                uow_factory=uow, slug=slug, token=token, grants=grants, now=pages.clock.now()
            )
        elif number and (email or postal_code):
            page = order_status.find_order(
                uow_factory=uow,
                slug=slug,
                number=number,
                email=email,
                postal_code=postal_code,
                now=pages.clock.now(),
            )
        else:
            return _form(uow, pages, slug, html, asked, number, email, postal_code)
    except (NotFound, Gone) as refused:
        if not html:
            raise
        return _refused(uow, pages, slug, refused, asked)
    if not html:
        return _json(OrderStatusRead.of(page))
    # How the page was opened travels with its return form, to find the order again.
    lookup = {"token": token or "", **asked}
    return pages.render(
        "status.html", branding=page.shop.branding, page=page, slug=page.shop.slug, lookup=lookup
    )


def _form(
    uow: UnitOfWorkFactory,
    pages: PublicPages,
    slug: str,
    html: bool,
    asked: dict[str, str],
    number: str | None,
    email: str | None,
    postal_code: str | None,
) -> Response:
    """The look-up form (nothing asked yet: 200; half asked: 422 saying what is missing)."""
    partial = any((number, email, postal_code))
    if not html:
        raise InvalidRequest(
            "Give the order number and the email or postal code, or a link's token",
            [
                FieldError("query:number", "required"),
                FieldError("query:email", "required unless postal_code is given"),
            ],
        )
    try:
        shop = order_status.shop_named(uow_factory=uow, slug=slug)
    except NotFound:
        return pages.render("not_found.html", status=404, what="shop")
    return pages.render(
        "status_form.html",
        status=422 if partial else 200,
        branding=shop.branding,
        slug=shop.slug,
        asked=asked,
        message=_lookup_problem(number) if partial else None,
    )


def _refused(
    uow: UnitOfWorkFactory,
    pages: PublicPages,
    slug: str,
    refused: NotFound | Gone,
    asked: dict[str, str],
) -> Response:
    """The form again, saying why (the same words for a wrong number and a wrong email)."""
    try:
        shop = order_status.shop_named(uow_factory=uow, slug=slug)
    except NotFound:
        return pages.render("not_found.html", status=404, what="shop")
    return pages.render(
        "status_form.html",
        status=410 if isinstance(refused, Gone) else 404,
        branding=shop.branding,
        slug=shop.slug,
        asked=asked,
        message=refused.detail,
    )


@router.get(f"/web/static/{STYLESHEET}", include_in_schema=False)
def stylesheet(pages: PagesDep, v: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    """The pages' stylesheet: cached for a year under its version, revalidated otherwise."""
    cache = "public, max-age=31536000, immutable" if v == pages.stylesheet_version else "no-cache"
    return Response(
        pages.stylesheet,
        media_type="text/css",
        headers={
            "Cache-Control": cache,
            "ETag": f'"{pages.stylesheet_version}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def install_public_pages(
    app: FastAPI,
    *,
    settings: Settings,
    grants: StatusGrants,
    clock: PageClock | None = None,
) -> None:
    """Serve the public pages on ``app``: their state, routes and the 429 answer."""
    clock = clock or PageClock()
    pages = PublicPages(
        limiter=RateLimiter(
            per_minute=settings.public_rate_limit_per_minute,
            burst=settings.public_rate_limit_burst,
            clock=clock.monotonic,
        ),
        clock=clock,
    )
    app.state.public_pages = pages
    app.state.status_grants = grants

    async def _too_many(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RateLimited)
        wait = {"Retry-After": str(exc.retry_after)}
        if prefers_html(request.headers.get("accept")):
            return await run_in_threadpool(
                pages.render, "rate_limited.html", status=429, headers=wait, wait=exc.retry_after
            )
        return problem(
            429,
            code="rate_limited",
            title="Too many requests",
            detail=f"Too many requests from your address; retry in {exc.retry_after} s",
            instance=request.url.path,
            headers={**JSON_HEADERS, **wait},
        )

    app.add_exception_handler(RateLimited, _too_many)
    app.include_router(router)
