"""Scenario overrides, interests and the audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import UtcDateTime
from cms_platform.migrations import create_audit_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "simulated_people",
        sa.Column("nino", sa.String(9), primary_key=True),
        sa.Column("person", sa.LargeBinary, nullable=False),
        sa.Column("other_parent_nino", sa.String(9), nullable=False, server_default=""),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "interests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("interest_type", sa.String(40), nullable=False),
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("nino", sa.String(9), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("interest", sa.LargeBinary, nullable=False),
        sa.Column("feed_state", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_interests_nino_active", "interests", ["nino", "active"])
    op.create_index("ix_interests_case_id", "interests", ["case_id"])
    create_audit_table(op, "audit_records", subject_column="nino", subject_length=9)


def downgrade() -> None:
    for table in ("audit_records", "interests", "simulated_people"):
        op.drop_table(table)
