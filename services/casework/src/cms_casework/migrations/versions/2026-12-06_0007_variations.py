"""Variation applications (Part 5 of SI 2012/2677): one document row per application.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "variations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(60), nullable=False),
        sa.Column("ground", sa.String(80), nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_variations_case", "variations", ["case_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_variations_case", table_name="variations")
    op.drop_table("variations")
