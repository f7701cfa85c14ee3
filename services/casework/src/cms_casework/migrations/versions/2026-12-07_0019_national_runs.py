"""National runs as partitioned work: the run issued as chunks on the work topic, and a done-marker per chunk
(docs/architecture.md, "National runs on partitions").

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import UtcDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "national_runs",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("job", sa.String(60), nullable=False),
        sa.Column("as_of_date", sa.Date(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("items_due", sa.Integer(), nullable=False),
        sa.Column("issued_at", UtcDateTime(), nullable=False),
        sa.Column("issue_id", sa.String(36), nullable=False),
        sa.Column("completed_at", UtcDateTime(), nullable=True),
    )
    op.create_table(
        "national_run_chunks",
        sa.Column("run_id", sa.String(80), primary_key=True),
        sa.Column("chunk", sa.Integer(), primary_key=True),
        sa.Column("items_due", sa.Integer(), nullable=False),
        sa.Column("items_processed", sa.Integer(), nullable=False),
        sa.Column("items_failed", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Text(), nullable=False),
        sa.Column("done_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("national_run_chunks")
    op.drop_table("national_runs")
