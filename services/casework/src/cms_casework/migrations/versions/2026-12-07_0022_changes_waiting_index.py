"""The feed pass looks for verified changes raised from feeds across every case on each pass (changes.service
feed_work); an index on the state and creation time finds the few waiting among a national table of changes, most
long applied, in the order the pass takes them.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_changes_state_created", "changes_of_circumstances", ["state", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_changes_state_created", table_name="changes_of_circumstances")
