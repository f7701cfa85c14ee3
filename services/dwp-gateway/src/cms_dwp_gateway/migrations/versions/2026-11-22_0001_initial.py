"""Initial schema: platform tables and case calculation notices.

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
        "case_calculation_notices",
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("calculation", sa.String(100), nullable=False),
        sa.Column("rate", sa.String(20), nullable=False),
        sa.Column("weekly_amount_pence", sa.BigInteger, nullable=False),
        sa.Column("notices_received", sa.Integer, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_case_calculation_notices"),
    )


def downgrade() -> None:
    op.drop_table("case_calculation_notices")
