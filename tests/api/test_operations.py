"""Operations: liveness, readiness, and the published API description.

Nothing here depends on the database engine: the module runs on SQLite only.
"""

from __future__ import annotations

import inspect
from pathlib import Path

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


def test_the_interactive_docs_can_be_switched_off(
    api_settings: Settings, sqlite_engine: Engine
) -> None:
    settings = api_settings.model_copy(update={"docs_enabled": False})

    with TestClient(create_app(settings, engine=sqlite_engine)) as without_docs:
        assert_problem(without_docs.get("/docs"), 404, "not_found")
        assert without_docs.get("/openapi.json").status_code == 200


def test_every_dependency_is_async_so_none_costs_a_thread_pool_hop(client: TestClient) -> None:
    plain: set[str] = set()

    def walk(dependant: Dependant) -> None:
        for sub in dependant.dependencies:
            if sub.call is not None and not inspect.iscoroutinefunction(sub.call):
                plain.add(getattr(sub.call, "__qualname__", repr(sub.call)))
            walk(sub)

    routes = [r for r in api_routes(client.app) if isinstance(r, APIRoute)]  # type: ignore[arg-type]
    for route in routes:
        walk(route.dependant)

    assert routes
    assert plain == set()
