"""Tracing: traces, financial data assessments and the record of requests for information (cms_casework.tracing).

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import UtcDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "traces",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("client_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(60), nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_traces_case", "traces", ["case_id", "created_at"])
    op.create_index("ix_traces_client_state", "traces", ["client_id", "state"])
    op.create_table(
        "financial_data_assessments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("obtained", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index(
        "ix_financial_data_assessments_case",
        "financial_data_assessments",
        ["case_id", "created_at"],
    )
    op.create_table(
        "information_requests",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index(
        "ix_information_requests_case", "information_requests", ["case_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("information_requests")
    op.drop_table("financial_data_assessments")
    op.drop_table("traces")
