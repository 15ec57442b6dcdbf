"""billing price lists, the ledger by time, and customs data on products and orders

``billing_price_lists`` holds each merchant's prices for the 3PL's work; the ledger gets an
index by (tenant, time), so a month's statement reads one range of it. Products get their
HS code, country of origin and customs description; orders their duties terms (DDP/DAP).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from oms.adapters.db.types import UtcDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_price_lists",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_billing_price_lists"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_billing_price_lists_tenant_id_tenants"
        ),
    )
    op.create_index(
        "ix_inventory_movements_time", "inventory_movements", ["tenant_id", "created_at"]
    )
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("hs_code", sa.String(14), nullable=True))
        batch.add_column(sa.Column("origin_country", sa.String(2), nullable=True))
        batch.add_column(sa.Column("customs_description", sa.String(200), nullable=True))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("duties_terms", sa.String(3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("duties_terms")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("customs_description")
        batch.drop_column("origin_country")
        batch.drop_column("hs_code")
    op.drop_index("ix_inventory_movements_time", table_name="inventory_movements")
    op.drop_table("billing_price_lists")
