"""stock levels keep half of each page free for their updates

``inventory_levels`` gets ``fillfactor = 50`` (PostgreSQL; SQLite has no such setting): a
level's update then finds room on its own page and is written in place (a heap-only tuple:
no new primary-key entry). An inventory import sets every level of a page in one
transaction, in key order; with full pages most of those updates moved the row to another
page and added an index entry for it (docs/performance.md, "The inventory import's
remaining cost per row"). Pages written before the upgrade keep their rows until they
are next updated; ``VACUUM FULL inventory_levels`` rewrites them at once.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE inventory_levels SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE inventory_levels RESET (fillfactor)")
