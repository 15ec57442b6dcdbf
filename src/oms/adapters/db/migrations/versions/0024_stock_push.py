"""stock push: markers of changed stock levels, and stores' inventory item ids by SKU

``stock_changes`` holds one row per (tenant, SKU, location) whose quantities changed since
the worker last pushed it (``oms.services.stock_push``); ``channel_inventory_items`` caches
a store's own id of each SKU's inventory item (Shopify's ``InventoryItem`` gid).

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from oms.adapters.db.types import UtcDateTime

revision = "0024"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stock_changes",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "sku", "location_id", name=op.f("pk_stock_changes")),
    )
    op.create_index("ix_stock_changes_changed_at", "stock_changes", ["changed_at"])
    op.create_table(
        "channel_inventory_items",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("inventory_item_id", sa.String(length=200), nullable=False),
        sa.Column("looked_up_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "channel_id", "sku", name=op.f("pk_channel_inventory_items")
        ),
    )


def downgrade() -> None:
    op.drop_table("channel_inventory_items")
    op.drop_index("ix_stock_changes_changed_at", table_name="stock_changes")
    op.drop_table("stock_changes")
