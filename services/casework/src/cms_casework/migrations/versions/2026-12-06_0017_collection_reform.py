"""The collection reform (docs/domain/money.md, "The end of Direct Pay"): reform what-ifs, Direct Pay migration runs
and each case's progress through a run.

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import UtcDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reform_what_ifs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("state", sa.String(60), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("lease_until", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_reform_what_ifs_state", "reform_what_ifs", ["state"])
    op.create_table(
        "direct_pay_migrations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("state", sa.String(60), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("lease_until", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_direct_pay_migrations_state", "direct_pay_migrations", ["state", "dry_run"])
    op.create_table(
        "direct_pay_migration_cases",
        sa.Column("migration_id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("step", sa.String(20), nullable=False),
        sa.Column("change_of_circumstances", sa.String(200), nullable=False),
        sa.Column("failure", sa.String(300), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_direct_pay_migration_cases_case", "direct_pay_migration_cases", ["case_id"])


def downgrade() -> None:
    op.drop_table("direct_pay_migration_cases")
    op.drop_table("direct_pay_migrations")
    op.drop_table("reform_what_ifs")
