"""Operations: liveness, readiness, and the published API description.

Nothing here depends on the database engine: the module runs on SQLite only.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy import Engine, create_engine

from oms.api.app import create_app
from oms.config import Settings
from tests.api.support import (
    TestClient,
    api_routes,
    api_settings_for,
    assert_problem,
    served_routes,
)


@pytest.fixture(scope="module")
def api_engine(sqlite_engine: Engine) -> Engine:
    return sqlite_engine


def test_the_liveness_probe_answers_ok(client: TestClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_readiness_probe_answers_ok_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_readiness_probe_answers_503_when_the_database_does_not(tmp_path: Path) -> None:
    unreachable: Engine = create_engine(f"sqlite:///{tmp_path}/missing-dir/oms.db")
    settings = api_settings_for(f"sqlite:///{tmp_path}/missing-dir/oms.db")

    with TestClient(create_app(settings, engine=unreachable)) as broken:
        response = broken.get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    unreachable.dispose()


def test_a_worker_runs_as_many_requests_on_the_database_at_once_as_it_has_connections(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = api_settings_for(f"sqlite:///{tmp_path}/unused.db").model_copy(
        update={"db_pool_size": 3}
    )

    with TestClient(create_app(settings, engine=sqlite_engine)) as three:
        limit = three.portal.call(
            lambda: anyio.to_thread.current_default_thread_limiter().total_tokens
        )

    assert limit == 3


def test_the_openapi_document_lists_every_v1_route(client: TestClient) -> None:
    served = {
        (method.lower(), path)
        for method, path in served_routes(client.app)  # type: ignore[arg-type]
        if path.startswith("/v1/")
    }

    response = client.get("/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    described = {
        (method, path)
        for path, operations in document["paths"].items()
        if path.startswith("/v1/")
        for method in operations
    }
    assert described == served
    assert ("post", "/v1/orders") in described
    assert ("post", "/v1/orders/{order_id}/cancel") in described


def test_the_interactive_docs_are_served_as_html(client: TestClient) -> None:
    response = client.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in response.text


# Routes that take no API key (docs/api.md): signed carrier webhooks, signed download links
# and the pages customers open (the tracking page, a shop's order status page).
_PUBLIC_ROUTES = {
    ("post", "/v1/carriers/{carrier}/events"),
    ("get", "/track/{tracking_number}"),
    ("get", "/status/{slug}"),
    ("get", "/downloads/{token}"),
}


def _local_assets(html: str) -> list[str]:
    """Every script, stylesheet and icon a page loads; fails on any that is not local."""
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    remote = [url for url in assets if not url.startswith("/") or url.startswith("//")]
    assert not remote, f"the page loads from elsewhere: {remote}"
    return assets


@pytest.mark.parametrize(("page", "script"), [("/docs", "swagger-ui"), ("/redoc", "redoc")])
def test_the_docs_pages_load_only_assets_the_server_serves_itself(
    client: TestClient, page: str, script: str
) -> None:
    response = client.get(page)

    assert response.status_code == 200
    assets = _local_assets(response.text)
    assert any(script in url and url.endswith(".js") for url in assets), assets
    assert "/openapi.json" in response.text
    assert "googleapis" not in response.text
    for url in assets:
        served = client.get(url)
        assert served.status_code == 200, url
        assert len(served.content) > 100, url


def test_swagger_ui_asks_no_outside_validator(client: TestClient) -> None:
    assert '"validatorUrl": null' in client.get("/docs").text


def test_the_openapi_document_declares_the_bearer_key_on_every_route_that_needs_one(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()

    schemes = document["components"]["securitySchemes"]
    bearer = [name for name, scheme in schemes.items() if scheme == {**scheme, "type": "http"}]
    assert len(bearer) == 1
    assert schemes[bearer[0]]["scheme"] == "bearer"
    needs_key = {
        (method, path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if {bearer[0]: []} in operation.get("security", [])
    }
    versioned = {
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if path.startswith("/v1/")
    }
    assert needs_key == versioned - _PUBLIC_ROUTES
    assert ("post", "/v1/orders") in needs_key
    # The key is the scheme's, not a header parameter each route lists.
    parameters = document["paths"]["/v1/orders"]["post"].get("parameters", [])
    assert all(p["name"].lower() != "authorization" for p in parameters)


def test_the_interactive_docs_can_be_switched_off(
    api_settings: Settings, sqlite_engine: Engine
) -> None:
    settings = api_settings.model_copy(update={"docs_enabled": False})

    with TestClient(create_app(settings, engine=sqlite_engine)) as without_docs:
        assert_problem(without_docs.get("/docs"), 404, "not_found")
        assert_problem(without_docs.get("/redoc"), 404, "not_found")
        assert without_docs.get("/openapi.json").status_code == 200


def _is_async(call: Callable[..., Any]) -> bool:
    """A coroutine function, or an object whose ``__call__`` is one (a security scheme)."""
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(type(call).__call__)


def test_every_dependency_is_async_so_none_costs_a_thread_pool_hop(client: TestClient) -> None:
    plain: set[str] = set()

    def walk(dependant: Dependant) -> None:
        for sub in dependant.dependencies:
            if sub.call is not None and not _is_async(sub.call):
                plain.add(getattr(sub.call, "__qualname__", repr(sub.call)))
            walk(sub)

    routes = [r for r in api_routes(client.app) if isinstance(r, APIRoute)]  # type: ignore[arg-type]
    for route in routes:
        walk(route.dependant)

    assert routes
    assert plain == set()
