"""The unit of work and API client fixtures of the returns tests' modules, on the module's
own database (``tests.integration.returns_support.returns_engine``). A module imports them
and names them in ``__all__`` beside ``returns_engine``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import create_app
from tests.api.support import TestClient, api_settings_for

__all__ = ["client", "uow"]


@pytest.fixture(scope="module")
def uow(returns_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(returns_engine)


@pytest.fixture(scope="module")
def client(returns_engine: Engine) -> Iterator[TestClient]:
    settings = api_settings_for(returns_engine.url.render_as_string(hide_password=False))
    with TestClient(create_app(settings, engine=returns_engine)) as test_client:
        yield test_client
