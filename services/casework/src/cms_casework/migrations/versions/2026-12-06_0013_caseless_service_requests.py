"""Case-less service requests: a suspense item names the service request (`serviceRequests/{id}`, on no case) that
queues it for a caseworker. A case-less SR keeps `service_requests.case_id` empty, so that table is unchanged.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "account_suspense_items",
        sa.Column("service_request", sa.String(200), nullable=False, server_default=""),
    )


def downgrade() -> None:
    with op.batch_alter_table("account_suspense_items") as batch:
        batch.drop_column("service_request")
