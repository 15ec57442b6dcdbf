"""analytics order facts: each order's share of the dashboard's rollups

``analytics_order_facts`` holds, per order, the facts the dashboard reads from the rollups
(kinds placed, split, due, ship_orders, shipment, error), written by the same recount as
``analytics_facts`` (whose rows of those kinds are their sums). The dashboard subtracts a
changed order's stored share and adds its raw rows, so that only the orders changed since
the watermark are read raw, not their whole placed days.

The rollups written before have no shares, so this migration turns them off (their facts
and state are deleted): ``oms analytics rebuild`` turns them on again (docs/analytics.md).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_order_facts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
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
            "tenant_id", "order_id", "kind", "day", "dims", name="pk_analytics_order_facts"
        ),
    )
    op.create_index(
        "ix_analytics_order_facts_placed", "analytics_order_facts", ["tenant_id", "placed_day"]
    )
    op.execute("DELETE FROM analytics_facts")
    op.execute("DELETE FROM analytics_state")


def downgrade() -> None:
    op.drop_index("ix_analytics_order_facts_placed", table_name="analytics_order_facts")
    op.drop_table("analytics_order_facts")
