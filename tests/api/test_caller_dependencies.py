"""What a route's caller costs it: each alias of the caller a route takes
(``CurrentPrincipal``, ``TenantId``, ``ActorDep``, ``CallerDep``) is one dependency for
FastAPI to solve, with none below it, and the key (and an operator's ``OMS-Tenant``) is
resolved once per request however many of them a route takes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from fastapi.dependencies.models import Dependant

from oms.api.deps import ApiKeyBearer
from oms.services import tenants as tenant_services
from tests.api.support import ApiTenant, TestClient, api_routes, assert_problem


def _below(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _below(sub)


def test_every_caller_alias_is_one_dependency_with_none_below_it(client: TestClient) -> None:
    schemes = [
        sub
        for route in api_routes(client.app)  # type: ignore[arg-type]
        if getattr(route, "dependant", None) is not None
        for sub in _below(route.dependant)
        if isinstance(sub.call, ApiKeyBearer)
    ]

    assert len(schemes) > 100
    assert all(scheme.dependencies == [] for scheme in schemes)


def test_a_route_taking_the_tenant_and_the_actor_resolves_an_operators_tenant_once(
    client: TestClient,
    tenant: ApiTenant,
    operator_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolved: list[Any] = []
    resolve = tenant_services.resolve_tenant

    def counted(**arguments: Any) -> Any:
        resolved.append(arguments["tenant_id"])
        return resolve(**arguments)

    monkeypatch.setattr(tenant_services, "resolve_tenant", counted)

    # place_hold takes TenantId and ActorDep; the order does not exist, so nothing is held.
    response = client.post(
        f"/v1/orders/{uuid4()}/holds",
        headers={**operator_headers, "OMS-Tenant": str(tenant.id)},
        json={"reason": "manual"},
    )

    assert_problem(response, 404)
    assert resolved == [tenant.id]


def test_a_route_taking_the_tenant_and_the_actor_refuses_a_missing_key_once(
    client: TestClient,
) -> None:
    response = client.post(f"/v1/orders/{uuid4()}/holds", json={"reason": "manual"})

    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"
