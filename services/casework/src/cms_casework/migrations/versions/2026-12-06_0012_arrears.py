"""Arrears: agreements, Direct Pay missed payment reports, overpayment decisions, suspensions, the arrears check's
positions and the missed payments it found (cms_casework.arrears).

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _documents(table: str, *, state: bool = True, updated: bool = True) -> None:
    op.create_table(
        table,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        *([sa.Column("state", sa.String(60), nullable=False)] if state else []),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        *([sa.Column("updated_at", UtcDateTime, nullable=False)] if updated else []),
    )


def upgrade() -> None:
    _documents("arrears_agreements")
    op.create_index("ix_arrears_agreements_case", "arrears_agreements", ["case_id", "created_at"])
    op.create_index("ix_arrears_agreements_state", "arrears_agreements", ["state"])
    _documents("missed_payment_reports")
    op.create_index(
        "ix_missed_payment_reports_case", "missed_payment_reports", ["case_id", "created_at"]
    )
    _documents("overpayment_decisions", state=False, updated=False)
    op.create_index(
        "ix_overpayment_decisions_case", "overpayment_decisions", ["case_id", "created_at"]
    )
    op.create_table(
        "arrears_suspensions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(60), nullable=False),
        sa.Column("review_date", sa.Date, nullable=False),
        sa.Column("review_raised", sa.Boolean, nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_arrears_suspensions_case", "arrears_suspensions", ["case_id", "state"])
    op.create_index(
        "ix_arrears_suspensions_review", "arrears_suspensions", ["state", "review_date"]
    )
    op.create_table(
        "arrears_positions",
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("overdue_pence", sa.BigInteger, nullable=False),
        sa.Column("credit_pence", sa.BigInteger, nullable=False),
        sa.Column("overpayment_service_request", sa.String(120), nullable=False),
        sa.Column("checked_on", sa.Date, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "missed_payments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("due_on_or_before", sa.Date, nullable=False),
        sa.Column("missed_pence", sa.BigInteger, nullable=False),
        sa.Column("arrears_pence", sa.BigInteger, nullable=False),
        sa.Column("service_request", sa.String(120), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("case_id", "due_on_or_before", name="uq_missed_payments_cutoff"),
    )


def downgrade() -> None:
    op.drop_table("missed_payments")
    op.drop_table("arrears_positions")
    op.drop_index("ix_arrears_suspensions_review", table_name="arrears_suspensions")
    op.drop_index("ix_arrears_suspensions_case", table_name="arrears_suspensions")
    op.drop_table("arrears_suspensions")
    op.drop_index("ix_overpayment_decisions_case", table_name="overpayment_decisions")
    op.drop_table("overpayment_decisions")
    op.drop_index("ix_missed_payment_reports_case", table_name="missed_payment_reports")
    op.drop_table("missed_payment_reports")
    op.drop_index("ix_arrears_agreements_state", table_name="arrears_agreements")
    op.drop_index("ix_arrears_agreements_case", table_name="arrears_agreements")
    op.drop_table("arrears_agreements")
