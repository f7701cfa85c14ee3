"""The audit trail of CIS and JCP enquiries.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from alembic import op

from cms_platform.migrations import create_audit_table

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_table(op, "cis_audit_records", subject_column="person_id")


def downgrade() -> None:
    op.drop_table("cis_audit_records")
