"""Initial schema: the platform tables (outbox, processed events, idempotent requests).

Revision ID: 0001
Create Date: 2026-11-22
"""

from alembic import op

from cms_platform.migrations import create_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables(op)


def downgrade() -> None:
    for table in ("idempotent_requests", "processed_events", "outbox_events"):
        op.drop_table(table)
