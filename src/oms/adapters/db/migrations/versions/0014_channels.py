"""channels: sales channel connections, their sync log, the last copy applied of each order

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from oms.adapters.db.types import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channels",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("location_codes", sa.JSON(), nullable=False),
        sa.Column("sku_mapping", sa.JSON(), nullable=False),
        sa.Column("push_fulfilments", sa.Boolean(), nullable=False),
        sa.Column("push_stock", sa.Boolean(), nullable=False),
        sa.Column("health", sa.String(length=20), nullable=False),
        sa.Column("health_detail", sa.Text(), nullable=True),
        sa.Column("last_synced_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_channels_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_channels")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_channels_tenant_id_name")),
    )
    op.create_index("ix_channels_id", "channels", ["id"], unique=False)
    op.create_table(
        "channel_sync_log",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("operation", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "channel_id", "id", name=op.f("pk_channel_sync_log")),
    )
    op.create_index("ix_channel_sync_log_at", "channel_sync_log", ["tenant_id", "channel_id", "at"])
    op.create_table(
        "channel_orders",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("remote_updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "channel_id", "external_id", name=op.f("pk_channel_orders")
        ),
    )


def downgrade() -> None:
    op.drop_table("channel_orders")
    op.drop_index("ix_channel_sync_log_at", table_name="channel_sync_log")
    op.drop_table("channel_sync_log")
    op.drop_index("ix_channels_id", table_name="channels")
    op.drop_table("channels")
