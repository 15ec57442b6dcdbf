"""What FastAPI builds for a route of an included router, built once per process.

FastAPI builds the routes of a router an app includes when a request is first matched
against them (``build_routes`` does it before a worker listens), once for every app that
includes the router: for each route, ``fastapi.routing._EffectiveRouteContext`` gathers
the route's dependency tree again (the endpoint's signature read, one pydantic adapter
made for every parameter of the endpoint and of each dependency) and the adapter of its
answer, though FastAPI built both for the route itself when the router was declared. For
this API's routes that is most of the CPU an app costs before its first answer
(docs/testing.md, "Ninth session"): each worker's start paid it, and a process that
builds more than one app (the test suite builds one per module and database engine) paid
it for each.

What those parts are made of is the route, the path it is included at and the
dependencies the inclusion adds: never the app. So ``share_route_parts`` makes them from
the route's own (its tree, with the inclusion's dependencies put in front as FastAPI puts
them; its answer adapters, which have the same names and types at the same path), keeps
them on the route, and hands the same objects to every later app that includes the route
at the same path with the same dependencies. FastAPI reads them and never changes them
once built. Each app still builds what is its own: its request handlers, which look up
its dependency overrides, and its route contexts.

Only the building of an included router's route is touched: routes added to an app itself
(``@app.get`` in a function that builds the app) are built as FastAPI builds them, so
nothing an app made is kept after the app is gone. A route included at another path, or
with dependencies after its own, and a part whose key cannot be hashed, are built by
FastAPI as before.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

from fastapi import params
from fastapi import routing as fastapi_routing
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import (
    _get_flat_body_params,
    _should_embed_body_fields,
    get_parameterless_sub_dependant,
)
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
    """Build each included route's dependency tree and answer adapters once per process.

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
) -> tuple[Dependant, list[Any], bool]:
    route = _building.get()
    if route is None:
        return _build_dependant(path=path, call=call, dependencies=dependencies)

    def build() -> tuple[Dependant, list[Any], bool]:
        made = _dependant_from_routes_own(route, path=path, call=call, dependencies=dependencies)
        return made or _build_dependant(path=path, call=call, dependencies=dependencies)

    return _shared(route, ("dependant", path, call, tuple(dependencies)), build)


def _dependant_from_routes_own(
    route: APIRoute, *, path: str, call: Callable[..., Any], dependencies: Sequence[params.Depends]
) -> tuple[Dependant, list[Any], bool] | None:
    """The tree of ``route`` included at ``path`` with ``dependencies``, made from the one
    FastAPI built for the route itself (``route.dependant``) when the inclusion only puts
    dependencies in front of the route's own at the same path: that tree with theirs
    first, in the order ``_build_dependant_with_parameterless_dependencies`` gives them;
    else None."""
    own = list(route.dependencies)
    added = len(dependencies) - len(own)
    if path != route.path_format or call is not route.endpoint or added < 0:
        return None
    if list(dependencies[added:]) != own:
        return None
    built = route.dependant
    tree = dataclasses.replace(
        built,
        dependencies=[
            *(
                get_parameterless_sub_dependant(depends=depends, path=path)
                for depends in dependencies[:added]
            ),
            *built.dependencies,
        ],
    )
    body_params = _get_flat_body_params(tree)
    return tree, body_params, _should_embed_body_fields(body_params)


def _shared_model_field(*args: Any, **kwargs: Any) -> Any:
    route = _building.get()
    if route is None or args or kwargs.keys() != {"name", "type_", "mode"}:
        return _create_model_field(*args, **kwargs)
    name, type_, mode = kwargs["name"], kwargs["type_"], kwargs["mode"]

    def build() -> Any:
        # The route's own answer adapters, where one has this name (the same path and
        # methods give the same name) and was made for this type.
        known = [(route.response_field, route.response_model)] + [
            (field, route.responses.get(code, {}).get("model"))
            for code, field in route.response_fields.items()
        ]
        for field, model in known:
            if field is not None and field.name == name and field.mode == mode and model is type_:
                return field
        return _create_model_field(name=name, type_=type_, mode=mode)

    return _shared(route, ("field", name, type_, mode), build)


def _shared(route: APIRoute, key: tuple[Any, ...], build: Callable[[], _T]) -> _T:
    try:
        hash(key)
    except TypeError:
        return build()
    parts: dict[tuple[Any, ...], Any] = vars(route).setdefault(_PARTS, {})
    found = parts.get(key)
    if found is None:
        found = parts.setdefault(key, build())
    return found  # type: ignore[no-any-return]
