"""payments: drop ``ix_payments_order``, which the unique constraint already covers

``ix_payments_order`` indexed ``payments (tenant_id, order_id)``, the first two columns of
``uq_payments_tenant_id_order_id_kind_idempotency_key``. Every lookup of an order's
payments can use that unique index's prefix (on PostgreSQL and on SQLite alike), so the
second index only cost a write per payment: captures, refunds, channel and CSV orders.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_payments_order", table_name="payments")


def downgrade() -> None:
    op.create_index("ix_payments_order", "payments", ["tenant_id", "order_id"])
