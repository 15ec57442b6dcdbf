"""The contract tests run each repository behaviour against every implementation of the
port: the SQL adapter on SQLite and PostgreSQL (the shared migrated databases of
``tests/conftest.py``) and the in-memory unit of work, so the fake cannot drift from what
the database does.

The SQL databases are shared by the whole run: a test works inside a tenant of its own
(``tenant_id``) and gives deployment-wide rows (operator locations, slugs) unique names.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.memory.uow import MemoryUnitOfWorkFactory
from oms.domain.catalogue import BundleComponent, Location, LocationKind, Product, ProductKind
from oms.domain.ids import new_id
from oms.domain.tenancy import Tenant
from oms.services.ports import UnitOfWorkFactory

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


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
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
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
