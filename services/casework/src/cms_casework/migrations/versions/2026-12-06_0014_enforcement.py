"""Enforcement: enforcement cases and the actions taken on them (cms_casework.enforcement). Enforcement charges and
their waivers are ledger entries of the accounts' own table (new kind, target and adjustment kind values in columns
that are already strings), so that table is unchanged.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enforcement_cases",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(60), nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_enforcement_cases_case", "enforcement_cases", ["case_id", "state"])
    op.create_table(
        "enforcement_actions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("enforcement_case_id", sa.String(36), nullable=False),
        sa.Column("step", sa.String(60), nullable=False),
        sa.Column("state", sa.String(60), nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index(
        "ix_enforcement_actions_case",
        "enforcement_actions",
        ["enforcement_case_id", "step", "state"],
    )


def downgrade() -> None:
    op.drop_table("enforcement_actions")
    op.drop_table("enforcement_cases")
