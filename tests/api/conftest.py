"""API fixtures: one app and test client per module on the session's SQLite database.

Every test takes fresh tenants, so modules share the database without seeing each other.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import create_app
from oms.config import Settings
from tests.api.support import (
    ApiTenant,
    TestClient,
    api_settings_for,
    new_operator_headers,
    new_tenant,
)


@pytest.fixture(scope="module")
def api_settings(sqlite_url: str) -> Settings:
    return api_settings_for(sqlite_url)


@pytest.fixture(scope="module")
def api_uow(sqlite_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(sqlite_engine)


@pytest.fixture(scope="module")
def client(api_settings: Settings, sqlite_engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings, engine=sqlite_engine)) as test_client:
        yield test_client


@pytest.fixture
def tenant(api_uow: SqlUnitOfWorkFactory) -> ApiTenant:
    return new_tenant(api_uow, "tenant under test")


@pytest.fixture
def other_tenant(api_uow: SqlUnitOfWorkFactory) -> ApiTenant:
    return new_tenant(api_uow, "another tenant")


@pytest.fixture(scope="module")
def operator_headers(api_uow: SqlUnitOfWorkFactory) -> dict[str, str]:
    return new_operator_headers(api_uow)
