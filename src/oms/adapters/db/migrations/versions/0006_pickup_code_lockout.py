"""pickup codes: a lock after wrong codes, and no code left in clear in the outbox

Adds ``fulfillment_orders.pickup_wrong_codes`` and ``pickup_locked_until`` (see
``oms.domain.pickup_codes``), and removes ``pickup_code`` from the stored
``notification.pickup_ready`` outbox payloads that earlier versions wrote it into.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from oms.adapters.db.types import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_outbox = sa.table(
    "outbox",
    sa.column("tenant_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("topic", sa.String()),
    sa.column("payload", sa.JSON()),
)


def upgrade() -> None:
    op.add_column(
        "fulfillment_orders",
        sa.Column("pickup_wrong_codes", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "fulfillment_orders", sa.Column("pickup_locked_until", UtcDateTime(), nullable=True)
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_outbox.c.tenant_id, _outbox.c.id, _outbox.c.payload).where(
            _outbox.c.topic == "notification.pickup_ready"
        )
    ).all()
    for tenant_id, message_id, payload in rows:
        data = json.loads(payload) if isinstance(payload, str) else dict(payload)
        if "pickup_code" in data:
            del data["pickup_code"]
            bind.execute(
                sa.update(_outbox)
                .where(_outbox.c.tenant_id == tenant_id, _outbox.c.id == message_id)
                .values(payload=data)
            )


def downgrade() -> None:
    with op.batch_alter_table("fulfillment_orders") as batch:
        batch.drop_column("pickup_locked_until")
        batch.drop_column("pickup_wrong_codes")
