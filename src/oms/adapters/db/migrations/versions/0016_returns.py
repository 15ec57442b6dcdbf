"""returns: return requests (RMAs) and their lines, each tenant's return policy, and the
return a refund paid back (payments.return_id)

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from oms.adapters.db.types import Amount, UtcDateTime

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payments", sa.Column("return_id", sa.Uuid(), nullable=True))
    op.create_table(
        "returns",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("order_number", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("resolution", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=True),
        sa.Column("refunded_at", UtcDateTime(), nullable=True),
        sa.Column("refund_amount", Amount(), nullable=True),
        sa.Column("restocking_fee", Amount(), nullable=True),
        sa.Column("shipping_refund", Amount(), nullable=True),
        sa.Column("refund_key", sa.String(255), nullable=True),
        sa.Column("exchange_order_id", sa.Uuid(), nullable=True),
        sa.Column("exchange_credit", Amount(), nullable=True),
        sa.Column("label", sa.JSON(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_returns"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["orders.tenant_id", "orders.id"],
            name="fk_returns_tenant_id_order_id_orders",
        ),
    )
    op.create_index("ix_returns_order", "returns", ["tenant_id", "order_id"])
    op.create_index("ix_returns_status", "returns", ["tenant_id", "status", "created_at"])
    op.create_table(
        "return_lines",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("return_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(100), nullable=False),
        sa.Column("restocked", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("disposed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "return_id", "line_no", name="pk_return_lines"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "return_id"],
            ["returns.tenant_id", "returns.id"],
            name="fk_return_lines_tenant_id_return_id_returns",
        ),
        sa.CheckConstraint(
            "restocked + quarantined + disposed <= quantity",
            name="ck_return_lines_received_within_quantity",
        ),
    )
    op.create_index("ix_return_lines_reason", "return_lines", ["tenant_id", "reason"])
    op.create_table(
        "return_policies",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_return_policies"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_return_policies_tenant_id_tenants"
        ),
    )


def downgrade() -> None:
    op.drop_table("return_policies")
    op.drop_index("ix_return_lines_reason", table_name="return_lines")
    op.drop_table("return_lines")
    op.drop_index("ix_returns_status", table_name="returns")
    op.drop_index("ix_returns_order", table_name="returns")
    op.drop_table("returns")
    op.drop_column("payments", "return_id")
