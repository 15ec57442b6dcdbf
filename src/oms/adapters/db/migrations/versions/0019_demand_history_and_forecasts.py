"""demand history and forecasts: daily demand per SKU and location, the latest forecasts

``demand_days`` holds a merchant's imported sales history and the daily demand aggregated
from the system's own orders; ``demand_forecasts`` the latest forecast of each series with
its backtest (docs/decisions.md).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from oms.adapters.db.types import Amount, UtcDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "demand_days",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("revenue", Amount(), nullable=True),
        sa.Column("promo", sa.Boolean(), nullable=False),
        sa.Column("stockout", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "sku", "location", "day", "source", name="pk_demand_days"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_demand_days_tenant_id_tenants"
        ),
        sa.CheckConstraint("quantity >= 0", name="ck_demand_days_quantity_not_negative"),
    )
    op.create_table(
        "demand_forecasts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("made_at", UtcDateTime(), nullable=False),
        sa.Column("history_end", sa.Date(), nullable=False),
        sa.Column("model", sa.String(40), nullable=False),
        sa.Column("demand_class", sa.String(20), nullable=False),
        sa.Column("points", sa.JSON(), nullable=False),
        sa.Column("mase", sa.Float(), nullable=True),
        sa.Column("origins", sa.Integer(), nullable=False),
        sa.Column("beats_baseline", sa.Boolean(), nullable=False),
        sa.Column("error_sd", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "sku", "location", name="pk_demand_forecasts"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_demand_forecasts_tenant_id_tenants"
        ),
    )


def downgrade() -> None:
    op.drop_table("demand_forecasts")
    op.drop_table("demand_days")
