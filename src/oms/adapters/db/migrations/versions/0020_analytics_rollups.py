"""analytics rollups: daily facts per tenant and placed day, their state, orders by change

``analytics_facts`` holds the daily rollups (oms.adapters.db.repositories.rollups writes
them, the dashboard and /v1/analytics read them); ``analytics_state`` says per tenant which
placed days they cover and up to when; ``ix_orders_updated`` finds the orders changed since
a moment (what the worker counts again, and what the dashboard reads raw).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from oms.adapters.db.types import UtcDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_facts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("placed_day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dims", sa.String(400), nullable=False),
        sa.Column("channel", sa.String(50), nullable=True),
        sa.Column("sku", sa.String(64), nullable=True),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("carrier", sa.String(40), nullable=True),
        sa.Column("service", sa.String(40), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("detail", sa.String(60), nullable=True),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("met", sa.BigInteger(), nullable=False),
        sa.Column("done", sa.BigInteger(), nullable=False),
        sa.Column("done_met", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("amount_e4", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "placed_day", "kind", "day", "dims", name="pk_analytics_facts"
        ),
    )
    op.create_index("ix_analytics_facts_day", "analytics_facts", ["kind", "day", "tenant_id"])
    op.create_index("ix_analytics_facts_tenant", "analytics_facts", ["tenant_id", "kind", "day"])
    op.create_table(
        "analytics_state",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("covered_from", sa.Date(), nullable=False),
        sa.Column("watermark", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_analytics_state"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_analytics_state_tenant_id_tenants"
        ),
    )
    op.create_index("ix_orders_updated", "orders", ["updated_at", "tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_orders_updated", table_name="orders")
    op.drop_table("analytics_state")
    op.drop_index("ix_analytics_facts_tenant", table_name="analytics_facts")
    op.drop_index("ix_analytics_facts_day", table_name="analytics_facts")
    op.drop_table("analytics_facts")
