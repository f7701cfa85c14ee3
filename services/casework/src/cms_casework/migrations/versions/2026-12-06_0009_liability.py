"""The liability timeline: each case's effective-dated segments, in force or superseded (cms_casework.liability).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "liability_segments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(80), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("rebuild", sa.String(36), nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index(
        "ix_liability_segments_case", "liability_segments", ["case_id", "state", "start_date"]
    )


def downgrade() -> None:
    op.drop_index("ix_liability_segments_case", table_name="liability_segments")
    op.drop_table("liability_segments")
