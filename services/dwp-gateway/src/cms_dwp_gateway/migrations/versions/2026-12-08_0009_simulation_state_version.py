"""The simulated CIS's stored-state version, bumped by every write to the controls and the overlay, so each replica
keeps that state in memory and still sees another's change at once (cms_simulation.state).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from alembic import op

from cms_simulation.state import create_state_version_table, drop_state_version_table

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_state_version_table(op)


def downgrade() -> None:
    drop_state_version_table(op)
