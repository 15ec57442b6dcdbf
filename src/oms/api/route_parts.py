"""What FastAPI builds for a route of an included router, built once per process.

FastAPI builds the routes of a router an app includes when a request is first matched
against them (``build_routes`` does it before a worker listens), once for every app that
includes the router: for each route, ``fastapi.routing._EffectiveRouteContext``
gathers the route's dependency tree again (the endpoint's signature read, one pydantic
adapter made for every parameter of the endpoint and of each dependency) and the adapter
of its answer. For this API's routes that is most of the CPU an app costs before its
first answer (docs/testing.md, "Ninth session"). A process that builds more than one app
(the test suite builds one per module and database engine) paid it for each.

What those parts are made of is the route, the path it is included at and the
dependencies the inclusion adds: never the app. So ``share_route_parts`` keeps them on
the route the first time they are built and hands the same objects to every later app
that includes the route at the same path with the same dependencies. FastAPI reads them
and never changes them once built. Each app still builds what is its own: its request
handlers, which look up its dependency overrides, and its route contexts.

Only the building of an included router's route is shared: routes added to an app itself
(``@app.get`` in a function that builds the app) are built as FastAPI builds them, so
nothing an app made is kept after the app is gone. A part whose key cannot be hashed is
built every time, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

from fastapi import params
from fastapi import routing as fastapi_routing
from fastapi.routing import APIRoute

__all__ = ["share_route_parts"]

_T = TypeVar("_T")

_EffectiveRouteContext = fastapi_routing._EffectiveRouteContext
_build_dependant = fastapi_routing._build_dependant_with_parameterless_dependencies
# The name fastapi.routing calls, imported there from fastapi.utils.
_create_model_field = fastapi_routing.create_model_field  # type: ignore[attr-defined]
_from_api_route: Callable[..., Any] = _EffectiveRouteContext.from_api_route

# The included route whose parts are being built in this thread, if any.
_building: ContextVar[APIRoute | None] = ContextVar("oms_route_building", default=None)
_PARTS = "_oms_shared_parts"  # the attribute of the route that holds its parts
_lock = threading.Lock()
_installed = False


def share_route_parts() -> None:
    """Build each included route's dependency tree and answer adapter once per process.

    Idempotent; ``create_app`` calls it.
    """
    global _installed
    with _lock:
        if _installed:
            return
        fastapi_routing._build_dependant_with_parameterless_dependencies = _shared_dependant
        fastapi_routing.create_model_field = _shared_model_field  # type: ignore[attr-defined]
        _EffectiveRouteContext.from_api_route = classmethod(_building_route)  # type: ignore[assignment]
        _installed = True


def _building_route(_cls: type[Any], *, original_route: APIRoute, include_context: Any) -> Any:
    token = _building.set(original_route)
    try:
        return _from_api_route(original_route=original_route, include_context=include_context)
    finally:
        _building.reset(token)


def _shared_dependant(
    *, path: str, call: Callable[..., Any], dependencies: Sequence[params.Depends]
) -> Any:
    return _shared(
        ("dependant", path, call, tuple(dependencies)),
        lambda: _build_dependant(path=path, call=call, dependencies=dependencies),
    )


def _shared_model_field(*args: Any, **kwargs: Any) -> Any:
    if args or kwargs.keys() != {"name", "type_", "mode"}:
        return _create_model_field(*args, **kwargs)
    return _shared(
        ("field", kwargs["name"], kwargs["type_"], kwargs["mode"]),
        lambda: _create_model_field(**kwargs),
    )


def _shared(key: tuple[Any, ...], build: Callable[[], _T]) -> _T:
    route = _building.get()
    if route is None:
        return build()
    try:
        hash(key)
    except TypeError:
        return build()
    parts: dict[tuple[Any, ...], Any] = vars(route).setdefault(_PARTS, {})
    found = parts.get(key)
    if found is None:
        found = parts.setdefault(key, build())
    return found  # type: ignore[no-any-return]
