"""The route index (``oms.api.route_index``) picks the route the router itself would pick,
for every route the app declares, and leaves every other request to the router."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope, Send

from oms.api.app import create_app
from oms.api.route_index import RouteIndex, install_route_index, path_key
from tests.api.support import TestClient, api_routes, api_settings_for

Seen = tuple[Any, dict[str, Any], Any] | None


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    url = f"sqlite:///{tmp_path_factory.mktemp('route_index') / 'oms.db'}"
    return create_app(api_settings_for(url))


@pytest.fixture(scope="module")
def index(app: FastAPI) -> RouteIndex:
    found = app.router.middleware_stack
    assert isinstance(found, RouteIndex)
    return found


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Seen]:
    """Every FastAPI route's handling is recorded (route, path parameters, the scope's
    FastAPI entries) instead of run; requests no route serves record None."""
    seen: list[Seen] = []

    async def record(route: APIRoute, scope: Scope, receive: Receive, send: Send) -> None:
        fastapi_scope = scope.get("fastapi", {})
        seen.append(
            (
                route,
                dict(scope.get("path_params", {})),
                (
                    scope.get("route"),
                    scope.get("endpoint"),
                    fastapi_scope.get("included_router"),
                    fastapi_scope.get("effective_route_context"),
                ),
            )
        )

    monkeypatch.setattr(APIRoute, "handle", record)
    return seen


def _dispatched(dispatch: Any, method: str, path: str, seen: list[Seen]) -> Seen:
    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "fastapi_middleware_astack": None,
    }
    before = len(seen)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: dict[str, Any]) -> None:
        return None

    # The router's own 404 and 405 raise for middleware this test leaves out.
    with contextlib.suppress(Exception):
        asyncio.run(dispatch(scope, receive, send))
    return seen[-1] if len(seen) > before else None


def _concrete(template: str) -> str:
    """A path ``template`` matches: each parameter set to a plain value."""
    return re.sub(r"\{([^}:]+)(:path)?[^}]*\}", lambda m: "a/b" if m.group(2) else "x1", template)


def test_every_declared_route_is_reached_as_the_router_reaches_it(
    app: FastAPI, index: RouteIndex, served: list[Seen]
) -> None:
    routes = [r for r in api_routes(app) if isinstance(r, APIRoute)]
    assert len(routes) > 200
    for route in routes:
        path = _concrete(route.path)
        for method in sorted(route.methods or ()):
            by_index = _dispatched(index, method, path, served)
            by_router = _dispatched(index.dispatch, method, path, served)
            assert by_index is not None, (method, path)
            assert by_index == by_router, (method, path)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/no-such-thing"),
        ("GET", "/v1"),
        ("GET", "/"),
        ("GET", "/v1/orders/"),  # the router's trailing-slash redirect
        ("DELETE", "/v1/orders"),  # 405
        ("PUT", "/healthz"),  # 405
        ("GET", "/openapi.json"),  # not a route of an included router
        ("GET", "/docs"),
        ("GET", "/static/swagger-ui.css"),
    ],
)
def test_requests_no_included_route_serves_are_left_to_the_router(
    index: RouteIndex, served: list[Seen], method: str, path: str
) -> None:
    assert _dispatched(index, method, path, served) == _dispatched(
        index.dispatch, method, path, served
    )


def test_the_answers_of_unmatched_requests_are_the_routers(app: FastAPI) -> None:
    with TestClient(app) as client:
        missing = client.get("/v1/no-such-thing")
        wrong_method = client.delete("/v1/orders")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert wrong_method.status_code == 405
    assert "GET" in wrong_method.headers["allow"]


@pytest.mark.parametrize(
    ("template", "key"),
    [
        ("/v1/returns/{return_id}", ("v1", "returns")),
        ("/v1/orders", ("v1", "orders")),
        ("/v1/orders/{order_id}/cancel", ("v1", "orders")),
        ("/v1/{anything}", ("v1",)),
        ("/healthz", ("healthz",)),
        ("/{path:path}", ()),
        ("/", ("",)),
        (None, ()),
    ],
)
def test_a_route_is_filed_under_the_literal_segments_its_path_begins_with(
    template: str | None, key: tuple[str, ...]
) -> None:
    assert path_key(template) == key


def _overlapping_app() -> FastAPI:
    """Routes of several routers that match the same paths: the first declared wins."""
    app = FastAPI()
    things, more, anywhere = APIRouter(prefix="/v1/things"), APIRouter(), APIRouter()

    @things.get("/{thing_id}")
    def one_thing(thing_id: str) -> str:
        return thing_id

    @things.post("/special")
    def post_special() -> str:
        return "post"

    @more.get("/v1/things/special")
    def special() -> str:
        return "special"

    @anywhere.get("/{first}/things/special")
    def anywhere_special(first: str) -> str:
        return first

    @anywhere.get("/v1/{what}")
    def what(what: str) -> str:
        return what

    for router in (anywhere, things, more):
        app.include_router(router)
    install_route_index(app.router)
    return app


@pytest.mark.parametrize(
    ("method", "path", "endpoint"),
    [
        ("GET", "/v1/things/special", "anywhere_special"),
        ("POST", "/v1/things/special", "post_special"),
        ("GET", "/v1/things/x1", "one_thing"),
        ("GET", "/v1/things", "what"),
        ("GET", "/v2/things/special", "anywhere_special"),
    ],
)
def test_of_routes_that_match_the_same_path_the_first_declared_is_served(
    served: list[Seen], method: str, path: str, endpoint: str
) -> None:
    app = _overlapping_app()
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    by_index = _dispatched(index, method, path, served)
    assert by_index is not None
    assert by_index == _dispatched(index.dispatch, method, path, served)
    assert by_index[0].endpoint.__name__ == endpoint
