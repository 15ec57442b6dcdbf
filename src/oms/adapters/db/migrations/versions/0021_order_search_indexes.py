"""order search indexes: the portal's search by part of a name, and by external id

``OrderRepository.search`` (``oms.adapters.db.repositories.order_search``) ORs exact
matches with ``customer_name ILIKE '%text%'``. A b-tree cannot serve a pattern with a
leading wildcard, so PostgreSQL read a tenant's orders newest first until enough matched:
fast for a common name, a scan of every order for a rare one or none. A trigram GIN index
(``pg_trgm``, a trusted extension since PostgreSQL 13: the database owner may create it)
answers the ``ILIKE`` directly; ``(tenant_id, external_id)`` serves the external id without
knowing the channel. With every alternative of the OR indexed the planner can combine
them (BitmapOr) or keep reading newest first, whichever its estimates favour.

SQLite gets the external id index only: it has no trigram index, and the search stays the
same statement there (correct, read newest first).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_tenant_external", "orders", ["tenant_id", "external_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_orders_customer_name_trgm ON orders "
            "USING gin (customer_name gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_orders_customer_name_trgm")
    op.drop_index("ix_orders_tenant_external", table_name="orders")
