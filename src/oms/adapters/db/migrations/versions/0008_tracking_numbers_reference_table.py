"""tenant-led keys for shipments and tracking events; tracking_numbers reference table

A carrier names a parcel by its tracking number only, so the tracking number's global
uniqueness and the carrier event's tenant now live in ``tracking_numbers`` (a small table
shared by every tenant, filled here from the existing shipments), and the tenant-owned
tables lead their keys with ``tenant_id``: ``shipments (tenant_id, carrier,
tracking_number)`` and ``tracking_events (tenant_id, carrier, event_id)``. Every row is kept.

Downgrading gives up the reference table; it fails if two tenants hold the same carrier
event id (which the old key could not store).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracking_numbers",
        sa.Column("carrier", sa.String(length=40), nullable=False),
        sa.Column("tracking_number", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("shipment_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_tracking_numbers_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("carrier", "tracking_number", name=op.f("pk_tracking_numbers")),
    )
    op.create_index("ix_tracking_numbers_tracking_number", "tracking_numbers", ["tracking_number"])
    op.execute(
        "INSERT INTO tracking_numbers (carrier, tracking_number, tenant_id, shipment_id) "
        "SELECT carrier, tracking_number, tenant_id, id FROM shipments"
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_shipments_carrier_tracking_number", type_="unique")
        batch_op.create_unique_constraint(
            "uq_shipments_tenant_id_carrier_tracking_number",
            ["tenant_id", "carrier", "tracking_number"],
        )
    with op.batch_alter_table("tracking_events", schema=None) as batch_op:
        batch_op.drop_constraint("pk_tracking_events", type_="primary")
        batch_op.create_primary_key("pk_tracking_events", ["tenant_id", "carrier", "event_id"])


def downgrade() -> None:
    with op.batch_alter_table("tracking_events", schema=None) as batch_op:
        batch_op.drop_constraint("pk_tracking_events", type_="primary")
        batch_op.create_primary_key("pk_tracking_events", ["carrier", "event_id"])
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_shipments_tenant_id_carrier_tracking_number", type_="unique")
        batch_op.create_unique_constraint(
            "uq_shipments_carrier_tracking_number", ["carrier", "tracking_number"]
        )
    op.drop_index("ix_tracking_numbers_tracking_number", table_name="tracking_numbers")
    op.drop_table("tracking_numbers")
