"""Scenario benefit awards and business interests.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "benefit_awards",
        sa.Column("award_id", sa.String(40), primary_key=True),
        sa.Column("claimant_nino", sa.String(9), nullable=False),
        sa.Column("partner_nino", sa.String(9), nullable=False, server_default=""),
        sa.Column("award", sa.Text, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_benefit_awards_claimant", "benefit_awards", ["claimant_nino"])
    op.create_index("ix_benefit_awards_partner", "benefit_awards", ["partner_nino"])
    op.create_table(
        "business_interests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("nino", sa.String(9), nullable=False),
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("interest", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_business_interests_nino_active", "business_interests", ["nino", "active"])
    op.create_index("ix_business_interests_case_id", "business_interests", ["case_id"])


def downgrade() -> None:
    op.drop_table("business_interests")
    op.drop_table("benefit_awards")
