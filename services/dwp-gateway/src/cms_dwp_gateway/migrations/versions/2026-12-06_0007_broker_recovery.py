"""What the outbox relay and the consumers remember about the broker, to notice and repair its losing data
(cms_platform.outbox, cms_platform.consumer).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from alembic import op

from cms_platform.migrations import add_broker_recovery, drop_broker_recovery

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_broker_recovery(op)


def downgrade() -> None:
    drop_broker_recovery(op)
