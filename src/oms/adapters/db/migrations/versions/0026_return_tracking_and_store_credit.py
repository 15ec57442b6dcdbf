"""return tracking and store credit: the return label's parcel on the return
(``parcel_status``, ``last_scan_at``), its carrier events, the shared lookup of return
tracking numbers, and the store-credit ledger with its never-negative balances

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from oms.adapters.db.types import Amount, UtcDateTime

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("returns", sa.Column("parcel_status", sa.String(30), nullable=True))
    op.add_column("returns", sa.Column("last_scan_at", UtcDateTime(), nullable=True))
    op.create_table(
        "return_tracking_numbers",
        sa.Column("carrier", sa.String(40), nullable=False),
        sa.Column("tracking_number", sa.String(40), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("return_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("carrier", "tracking_number"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
    )
    op.create_table(
        "return_tracking_events",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("carrier", sa.String(40), nullable=False),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("return_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("location", sa.String(200), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "carrier", "event_id"),
        sa.ForeignKeyConstraint(["tenant_id", "return_id"], ["returns.tenant_id", "returns.id"]),
    )
    op.create_index(
        "ix_return_tracking_events_return", "return_tracking_events", ["tenant_id", "return_id"]
    )
    op.create_table(
        "store_credit_entries",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("return_id", sa.Uuid(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]
        ),
    )
    op.create_index(
        "ix_store_credit_entries_customer",
        "store_credit_entries",
        ["tenant_id", "customer_id", "currency"],
    )
    op.create_table(
        "store_credit_balances",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("balance_e4", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", "currency"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]
        ),
        sa.CheckConstraint("balance_e4 >= 0", name="store_credit_never_negative"),
    )


def downgrade() -> None:
    op.drop_table("store_credit_balances")
    op.drop_index("ix_store_credit_entries_customer", table_name="store_credit_entries")
    op.drop_table("store_credit_entries")
    op.drop_index("ix_return_tracking_events_return", table_name="return_tracking_events")
    op.drop_table("return_tracking_events")
    op.drop_table("return_tracking_numbers")
    with op.batch_alter_table("returns") as batch:
        batch.drop_column("last_scan_at")
        batch.drop_column("parcel_status")
