"""tenant slugs: each tenant's name in the URL of its order status page

Adds ``tenants.slug`` (unique, ``oms.domain.tenancy``) and fills it for the existing
tenants from their names, oldest tenant first, so the oldest "Acme" keeps ``acme`` and the
next gets ``acme-2``. On SQLite the column keeps an empty default and the key is a unique
index (the same rule; changing the table in place keeps the tables that refer to it valid).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from oms.domain.lengths import SLUG
from oms.domain.tenancy import first_free_slug, slug_from_name

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_tenants = sa.table(
    "tenants",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("created_at", sa.DateTime()),
    sa.column("slug", sa.String()),
)


def upgrade() -> None:
    # Added, filled and indexed in place: on SQLite, rebuilding ``tenants`` (a batch
    # operation) would break the foreign keys of every table that refers to it.
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column(
        "tenants",
        sa.Column("slug", sa.String(length=SLUG), nullable=False, server_default=""),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_tenants.c.id, _tenants.c.name).order_by(_tenants.c.created_at, _tenants.c.id)
    ).all()
    taken: set[str] = set()
    for tenant_id, name in rows:
        slug = first_free_slug(slug_from_name(name), taken)
        taken.add(slug)
        bind.execute(sa.update(_tenants).where(_tenants.c.id == tenant_id).values(slug=slug))
    if sqlite:
        op.create_index("uq_tenants_slug", "tenants", ["slug"], unique=True)
    else:
        op.alter_column("tenants", "slug", server_default=None)
        op.create_unique_constraint("uq_tenants_slug", "tenants", ["slug"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("uq_tenants_slug", table_name="tenants")
    else:
        op.drop_constraint("uq_tenants_slug", "tenants", type_="unique")
    op.drop_column("tenants", "slug")
