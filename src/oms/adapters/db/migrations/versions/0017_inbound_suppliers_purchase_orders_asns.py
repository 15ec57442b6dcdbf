"""inbound: suppliers, purchase orders, ASNs with lines, scans and putaways; cycle counts; transfers

Every table leads its keys with ``tenant_id``. Receiving counts live on the lines and change
only under the shipment's row lock; a scan id seen before is not counted again
(``inbound_scans``' primary key). See docs/inbound.md.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from oms.adapters.db.types import Amount, UtcDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suppliers",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("moq", sa.Integer(), nullable=False),
        sa.Column("pack_size", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_suppliers")),
    )
    op.create_table(
        "inbound_shipments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("tracking", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_inbound_shipments_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_inbound_shipments")),
    )
    op.create_index(
        "ix_inbound_shipments_location",
        "inbound_shipments",
        ["location_id", "status"],
        unique=False,
    )
    op.create_table(
        "purchase_orders",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("expected_at", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_purchase_orders_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "supplier_id"],
            ["suppliers.tenant_id", "suppliers.id"],
            name=op.f("fk_purchase_orders_tenant_id_supplier_id_suppliers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_purchase_orders")),
    )
    op.create_index(
        "ix_purchase_orders_status", "purchase_orders", ["tenant_id", "status"], unique=False
    )
    op.create_table(
        "inbound_lines",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("shipment_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("received_good", sa.Integer(), nullable=False),
        sa.Column("received_damaged", sa.Integer(), nullable=False),
        sa.Column("put_away", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "expected >= 0 AND received_good >= 0 AND received_damaged >= 0 "
            "AND put_away >= 0 AND put_away <= received_good",
            name=op.f("ck_inbound_lines_inbound_counts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "shipment_id"],
            ["inbound_shipments.tenant_id", "inbound_shipments.id"],
            name=op.f("fk_inbound_lines_tenant_id_shipment_id_inbound_shipments"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "sku"],
            ["products.tenant_id", "products.sku"],
            name=op.f("fk_inbound_lines_tenant_id_sku_products"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "shipment_id", "sku", name=op.f("pk_inbound_lines")),
    )
    op.create_table(
        "inbound_putaways",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("shipment_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("bin", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "shipment_id"],
            ["inbound_shipments.tenant_id", "inbound_shipments.id"],
            name=op.f("fk_inbound_putaways_tenant_id_shipment_id_inbound_shipments"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_inbound_putaways")),
    )
    op.create_table(
        "inbound_scans",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("shipment_id", sa.Uuid(), nullable=False),
        sa.Column("scan_id", sa.String(length=100), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("condition", sa.String(length=10), nullable=False),
        sa.Column("exceptions", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "shipment_id"],
            ["inbound_shipments.tenant_id", "inbound_shipments.id"],
            name=op.f("fk_inbound_scans_tenant_id_shipment_id_inbound_shipments"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "shipment_id", "scan_id", "seq", name=op.f("pk_inbound_scans")
        ),
    )
    op.create_table(
        "purchase_order_lines",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("purchase_order_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_cost", Amount(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "quantity > 0 AND received >= 0", name=op.f("ck_purchase_order_lines_po_quantities")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "purchase_order_id"],
            ["purchase_orders.tenant_id", "purchase_orders.id"],
            name=op.f("fk_purchase_order_lines_tenant_id_purchase_order_id_purchase_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "sku"],
            ["products.tenant_id", "products.sku"],
            name=op.f("fk_purchase_order_lines_tenant_id_sku_products"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "purchase_order_id", "line_no", name=op.f("pk_purchase_order_lines")
        ),
    )
    op.create_index(
        "ix_purchase_order_lines_sku", "purchase_order_lines", ["tenant_id", "sku"], unique=False
    )

    op.create_table(
        "count_sheets",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("blind", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        sa.Column("approved_at", UtcDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_count_sheets_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_count_sheets")),
    )
    op.create_table(
        "count_lines",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("sheet_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("bin", sa.String(length=64), nullable=True),
        sa.Column("counted", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "counted IS NULL OR counted >= 0", name=op.f("ck_count_lines_counted_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "sheet_id"],
            ["count_sheets.tenant_id", "count_sheets.id"],
            name=op.f("fk_count_lines_tenant_id_sheet_id_count_sheets"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "sku"],
            ["products.tenant_id", "products.sku"],
            name=op.f("fk_count_lines_tenant_id_sku_products"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "sheet_id", "sku", name=op.f("pk_count_lines")),
    )

    op.create_table(
        "transfers",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("from_location_id", sa.Uuid(), nullable=False),
        sa.Column("to_location_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("shipped_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["from_location_id"],
            ["locations.id"],
            name=op.f("fk_transfers_from_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["to_location_id"], ["locations.id"], name=op.f("fk_transfers_to_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_transfers")),
    )
    op.create_index("ix_transfers_status", "transfers", ["tenant_id", "status"], unique=False)
    op.create_table(
        "transfer_lines",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "quantity > 0 AND received >= 0", name=op.f("ck_transfer_lines_transfer_quantities")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "transfer_id"],
            ["transfers.tenant_id", "transfers.id"],
            name=op.f("fk_transfer_lines_tenant_id_transfer_id_transfers"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "sku"],
            ["products.tenant_id", "products.sku"],
            name=op.f("fk_transfer_lines_tenant_id_sku_products"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "transfer_id", "sku", name=op.f("pk_transfer_lines")),
    )


def downgrade() -> None:
    for name in (
        "transfer_lines",
        "transfers",
        "count_lines",
        "count_sheets",
        "purchase_order_lines",
        "inbound_scans",
        "inbound_putaways",
        "inbound_lines",
        "purchase_orders",
        "inbound_shipments",
        "suppliers",
    ):
        op.drop_table(name)
