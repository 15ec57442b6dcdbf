"""order numbers from a per-tenant sequence on PostgreSQL

Every tenant numbers its orders from its own SEQUENCE ``order_number_<tenant hex>``
instead of incrementing ``tenants.last_order_number`` (see
``oms.adapters.db.repositories.tenants``). Existing tenants continue where their counter
row stands. Nothing changes on SQLite.

Run it with the API stopped: a process still on the counter row would hand out the numbers
the new sequence starts with.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _sequence(tenant_id: object) -> str:
    # Frozen copy of oms.adapters.db.repositories.tenants.order_number_sequence.
    return "order_number_" + str(tenant_id).replace("-", "").lower()


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    rows = bind.execute(
        sa.text("SELECT id, last_order_number FROM tenants ORDER BY id FOR UPDATE")
    ).all()
    for tenant_id, last in rows:
        op.execute(
            f"CREATE SEQUENCE IF NOT EXISTS {_sequence(tenant_id)} AS bigint "
            f"START WITH {int(last) + 1}"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    tenant_ids = bind.execute(sa.text("SELECT id FROM tenants ORDER BY id FOR UPDATE")).scalars()
    for tenant_id in list(tenant_ids):
        name = _sequence(tenant_id)
        # The counter row continues after the highest number the sequence handed out
        # (pg_sequences.last_value is NULL while nothing was taken).
        bind.execute(
            sa.text(
                "UPDATE tenants SET last_order_number = GREATEST(last_order_number, "
                "COALESCE((SELECT last_value FROM pg_sequences WHERE sequencename = :name "
                "AND schemaname = current_schema()), 0)) WHERE id = :id"
            ),
            {"id": tenant_id, "name": name},
        )
        op.execute(f"DROP SEQUENCE IF EXISTS {name}")
