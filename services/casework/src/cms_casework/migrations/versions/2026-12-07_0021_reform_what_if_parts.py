"""The reform what-if as a national run: each chunk's figures, added up once every chunk is done
(docs/architecture.md, "National runs on partitions").

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import UtcDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reform_what_if_parts",
        sa.Column("what_if_id", sa.String(36), primary_key=True),
        sa.Column("chunk", sa.Integer(), primary_key=True),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("cases_failed", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Text(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("error", sa.String(500), nullable=False),
        sa.Column("done_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reform_what_if_parts")
