"""Write-offs and estates (cms_casework.arrears): write-off decisions on closed cases' small arrears, and claims against
a deceased paying parent's estate (one per case).

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import UtcDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "write_off_decisions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_write_off_decisions_case", "write_off_decisions", ["case_id", "created_at"])
    op.create_table(
        "estate_claims",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(60), nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("case_id", name="uq_estate_claims_case"),
    )


def downgrade() -> None:
    op.drop_table("estate_claims")
    op.drop_index("ix_write_off_decisions_case", table_name="write_off_decisions")
    op.drop_table("write_off_decisions")
