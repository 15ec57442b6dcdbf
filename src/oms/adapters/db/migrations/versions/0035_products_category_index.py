"""products found by category: the status page's exchange choices

``ix_products_category`` on ``products (tenant_id, category, sku)``: the order status page
offers, for a returned line, the products of its category (``on_sale_in_category``), read
in SKU order from the index instead of the tenant's whole catalogue.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_products_category", "products", ["tenant_id", "category", "sku"])


def downgrade() -> None:
    op.drop_index("ix_products_category", table_name="products")
