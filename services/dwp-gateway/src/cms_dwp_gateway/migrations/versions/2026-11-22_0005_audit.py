"""The audit trail of CIS and JCP enquiries.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import BigId, UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cis_audit_records",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("caller", sa.String(200), nullable=False),
        sa.Column("interface", sa.String(100), nullable=False),
        sa.Column("legal_basis", sa.String(200), nullable=False),
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("service_request_id", sa.String(100), nullable=False),
        sa.Column("person_id", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
    )
    op.create_index("ix_cis_audit_records_person_id", "cis_audit_records", ["person_id"])


def downgrade() -> None:
    op.drop_table("cis_audit_records")
