"""Current income requests: the paying parent asked for current income when HMRC holds none, the time allowed, and
the default maintenance decision made when it ran out (cms_casework.default_decisions).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "current_income_requests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(40), nullable=False),
        sa.Column("requested_on", sa.Date, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("service_request", sa.String(200), nullable=False),
        sa.Column("default_calculation", sa.String(200), nullable=False, server_default=""),
        sa.Column("default_effective_date", sa.Date, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_current_income_requests_case", "current_income_requests", ["case_id"])
    op.create_index(
        "ix_current_income_requests_due", "current_income_requests", ["state", "due_date"]
    )


def downgrade() -> None:
    op.drop_index("ix_current_income_requests_due", "current_income_requests")
    op.drop_index("ix_current_income_requests_case", "current_income_requests")
    op.drop_table("current_income_requests")
