"""Stored idempotent answers belong to the caller who made the request (cms_platform.idempotency).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from alembic import op

from cms_platform.migrations import add_idempotency_caller, drop_idempotency_caller

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_idempotency_caller(op)


def downgrade() -> None:
    drop_idempotency_caller(op)
