"""A change raised from an event keeps the event's trace context, so the feed pass that applies it continues the
trace (docs/architecture.md, "Traces").

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("changes_of_circumstances", sa.Column("trace_context", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("changes_of_circumstances") as batch:
        batch.drop_column("trace_context")
