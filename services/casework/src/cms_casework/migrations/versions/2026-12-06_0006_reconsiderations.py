"""Mandatory reconsiderations (one per decision) and revisions of decisions on the CMS's own initiative.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mandatory_reconsiderations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("decision", sa.String(120), nullable=False),
        sa.Column("state", sa.String(60), nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("case_id", "decision", name="uq_reconsiderations_decision"),
    )
    op.create_index(
        "ix_reconsiderations_case", "mandatory_reconsiderations", ["case_id", "created_at"]
    )
    op.create_table(
        "decision_revisions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("decision", sa.String(120), nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_revisions_case", "decision_revisions", ["case_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_revisions_case", table_name="decision_revisions")
    op.drop_table("decision_revisions")
    op.drop_index("ix_reconsiderations_case", table_name="mandatory_reconsiderations")
    op.drop_table("mandatory_reconsiderations")
