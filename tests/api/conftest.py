"""API fixtures: one app and test client per module and database engine.

Each module runs on SQLite, then on PostgreSQL (its tests marked ``postgres``): the hot
paths have PostgreSQL-only statements, so the HTTP tests must cover both. Every test takes
fresh tenants, so modules share the session's database of each engine without seeing each
other; a module that sets something deployment-wide (carrier rate cards) takes a database
of its own (``tests.databases``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast
from uuid import UUID

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import create_app
from oms.api.routers.channels import ChannelState
from oms.config import Settings
from oms.domain.channels import ChannelConnection
from oms.services.channel_cache import CachedChannels
from tests.api.support import (
    ApiTenant,
    TestClient,
    api_settings_for,
    new_operator_headers,
    new_tenant,
)
from tests.databases import ENGINES


@pytest.fixture(scope="module", params=ENGINES)
def api_engine(request: pytest.FixtureRequest) -> Engine:
    """The session's shared database: SQLite, then PostgreSQL."""
    found: Engine = request.getfixturevalue(f"{request.param}_engine")
    return found


@pytest.fixture(scope="module")
def api_settings(api_engine: Engine) -> Settings:
    return api_settings_for(api_engine.url.render_as_string(hide_password=False))


@pytest.fixture(scope="module")
def api_uow(api_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(api_engine)


@pytest.fixture(scope="module")
def client(api_settings: Settings, api_engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings, engine=api_engine)) as test_client:
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


class _Freshness:
    """The app's connection cache with every stored connection fresh (``always``: the
    Shopify webhook lane takes what it can) or none (the lane hands every request on and
    the route reads the connection itself); the rest as the cache does it."""

    def __init__(self, cached: CachedChannels, *, always: bool) -> None:
        self._cached = cached
        self._always = always

    def fresh(self, channel_id: UUID) -> ChannelConnection | None:
        return self._cached.find(channel_id) if self._always else None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cached, name)


@pytest.fixture(params=["lane", "route"])
def webhook_path(request: pytest.FixtureRequest, client: TestClient) -> Iterator[str]:
    """Runs a store webhook test through the Shopify webhook lane (``oms.api.webhook_lane``)
    and through the route alone, which must answer alike."""
    state: Any = client.app.state  # type: ignore[attr-defined]
    kept: ChannelState = state.channels
    freshness = _Freshness(kept.channels, always=request.param == "lane")
    state.channels = ChannelState(channels=cast(CachedChannels, freshness), adapters=kept.adapters)
    yield request.param
    state.channels = kept
