"""The ASGI application, built by ``create_app(settings)``: nothing happens at import time."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import Depends, FastAPI
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oms.adapters.channels.registry import sales_channel_of
from oms.adapters.db.engine import build_engine
from oms.adapters.db.statistics import StatisticsKeeper
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.geocoding.offline import OfflineGeocoder
from oms.adapters.payments.registry import gateway_named
from oms.api.deps import AppState, reject_nul_characters
from oms.api.docs import install_docs
from oms.api.errors import install_error_handlers, problem
from oms.api.intake_groups import IntakeGroups
from oms.api.intake_lane import IntakeLane
from oms.api.route_index import install_route_index
from oms.api.route_parts import share_route_parts
from oms.api.routers import (
    analytics,
    billing,
    carriers,
    catalogue,
    channels,
    customers,
    customs,
    cycle_counts,
    dashboard,
    discounts,
    forecasts,
    fulfilment,
    health,
    holds,
    imports,
    inventory,
    metrics,
    notifications,
    order_actions,
    orders,
    purchasing,
    replenishment,
    reservations,
    returns,
    routing,
    shipments,
    store_credit,
    transfers,
    waves,
    webhook_endpoints,
)
from oms.api.routers import inbound as inbound_routes
from oms.api.webhook_lane import ShopifyWebhookLane
from oms.config import Environment, Settings
from oms.domain import zip_areas
from oms.services.channel_cache import CachedChannels
from oms.services.intake_group import Outcome, Submission, place_group
from oms.web import customer_returns
from oms.web.pages import PageClock
from oms.web.portal.routes import install_portal
from oms.web.routes import install_public_pages
from oms.wiring import (
    carrier_provider,
    carrier_signature_check,
    channel_repository,
    document_renderer,
    download_signer,
    email_renderer,
    password_hasher,
    pickup_code_key,
    status_links,
    webhook_address_guard,
)

__all__ = ["create_app"]


class BodySizeLimit:
    """Refuse request bodies over ``limit`` bytes with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        streamed = False
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                declared = value  # the last one, as a dict of the headers would keep
            elif name == b"transfer-encoding":
                streamed = True
        if declared is None and not streamed:
            # No length and no chunked body: an HTTP/1.1 request without a body (most
            # calls are GETs), nothing to count, so nothing wraps receive and send.
            await self.app(scope, receive, send)
            return
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        seen = 0
        too_large = started = False

        async def counting_receive() -> Message:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    too_large = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            # The framework may catch _TooLarge while reading the body and answer 400;
            # that answer is dropped so the 413 below is the only one sent.
            if too_large and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, counting_receive, guarded_send)
        if too_large and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(
            413,
            code="body_too_large",
            title="Request body too large",
            detail=f"Bodies are limited to {self.limit} bytes",
            instance=scope.get("path"),
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


def _warm_up(geocoder: OfflineGeocoder) -> None:
    """Build the geocoding indexes and the ZIP code table address verification reads, then
    keep the collector off everything made so far.

    Run in a worker's startup, before it listens: no request waits for an index then, and
    none runs beside the build. Built in a background thread while the worker served, the
    indexes (seconds of CPU, docs/performance.md "Receiving scans and the workers' start")
    took the GIL from every request each time one waited on the database, so a request of
    a dozen round trips waited up to a switch interval (``sys.getswitchinterval()``) at
    each, and the CPU of the build was counted against the first requests' benchmarks.

    The indexes are hundreds of thousands of objects that live as long as the process,
    and Python's full collection walks every live object while it holds the GIL: a worker
    paused long enough for none of its requests to move (docs/performance.md, item 13).
    ``gc.freeze`` moves what exists now out of the collector's sight (what is made later is
    collected as before).

    While the indexes grow, the collector would walk them again and again (each full
    collection over all that was built so far) and find nothing to free: it waits until
    they are built, collects once what the build left behind, and the rest is frozen
    (docs/performance.md, "A worker's warm-up without collections").
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        geocoder.warm_up()
        zip_areas.warm_up()
        gc.collect()
        gc.freeze()
    finally:
        if was_enabled:
            gc.enable()


# A path no route has: matching it makes every route be looked at.
_NO_ROUTE_SCOPE: Scope = {
    "type": "http",
    "method": "GET",
    "path": "/\x00",
    "root_path": "",
    "query_string": b"",
    "headers": [],
}


def build_routes(app: FastAPI) -> None:
    """Make FastAPI build what it builds for each route on the first request it matches.

    FastAPI builds each included router's routes (their dependencies, their parameters'
    and answers' pydantic adapters) when a request is first matched against them, which a
    worker's first requests paid (docs/performance.md "Receiving scans and the workers'
    start"). Matching a path that no route has, before the worker listens, builds all of
    them; most of what that builds is made once per process from the routes' own parts
    (``oms.api.route_parts``).
    """
    for route in app.router.routes:
        route.matches(dict(_NO_ROUTE_SCOPE))


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    page_clock: PageClock | None = None,
) -> FastAPI:
    """Build the API for ``settings`` (default: from the environment); ``page_clock``: the
    clocks of the public pages (tests give their own)."""
    share_route_parts()
    settings = settings or Settings()
    engine = engine or build_engine(settings)
    geocoder = OfflineGeocoder()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Requests run their database work in worker threads: as many at once as there are
        # pooled connections. More threads would only wait for a connection (or open and
        # close overflow ones) while contending for the GIL and for rows.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.db_pool_size
        keeper = StatisticsKeeper(engine, interval=settings.db_analyze_seconds)
        if settings.environment is not Environment.TEST:
            # Before the worker listens (uvicorn opens its socket once this startup is
            # done): built while requests run, the indexes held the GIL for seconds of CPU
            # between their every database round trip (see _warm_up).
            await anyio.to_thread.run_sync(_warm_up, geocoder)
            build_routes(app)
            keeper.start()
        try:
            yield
        finally:
            keeper.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="oms",
        version="0.1.0",
        summary="Order management for merchants and 3PLs",
        docs_url=None,  # served from vendored assets by oms.api.docs
        redoc_url=None,
        dependencies=[Depends(reject_nul_characters)],
    )
    uow_factory = SqlUnitOfWorkFactory(engine)
    links = status_links(settings, uow_factory)

    def place_orders(
        submissions: Sequence[Submission], on_writing: Callable[[], None]
    ) -> list[Outcome]:
        return place_group(
            uow_factory=uow_factory,
            gateways=gateway_named,
            geocoder=geocoder,
            submissions=submissions,
            on_writing=on_writing,
        )

    app.state.oms = AppState(
        settings=settings,
        uow_factory=uow_factory,
        key_cache={},
        gateways=gateway_named,
        geocoder=geocoder,
        carriers=carrier_provider(settings),
        downloads=download_signer(settings),
        pickup_key=pickup_code_key(settings),
        documents=document_renderer(),
        carrier_signatures=carrier_signature_check(settings),
        # Half the connections write order groups; the rest serve everything else.
        intake=IntakeGroups(
            place_orders,
            writers=max(1, settings.db_pool_size // 2),
            max_size=settings.intake_group_size,
            linger=settings.intake_group_wait_ms / 1000,
        ),
        status_links=links,
        email_renderer=email_renderer(),
        webhook_addresses=webhook_address_guard(settings),
    )
    install_error_handlers(app)
    if settings.docs_enabled:
        install_docs(app)
    for module in (
        health,
        metrics,
        catalogue,
        inventory,
        orders,
        order_actions,
        holds,
        discounts,
        customers,
        reservations,
        routing,
        carriers,
        fulfilment,
        waves,
        shipments,
        notifications,
        webhook_endpoints,
        dashboard,
        channels,
        imports,
        returns,
        purchasing,
        inbound_routes,
        cycle_counts,
        transfers,
        billing,
        customs,
        forecasts,
        replenishment,
        analytics,
        store_credit,
    ):
        app.include_router(module.router)
    app.include_router(channels.store_router)
    app.state.channels = channels.ChannelState(
        channels=CachedChannels(channel_repository(settings, engine)), adapters=sales_channel_of
    )
    install_public_pages(
        app,
        settings=settings,
        grants=links,
        clock=page_clock,
    )
    app.include_router(customer_returns.router)  # the status page's returns (after its limiter)
    install_portal(app, settings=settings, hasher=password_hasher(settings), clock=page_clock)
    install_route_index(app.router)
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)
    # Outermost: plain order placements and Shopify's new orders are answered before the
    # framework's machinery.
    app.add_middleware(ShopifyWebhookLane)
    app.add_middleware(IntakeLane)
    return app
