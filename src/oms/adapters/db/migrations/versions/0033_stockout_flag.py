"""a stock-out day is flagged where its sample is kept

``stock_days.stockout``: the day was out and counts as a stock-out day (the SKU had demand
there, ``oms.domain.stockouts.judge_days_out``), set by the worker's rollup refresh and by
``oms analytics rebuild``, so that the stock-out report reads flags instead of judging
every day again (``ix_stock_days_stockout``: only the flagged rows). Rows written before
it read false: run ``oms analytics rebuild`` after upgrading (docs/analytics.md).

Revision ID: 0033
Revises: 0028
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "stock_days",
        sa.Column("stockout", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_stock_days_stockout",
        "stock_days",
        ["tenant_id", "day", "sku", "location_id"],
        postgresql_where=sa.text("stockout"),
        sqlite_where=sa.text("stockout"),
    )


def downgrade() -> None:
    op.drop_index("ix_stock_days_stockout", table_name="stock_days")
    with op.batch_alter_table("stock_days") as batch:
        batch.drop_column("stockout")
