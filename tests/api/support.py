"""Helpers for the API tests: the test client, tenants with keys, and problem+json checks.

The world each test needs is built through the HTTP API itself, so a test reads as a
conversation with the service; every helper asserts the status it relies on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import fastapi.routing
import httpx
from fastapi import FastAPI

from oms.config import Environment, Settings
from oms.domain.tenancy import ApiKeyScope
from oms.services.ports import UnitOfWorkFactory
from oms.services.tenants import create_api_key, create_tenant

# The tests' client: Starlette's TestClient crossing to the app's loop once per request.
from tests.api.app_client import AppClient as TestClient

__all__ = [
    "PROBLEM_JSON",
    "ApiTenant",
    "TestClient",
    "api_routes",
    "api_settings_for",
    "assert_problem",
    "create_location",
    "create_product",
    "fill_path",
    "new_operator_headers",
    "new_tenant",
    "order_body",
    "path_parameters",
    "place_order",
    "served_routes",
    "set_on_hand",
    "stock_of",
    "walk_pages",
]

PROBLEM_JSON = "application/problem+json"


def api_settings_for(url: str) -> Settings:
    """Test settings with small, explicit limits, so the tests can reach them cheaply.

    Keys are cached, as in production: a tenant's first order is then placed through the
    route and the next ones through the intake lane (``oms.api.intake_lane``), which only
    takes keys the cache holds. So the order tests cover both.
    """
    return Settings(
        database_url=url,
        environment=Environment.TEST,
        api_key_cache_seconds=3_600,
        max_body_bytes=16_000,
        max_page_size=50,
        default_page_size=10,
        max_order_lines=20,
    )


@dataclass(frozen=True)
class ApiTenant:
    """A tenant and the secret of its first API key."""

    id: UUID
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


def new_tenant(uow_factory: UnitOfWorkFactory, name: str = "api test tenant") -> ApiTenant:
    tenant, key = create_tenant(uow_factory=uow_factory, name=name)
    return ApiTenant(id=tenant.id, secret=key.secret)


def new_operator_headers(uow_factory: UnitOfWorkFactory) -> dict[str, str]:
    key = create_api_key(
        uow_factory=uow_factory, scope=ApiKeyScope.OPERATOR, tenant_id=None, name="api tests"
    )
    return {"Authorization": f"Bearer {key.secret}"}


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status`` (and ``code``); its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON, response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] == f"https://oms.dev/problems/{body['code']}"
    assert body["title"]
    assert isinstance(body["detail"], str)
    if code is not None:
        assert body["code"] == code, body
    return body


def api_routes(app: FastAPI) -> list[Any]:
    """Every route the app serves, through included routers too."""
    # Recent FastAPI versions keep each included router as one entry in ``app.routes``.
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    if flatten is None:
        return list(app.routes)
    return [context.route for context in flatten(app.routes)]


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """``(method, path)`` of every route the app serves, through included routers too."""
    return {
        (method, route.path)
        for route in api_routes(app)
        for method in (getattr(route, "methods", None) or ())
        if method != "HEAD"
    }


def path_parameters(template: str) -> list[str]:
    """The parameter names of a route path, in order: ``["order_id", "hold_id"]``."""
    return re.findall(r"\{([^}]+)\}", template)


def fill_path(template: str, *values: str) -> str:
    """``template`` with its parameters set to ``values`` in order; one value fills them all."""
    names = path_parameters(template)
    assert names, template
    assert len(values) in (1, len(names)), (template, values)
    filled = template
    for i, name in enumerate(names):
        filled = filled.replace(f"{{{name}}}", values[0] if len(values) == 1 else values[i], 1)
    return filled


def create_location(
    client: TestClient, tenant: ApiTenant, code: str, *, priority: int = 100
) -> dict[str, Any]:
    response = client.post(
        "/v1/locations",
        headers=tenant.headers,
        json={"code": code, "name": f"Location {code}", "priority": priority},
    )
    assert response.status_code == 201, response.text
    location: dict[str, Any] = response.json()
    return location


def create_product(
    client: TestClient, tenant: ApiTenant, sku: str, **fields: Any
) -> dict[str, Any]:
    body = {"sku": sku, "name": f"Product {sku}", "price": "10.00", "currency": "EUR", **fields}
    response = client.post("/v1/products", headers=tenant.headers, json=body)
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


def set_on_hand(
    client: TestClient, tenant: ApiTenant, sku: str, location: str, units: int
) -> dict[str, Any]:
    response = client.post(
        "/v1/inventory/adjustments",
        headers=tenant.headers,
        json={"sku": sku, "location": location, "set_on_hand": units, "reason": "count"},
    )
    assert response.status_code == 201, response.text
    stock: dict[str, Any] = response.json()
    return stock


def stock_of(client: TestClient, tenant: ApiTenant, sku: str) -> dict[str, Any]:
    response = client.get(f"/v1/inventory/{sku}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    stock: dict[str, Any] = response.json()
    return stock


def order_body(*lines: tuple[str, int], **fields: Any) -> dict[str, Any]:
    return {
        "currency": "EUR",
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        **fields,
    }


def place_order(
    client: TestClient, tenant: ApiTenant, *lines: tuple[str, int], **fields: Any
) -> dict[str, Any]:
    response = client.post("/v1/orders", headers=tenant.headers, json=order_body(*lines, **fields))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def walk_pages(
    client: TestClient,
    path: str,
    headers: dict[str, str],
    *,
    limit: int,
    params: dict[str, str] | None = None,
) -> list[list[dict[str, Any]]]:
    """Every page of a list, following ``next_cursor`` to the end."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query: dict[str, str | int] = {**(params or {}), "limit": limit}
        if cursor is not None:
            query["cursor"] = cursor
        response = client.get(path, headers=headers, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 1_000, "the cursor never ends"
