"""The migrations build exactly the schema ``oms.adapters.db.tables`` describes: a column,
constraint or index that one has and the other lacks (a migration forgotten, or a table
edited by hand) fails here, on both databases, instead of at the first write."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from oms.adapters.db.tables import metadata

# What SQLite cannot hold as PostgreSQL does, and so is left out of its migrations.
SQLITE_ONLY_DIFFERENCES = {
    # The trigram index of order search is PostgreSQL's (pg_trgm).
    ("add_index", "ix_orders_customer_name_trgm"),
    # SQLite keeps the slug's uniqueness as a unique index, not a named constraint.
    ("remove_index", "uq_tenants_slug"),
    ("add_constraint", "tenants(slug)"),
}


def _named(diff: Any) -> tuple[str, str | None]:
    kind = diff[0] if isinstance(diff, tuple) else "modify"
    target = diff[1] if isinstance(diff, tuple) and len(diff) > 1 else None
    if kind == "add_constraint" and target is not None:
        columns = ",".join(c.name for c in target.columns)
        return kind, f"{target.table.name}({columns})"
    return kind, getattr(target, "name", None)


def test_the_migrated_schema_is_the_tables_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    if engine.dialect.name == "sqlite":
        differences = [d for d in differences if _named(d) not in SQLITE_ONLY_DIFFERENCES]
    assert differences == []
