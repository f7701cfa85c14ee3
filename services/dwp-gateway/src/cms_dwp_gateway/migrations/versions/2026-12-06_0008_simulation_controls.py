"""The scenario admin's run-time controls: upserted CIS people, outage windows and the simulation settings.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import UtcDateTime
from cms_simulation.controls import create_control_tables, drop_control_tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cis_people",
        sa.Column("nino", sa.String(9), primary_key=True),
        sa.Column("record", sa.LargeBinary, nullable=False),
        sa.Column("scenario", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    create_control_tables(op)


def downgrade() -> None:
    drop_control_tables(op)
    op.drop_table("cis_people")
