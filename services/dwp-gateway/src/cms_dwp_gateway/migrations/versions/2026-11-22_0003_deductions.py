"""Deductions from benefit.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deductions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("paying_parent_nino", sa.String(9), nullable=False),
        sa.Column("state", sa.String(60), nullable=False),
        sa.Column("route", sa.String(60), nullable=False),
        sa.Column("deduction", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_deductions_case_id", "deductions", ["case_id", "state"])
    op.create_index("ix_deductions_paying_parent", "deductions", ["paying_parent_nino"])


def downgrade() -> None:
    op.drop_table("deductions")
