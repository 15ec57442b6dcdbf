"""What the fulfilment API tests share: a database of their own with the carrier rate
cards (deployment-wide, so no other module may see them), sites with box sizes, and small
request helpers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from oms.adapters.db.engine import build_engine
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import create_app
from oms.config import Settings
from tests.api.support import ApiTenant, TestClient, api_settings_for, new_operator_headers
from tests.databases import migrated_database_url
from tests.integration.test_routing import RATES

__all__ = ["COLOGNE", "add_sites", "get_json", "own_engine", "post_json", "rated_client"]

COLOGNE = {
    "name": "Erika Mustermann",
    "line1": "Heidestrasse 17",
    "city": "Koeln",
    "postal_code": "51147",
    "country": "DE",
    "latitude": 50.94,
    "longitude": 6.96,
}


def own_engine(request: pytest.FixtureRequest, name: str) -> Iterator[Engine]:
    """A migrated database for one module, on the engine ``request.param`` names."""
    for url in migrated_database_url(request, request.param, name):
        engine = build_engine(api_settings_for(url))
        yield engine
        engine.dispose()


def rated_client(
    engine: Engine, settings: Settings, uow: SqlUnitOfWorkFactory
) -> Iterator[TestClient]:
    """The API on ``engine`` with the test rate cards imported by an operator."""
    with TestClient(create_app(settings, engine=engine)) as client:
        imported = client.post(
            "/v1/carrier-services/import",
            headers=new_operator_headers(uow),
            json={"format": "yaml", "document": RATES},
        )
        assert imported.status_code == 200, imported.text
        yield client


def add_sites(
    client: TestClient,
    tenant: ApiTenant,
    sites: dict[str, tuple[str, float, float, dict[str, str]]],
    boxes: list[dict[str, Any]],
) -> None:
    """Warehouses ship, stores take pickups; each with an address and ``boxes``."""
    for code, (kind, lat, lon, address) in sites.items():
        response = client.post(
            "/v1/locations",
            headers=tenant.headers,
            json={
                "code": code,
                "name": f"Site {code}",
                "kind": kind,
                "latitude": lat,
                "longitude": lon,
                "can_ship": kind == "warehouse",
                "can_pickup": kind == "store",
                "address": {"country": "DE", "line1": f"{code} Strasse 1", **address},
                "boxes": boxes,
            },
        )
        assert response.status_code == 201, response.text


def get_json(client: TestClient, tenant: ApiTenant, path: str) -> Any:
    response = client.get(path, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


def post_json(
    client: TestClient, tenant: ApiTenant, path: str, body: Any = None, status: int = 200
) -> Any:
    response = client.post(path, headers=tenant.headers, json=body)
    assert response.status_code == status, response.text
    return response.json()
