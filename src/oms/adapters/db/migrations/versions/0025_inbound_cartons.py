"""inbound cartons: an ASN's cartons with their contents, and the carton of each scan

``inbound_cartons`` keeps what each announced carton holds (a row per SKU); a scan of a
carton code receives those contents at once, and ``inbound_scans.carton`` says which carton
scanned units came in, so closing reports over and short per carton (docs/inbound.md).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_cartons",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("shipment_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("expected", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "shipment_id", "code", "sku"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "shipment_id"],
            ["inbound_shipments.tenant_id", "inbound_shipments.id"],
        ),
        sa.CheckConstraint("expected > 0", name="inbound_carton_expected"),
    )
    with op.batch_alter_table("inbound_scans") as batch:
        batch.add_column(sa.Column("carton", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_scans") as batch:
        batch.drop_column("carton")
    op.drop_table("inbound_cartons")
