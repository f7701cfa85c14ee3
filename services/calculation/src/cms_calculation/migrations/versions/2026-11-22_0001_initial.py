"""Initial schema: calculations and the platform tables.

Revision ID: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import UtcDateTime
from cms_platform.migrations import create_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables(op)
    op.create_table(
        "calculations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_reference", sa.String(100), nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("rate", sa.String(20), nullable=False),
        sa.Column("rule_set_version", sa.String(20), nullable=False),
        sa.Column("calculation", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_calculations"),
    )
    op.create_index(
        "ix_calculations_case_reference", "calculations", ["case_reference", "effective_date"]
    )


def downgrade() -> None:
    op.drop_table("calculations")
