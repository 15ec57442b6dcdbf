"""Tenant slugs in the database: made at creation (or chosen), unique, found again, and
filled in for the tenants that existed before slugs did (migration 0010); on both engines."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from alembic import command
from sqlalchemy import Engine, String, Uuid, column, insert, select, table

from oms.adapters.db.engine import build_engine
from oms.adapters.db.migrate import alembic_config, upgrade
from oms.adapters.db.types import UtcDateTime
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.config import Settings
from oms.domain.errors import AlreadyExists, InvalidRequest, NotFound
from oms.services.tenants import create_tenant, list_tenants, tenant_by_slug
from tests.databases import ENGINES, scratch_database_url

SLUGS = "0010"
AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_a_tenant_gets_a_slug_from_its_name_and_is_found_by_it(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    name = f"Slug Shop {uuid4().hex[:8]}"

    tenant, _ = create_tenant(uow_factory=uow_factory, name=name)

    assert tenant.slug == name.lower().replace(" ", "-")
    assert tenant_by_slug(uow_factory=uow_factory, slug=tenant.slug) == tenant


def test_the_same_name_again_gets_the_next_free_number(uow_factory: SqlUnitOfWorkFactory) -> None:
    name = f"Twin {uuid4().hex[:8]}"

    first, _ = create_tenant(uow_factory=uow_factory, name=name)
    second, _ = create_tenant(uow_factory=uow_factory, name=name)
    third, _ = create_tenant(uow_factory=uow_factory, name=name.upper())

    assert (second.slug, third.slug) == (f"{first.slug}-2", f"{first.slug}-3")


def test_a_chosen_slug_is_kept_checked_and_never_shared(uow_factory: SqlUnitOfWorkFactory) -> None:
    chosen = f"my-shop-{uuid4().hex[:8]}"

    tenant, _ = create_tenant(uow_factory=uow_factory, name="Anything", slug=chosen)
    with pytest.raises(AlreadyExists):
        create_tenant(uow_factory=uow_factory, name="Someone else", slug=chosen)
    with pytest.raises(InvalidRequest) as invalid:
        create_tenant(uow_factory=uow_factory, name="Bad", slug="Not A Slug")

    assert tenant.slug == chosen
    assert invalid.value.detail.startswith("The slug ")
    # Nothing of the refused creations was kept.
    assert [t.name for t in list_tenants(uow_factory=uow_factory) if t.slug == chosen] == [
        "Anything"
    ]
    with pytest.raises(NotFound):
        tenant_by_slug(uow_factory=uow_factory, slug="no-such-shop-at-all")


# --- the migration that filled the slugs -------------------------------------------------------

# The table as it stood before slugs, and after.
_before = table(
    "tenants", column("id", Uuid), column("name", String), column("created_at", UtcDateTime())
)
_tenants = table(
    "tenants", column("name", String), column("created_at", UtcDateTime()), column("slug", String)
)


@pytest.fixture(params=ENGINES)
def empty_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    for url in scratch_database_url(request, request.param, "tenant_slugs"):
        engine = build_engine(Settings(database_url=url))
        yield engine
        engine.dispose()


def test_the_migration_gives_existing_tenants_unique_slugs_oldest_first(
    empty_engine: Engine,
) -> None:
    upgrade(empty_engine, "0009")
    names = ["Acme", "Globex", "ACME", "Café Zoë", "???"]
    with empty_engine.begin() as conn:
        for n, name in enumerate(names):
            conn.execute(
                insert(_before).values(id=uuid4(), name=name, created_at=AT + timedelta(minutes=n))
            )

    upgrade(empty_engine, SLUGS)

    with empty_engine.connect() as conn:
        rows = conn.execute(
            select(_tenants.c.name, _tenants.c.slug).order_by(_tenants.c.created_at)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("Acme", "acme"),
        ("Globex", "globex"),
        ("ACME", "acme-2"),
        ("Café Zoë", "cafe-zoe"),
        ("???", "shop"),
    ]
    # New tenants then take the next free slug.
    tenant, _ = create_tenant(uow_factory=SqlUnitOfWorkFactory(empty_engine), name="acme")
    assert tenant.slug == "acme-3"

    config = alembic_config()
    with empty_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0009")
    with empty_engine.connect() as conn:
        assert len(conn.execute(select(_before.c.id)).all()) == len(names) + 1
