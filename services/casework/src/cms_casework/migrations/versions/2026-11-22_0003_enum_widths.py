"""Enum columns hold full value names, some longer than 40 characters (e.g.
CHANGE_OF_CIRCUMSTANCES_STATE_TOLERANCE_NOT_BREACHED): widen them all to 80.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

WIDENED = {
    "cases": ("state",),
    "service_requests": ("status", "origin"),
    "changes_of_circumstances": ("state", "type"),
    "payment_plans": ("state",),
    "correspondence": ("kind", "state"),
    "third_parties": ("kind",),
}


def upgrade() -> None:
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table) as t:
            for column in columns:
                t.alter_column(column, type_=sa.String(80), existing_nullable=False)


def downgrade() -> None:
    pass  # narrowing could truncate stored values
