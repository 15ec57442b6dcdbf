"""dashboard indexes: the backlog, promises, shipments and fulfilment errors by time

The dashboard's aggregate queries (``oms.adapters.db.repositories.dashboard``) read ranges of
time; without these they scan a tenant's whole orders, shipments or timeline. The backlog
and error indexes are partial, so they hold only the few rows they serve (open orders with
units to ship; short picks and carrier exceptions). Each leads with the time so that an
operator's view of every tenant reads one range too; a tenant's rows are picked from it by
the second column.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BACKLOG = (
    "status IN ('open', 'on_hold') AND fulfillment_status IN ('unfulfilled', 'partially_fulfilled')"
)
ERRORS = (
    "type IN ('fulfillment_order.short_picked', 'shipment.exception', "
    "'shipment.returned_to_sender')"
)


def upgrade() -> None:
    op.create_index(
        "ix_orders_backlog",
        "orders",
        ["created_at", "tenant_id"],
        sqlite_where=sa.text(BACKLOG),
        postgresql_where=sa.text(BACKLOG),
    )
    op.create_index("ix_orders_promised", "orders", ["promised_ship_by", "tenant_id"])
    op.create_index("ix_shipments_created", "shipments", ["created_at", "tenant_id"])
    op.create_index(
        "ix_order_events_errors",
        "order_events",
        ["created_at", "tenant_id"],
        sqlite_where=sa.text(ERRORS),
        postgresql_where=sa.text(ERRORS),
    )


def downgrade() -> None:
    op.drop_index("ix_order_events_errors", table_name="order_events")
    op.drop_index("ix_shipments_created", table_name="shipments")
    op.drop_index("ix_orders_promised", table_name="orders")
    op.drop_index("ix_orders_backlog", table_name="orders")
