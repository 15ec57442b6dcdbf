"""The contract tests run each repository behaviour against every implementation of the
port: the SQL adapter on SQLite and PostgreSQL (the shared migrated databases of
``tests/conftest.py``) and the in-memory unit of work, so the fake cannot drift from what
the database does.

The SQL databases are the contract tests' own (copies of the migrated template, one per
engine and test process): a repository test writes what a use case never would alone (a
level without its ledger movement), which the whole-deployment checks of other modules
(``oms check``) must not see. Within them a test works inside a tenant of its own
(``tenant_id``) and gives deployment-wide rows (operator locations, slugs) unique names.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from sqlalchemy import Engine

from oms.adapters.db.engine import build_engine
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.memory.uow import MemoryUnitOfWorkFactory
from oms.config import Environment, Settings
from oms.domain.catalogue import BundleComponent, Location, LocationKind, Product, ProductKind
from oms.domain.ids import new_id
from oms.domain.tenancy import Tenant
from oms.services.ports import UnitOfWorkFactory
from tests.databases import migrated_database_url

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _contract_engine(request: pytest.FixtureRequest, kind: str) -> Iterator[Engine]:
    for url in migrated_database_url(request, kind, "contract"):
        engine = build_engine(Settings(database_url=url, environment=Environment.TEST))
        yield engine
        engine.dispose()


@pytest.fixture(scope="session")
def contract_sqlite_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from _contract_engine(request, "sqlite")


@pytest.fixture(scope="session")
def contract_postgres_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from _contract_engine(request, "postgres")


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def uow_factory(request: pytest.FixtureRequest) -> UnitOfWorkFactory:
    """Each contract test runs on the in-memory unit of work, SQLite and PostgreSQL."""
    if request.param == "memory":
        return MemoryUnitOfWorkFactory()
    engine: Engine = request.getfixturevalue(f"contract_{request.param}_engine")
    return SqlUnitOfWorkFactory(engine)


def unique(prefix: str) -> str:
    """A name no other test of a shared database uses."""
    return f"{prefix}-{new_id().hex[-12:]}"


def add_tenant(uow_factory: UnitOfWorkFactory, *, at: datetime = T0) -> UUID:
    tenant = Tenant(id=new_id(), name="contract", created_at=at, slug=unique("contract"))
    with uow_factory() as uow:
        assert uow.tenants.add(tenant)
        uow.commit()
    return tenant.id


@pytest.fixture
def tenant_id(uow_factory: UnitOfWorkFactory) -> UUID:
    return add_tenant(uow_factory)


def product(
    tenant_id: UUID,
    sku: str,
    *,
    kind: ProductKind = ProductKind.PHYSICAL,
    components: dict[str, int] | None = None,
) -> Product:
    return Product(
        id=new_id(),
        tenant_id=tenant_id,
        sku=sku,
        name=f"Product {sku}",
        price=Decimal("12.50"),
        currency="EUR",
        kind=kind,
        weight_grams=250,
        components=tuple(BundleComponent(s, q) for s, q in (components or {}).items()),
        created_at=T0,
    )


def location(owner: UUID | None, code: str, *, priority: int = 100) -> Location:
    return Location(
        id=new_id(),
        code=code,
        name=f"Location {code}",
        kind=LocationKind.WAREHOUSE,
        owner_tenant_id=owner,
        priority=priority,
        created_at=T0,
    )


def stocked(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID, skus: list[str], codes: list[str]
) -> list[UUID]:
    """The tenant's products ``skus`` and locations ``codes`` (their ids, in order), with an
    empty level of each SKU at each location."""
    places = [location(tenant_id, code) for code in codes]
    with uow_factory() as uow:
        uow.products.add_many([product(tenant_id, sku) for sku in skus])
        for place in places:
            uow.locations.add(place)
            for sku in skus:
                uow.inventory.ensure_level(tenant_id, sku, place.id, T0)
        uow.commit()
    return [place.id for place in places]
