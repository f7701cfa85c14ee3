"""Credit files, search footprints, case surveillance and the audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import BigId, UtcDateTime
from cms_platform.migrations import create_audit_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credit_file_changes",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("nino", sa.String(9), nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("change", sa.LargeBinary, nullable=False),
        sa.Column("created_id", sa.String(40), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_credit_file_changes_nino", "credit_file_changes", ["nino", "id"])
    op.create_table(
        "search_footprints",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("search_reference", sa.String(40), nullable=False, unique=True),
        sa.Column("nino", sa.String(9), nullable=False),
        sa.Column("footprint_type", sa.String(10), nullable=False),
        sa.Column("searcher_name", sa.String(100), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("search_time", UtcDateTime, nullable=False),
    )
    op.create_index("ix_search_footprints_nino", "search_footprints", ["nino", "id"])
    op.create_table(
        "case_surveillances",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_reference", sa.String(100), nullable=False),
        sa.Column("nino", sa.String(9), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("review_date", sa.Date, nullable=False),
        sa.Column("surveillance", sa.LargeBinary, nullable=False),
        sa.Column("seen", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index(
        "ix_case_surveillances_case", "case_surveillances", ["case_reference", "created_at"]
    )
    op.create_index("ix_case_surveillances_nino_state", "case_surveillances", ["nino", "state"])
    op.create_index("ix_case_surveillances_state", "case_surveillances", ["state", "id"])
    op.create_table(
        "surveillance_alerts",
        sa.Column("alert_id", sa.String(36), primary_key=True),
        sa.Column("surveillance_id", sa.String(36), nullable=False),
        sa.Column("detect_time", UtcDateTime, nullable=False),
        sa.Column("alert", sa.LargeBinary, nullable=False),
    )
    op.create_index(
        "ix_surveillance_alerts_surveillance",
        "surveillance_alerts",
        ["surveillance_id", "detect_time"],
    )
    create_audit_table(op, "cra_audit_records", subject_column="file_reference")


def downgrade() -> None:
    for table in (
        "cra_audit_records",
        "surveillance_alerts",
        "case_surveillances",
        "search_footprints",
        "credit_file_changes",
    ):
        op.drop_table(table)
