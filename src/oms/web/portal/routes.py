"""``install_portal``: the operations portal on the app, under ``/app`` (docs/portal.md).

- ``/app/login`` (GET the form, POST ``email`` and ``password``), ``/app/logout`` (POST),
  ``/app/tenant`` (POST: an operator picks a tenant or all) — ``oms.web.portal.auth``
- ``/app`` and ``/app/dashboard``: the dashboard — ``oms.web.portal.dashboard``
- ``/app/orders`` (search), ``/app/orders/{tenant}/{order}`` and its actions —
  ``oms.web.portal.orders``
- ``/app/exceptions`` and ``/app/exceptions/release`` — ``oms.web.portal.queue``
- ``/app/returns``: the returns queue, a return, its inspection screen — ``oms.web.portal.returns``
- ``/app/warehouse/...``: locations, queue by cut-off, waves, pickups —
  ``oms.web.portal.warehouse``; the pack station — ``oms.web.portal.pack_station``
- ``/app/inventory`` (stock, adjustments, ledger) and ``/app/catalogue/...`` (products,
  locations) — ``oms.web.portal.inventory``
- ``/app/settings/...`` (webhook endpoints, notifications, routing profile, carrier rate
  cards, API keys) — ``oms.web.portal.settings``
- ``/app/settings/routing/what-if``: the routing profile's what-if run —
  ``oms.web.portal.what_if``
- ``/app/settings/api-keys`` (POST) and ``.../{key}/revoke``: make and revoke API keys —
  ``oms.web.portal.api_keys``
- ``/app/warehouse/{tenant}/waves/{wave}/found`` (short picks) and
  ``/app/warehouse/floor/{code}`` (an operator location across merchants) —
  ``oms.web.portal.floor``
- ``/app/inbound/...``: inbound shipments and their receiving screen —
  ``oms.web.portal.receiving``; purchase orders, transfers and cycle counts —
  ``oms.web.portal.inbound_pages``; billing statements — ``oms.web.portal.billing_pages``;
  the forms that announce a shipment and draft a purchase order —
  ``oms.web.portal.inbound_forms``
- ``/app/static/{name}``: the stylesheet, htmx and ``portal.js``

A page for someone not signed in sends them to the login form; a form without the session's
CSRF token gets a 403 page; a role that may not act gets a 403 page too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from oms.config import Settings
from oms.services.users import PasswordHasher
from oms.web.pages import PageClock
from oms.web.portal import analytics as analytics_pages
from oms.web.portal import auth, dashboard, inventory, orders, pack_station, queue, warehouse
from oms.web.portal import returns as returns_pages
from oms.web.portal import settings as settings_pages
from oms.web.portal.api_keys import router as api_keys_router
from oms.web.portal.billing_pages import router as billing_router
from oms.web.portal.floor import router as floor_router
from oms.web.portal.inbound_forms import router as inbound_forms_router
from oms.web.portal.inbound_pages import router as inbound_router
from oms.web.portal.receiving import router as receiving_router
from oms.web.portal.rendering import STATIC_FILES, PortalPages
from oms.web.portal.session import SessionCodec
from oms.web.portal.what_if import router as what_if_router

__all__ = ["install_portal"]


def install_portal(
    app: FastAPI, *, settings: Settings, hasher: PasswordHasher, clock: PageClock | None = None
) -> None:
    """Serve the portal on ``app``: its state, routes, static files and error pages."""
    pages = PortalPages(clock=clock or PageClock())
    portal = auth.Portal(
        pages=pages,
        codec=SessionCodec(settings.secret_key),
        hasher=hasher,
        decoy_hash=hasher.hash("a password nobody has"),
        secure_cookies=settings.public_url.lower().startswith("https://"),
    )
    app.state.portal = portal

    @app.get("/app/static/{name}", include_in_schema=False)
    def static(name: str, v: Annotated[str | None, Query(max_length=64)] = None) -> Response:
        if name not in STATIC_FILES:
            return Response("Not found", status_code=404, media_type="text/plain")
        return pages.serve_static(name, v)

    async def _sign_in(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, auth.SignInNeeded)
        return auth.login_redirect(exc.back_to)

    async def _csrf(_request: Request, _exc: Exception) -> Response:
        return await run_in_threadpool(
            pages.render,
            "refused.html",
            status=403,
            title="Form expired",
            message="This form came without its security token, or from an old page. "
            "Go back, reload the page and send it again.",
        )

    async def _forbidden(_request: Request, _exc: Exception) -> Response:
        return await run_in_threadpool(
            pages.render,
            "refused.html",
            status=403,
            title="Not allowed",
            message="Your role may look at this but not change it.",
        )

    app.add_exception_handler(auth.SignInNeeded, _sign_in)
    app.add_exception_handler(auth.CsrfRefused, _csrf)
    app.add_exception_handler(auth.Forbidden, _forbidden)
    for module in (
        auth,
        dashboard,
        orders,
        queue,
        inventory,
        warehouse,
        pack_station,
        settings_pages,
        analytics_pages,
        returns_pages,
    ):
        app.include_router(module.router)
    app.include_router(what_if_router)
    app.include_router(api_keys_router)
    app.include_router(floor_router)
    app.include_router(inbound_forms_router)
    app.include_router(receiving_router)
    app.include_router(inbound_router)
    app.include_router(billing_router)
