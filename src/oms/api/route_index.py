"""Finding a request's route without trying every route: an index by the path's first two
segments, in front of the app's router.

FastAPI keeps each included router as one entry of the app's routes and, for every
request, asks each entry in turn whether one of its routes matches; a router answers by
trying all of its routes, and the router that matched tries them all again to pick the one
it serves. With this API's 50-odd routers (the portal's included), a call to a route near
the end of the list tried some 300 path patterns, each with a few scope updates around it:
more of a cheap call's framework time than anything else (docs/performance.md, "The
framework path of every call").

``RouteIndex`` stands where the router's own dispatch (``middleware_stack``) stood. It
files every route under the literal segments that begin its path (``/v1/returns/{id}``
under ``("v1", "returns")``, ``/healthz`` under ``("healthz",)``, a path that begins with a
parameter under ``()``), so a request is tried only against the routes filed under a
prefix of its own first two segments, in the order the router would have tried them. A
route that cannot match a request is never one it skips: its literal beginning differs
from the request's path. The first route that matches fully is served exactly as the
router serves a route of an included router (the same scope entries, the same handler);
anything else goes to the router's own dispatch, unchanged: no full match (404, 405, the
trailing-slash redirect), routes that are not a FastAPI route of an included router (the
OpenAPI document, the docs' static files), and every request that is not HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import routing as fastapi_routing
from fastapi.routing import APIRoute, APIRouter
from fastapi.telemetry._api import _route_selected
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["RouteIndex", "install_route_index", "path_key"]

_IncludedRouter = fastapi_routing._IncludedRouter
_EffectiveRouteContext = fastapi_routing._EffectiveRouteContext
_SCOPE_KEY = fastapi_routing._FASTAPI_SCOPE_KEY
_INCLUDED_ROUTER_KEY = fastapi_routing._FASTAPI_INCLUDED_ROUTER_KEY
_EFFECTIVE_ROUTE_KEY = fastapi_routing._FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY
_apply_router_form_limits = fastapi_routing._apply_router_form_limits
_update_scope = fastapi_routing._update_scope

KEY_SEGMENTS = 2


def path_key(path_format: str | None) -> tuple[str, ...]:
    """The literal segments a route's path begins with, at most ``KEY_SEGMENTS``: every
    path the route matches begins with them (``()`` when unknown or a parameter comes
    first)."""
    if path_format is None or not path_format.startswith("/"):
        return ()
    key: list[str] = []
    for segment in path_format.split("/", KEY_SEGMENTS + 1)[1 : KEY_SEGMENTS + 1]:
        if "{" in segment or ("/" in segment):
            break
        key.append(segment)
    return tuple(key)


@dataclass(frozen=True)
class _Entry:
    """One route in the router's order; ``context`` is None for one left to the router."""

    key: tuple[str, ...]
    included: object | None = None
    context: object | None = None


class RouteIndex:
    """The router's dispatch, first trying only the routes a request's path can match."""

    def __init__(self, router: APIRouter, dispatch: ASGIApp) -> None:
        self.router = router
        self.dispatch = dispatch
        self._built_for: tuple[int, int] | None = None
        self._by_two: dict[tuple[str, str], list[_Entry]] = {}
        self._by_one: dict[str, list[_Entry]] = {}
        self._by_none: list[_Entry] = []

    def _entries(self) -> list[_Entry]:
        entries: list[_Entry] = []
        for route in self.router.routes:
            if not isinstance(route, _IncludedRouter):
                entries.append(_Entry(path_key(getattr(route, "path_format", None))))
                continue
            for candidate in route.effective_candidates():
                if isinstance(candidate, _EffectiveRouteContext) and isinstance(
                    candidate.original_route, APIRoute
                ):
                    entries.append(_Entry(path_key(candidate.path_format), route, candidate))
                else:
                    entries.append(_Entry(()))
        return entries

    def build(self) -> None:
        """File the router's routes (again); done on the first request and whenever the
        app's list of routes changed since."""
        entries = self._entries()
        twos = {e.key for e in entries if len(e.key) == 2}
        ones = {e.key[0] for e in entries if e.key}

        def under(*prefixes: tuple[str, ...]) -> list[_Entry]:
            return [e for e in entries if e.key in prefixes]

        self._by_two = {(a, b): under((), (a,), (a, b)) for a, b in twos}
        self._by_one = {a: under((), (a,)) for a in ones}
        self._by_none = under(())
        self._built_for = (len(self.router.routes), self.router._routes_version)

    def candidates(self, path: str) -> list[_Entry]:
        """The routes that may match ``path``, in the router's order."""
        segments = path.split("/", KEY_SEGMENTS + 1)
        if len(segments) > KEY_SEGMENTS:
            found = self._by_two.get((segments[1], segments[2]))
            if found is not None:
                return found
        if len(segments) > 1:
            return self._by_one.get(segments[1], self._by_none)
        return self._by_none

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.dispatch(scope, receive, send)
            return
        if self._built_for != (len(self.router.routes), self.router._routes_version):
            self.build()
        for entry in self.candidates(get_route_path(scope)):
            context = entry.context
            if context is None:
                break  # a route the router tries its own way: let it try them all
            match, child_scope = context.matches(scope)  # type: ignore[attr-defined]
            if match is Match.FULL:
                await self._serve(entry, child_scope, scope, receive, send)
                return
        await self.dispatch(scope, receive, send)

    async def _serve(
        self, entry: _Entry, child_scope: Scope, scope: Scope, receive: Receive, send: Send
    ) -> None:
        # What the router's dispatch, the included router and the route do on the way to
        # the route's handler when its path and method match, in the same order.
        context, included = entry.context, entry.included
        route: BaseRoute = context.original_route  # type: ignore[attr-defined]
        if "router" not in scope:
            scope["router"] = self.router
        _apply_router_form_limits(scope, self.router.form_limits)
        _apply_router_form_limits(scope, included.include_context.form_limits)  # type: ignore[attr-defined]
        fastapi_scope = scope.setdefault(_SCOPE_KEY, {})
        fastapi_scope[_INCLUDED_ROUTER_KEY] = included
        child_scope["route"] = route
        _update_scope(scope, child_scope)
        _route_selected(scope=scope, path=context.path_format, mount=False)  # type: ignore[attr-defined]
        fastapi_scope[_EFFECTIVE_ROUTE_KEY] = context
        scope["route"] = route
        await route.handle(scope, receive, send)


def install_route_index(router: APIRouter) -> RouteIndex:
    """Put a ``RouteIndex`` in front of ``router``'s own dispatch (once all routes are in)."""
    index = RouteIndex(router, router.middleware_stack)
    router.middleware_stack = index
    return index
