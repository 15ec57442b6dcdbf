"""supplier of each SKU, daily stock samples and the nightly runs

``supplier_skus`` links a SKU to the supplier it is bought from and its unit cost
(replenishment groups its suggestions per supplier by it); ``stock_days`` holds, per SKU,
location and UTC day, the lowest and the last availability the worker saw (stock-out days);
``nightly_runs`` the worker's nightly decisions per tenant and day (run once a day).

Revision ID: 0028
Revises: 0026
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from oms.adapters.db.types import Amount, UtcDateTime

revision = "0028"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supplier_skus",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("unit_cost", Amount(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "sku", name="pk_supplier_skus"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "sku"],
            ["products.tenant_id", "products.sku"],
            name="fk_supplier_skus_tenant_id_sku_products",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "supplier_id"],
            ["suppliers.tenant_id", "suppliers.id"],
            name="fk_supplier_skus_tenant_id_supplier_id_suppliers",
        ),
    )
    op.create_table(
        "stock_days",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("low", sa.Integer(), nullable=False),
        sa.Column("close", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "sku", "location_id", "day", name="pk_stock_days"),
    )
    op.create_index("ix_stock_days_day", "stock_days", ["tenant_id", "day"])
    op.create_table(
        "nightly_runs",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "day", name="pk_nightly_runs"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_nightly_runs_tenant_id_tenants"
        ),
    )


def downgrade() -> None:
    op.drop_table("nightly_runs")
    op.drop_index("ix_stock_days_day", table_name="stock_days")
    op.drop_table("stock_days")
    op.drop_table("supplier_skus")
