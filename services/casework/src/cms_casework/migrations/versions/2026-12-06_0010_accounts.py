"""The Collect & Pay account (cms_casework.accounts): accounts, charge schedules, the append-only ledger, receipts,
suspense items and payments out.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import BigId, UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False, unique=True),
        sa.Column("paying_parent_client_id", sa.String(36), nullable=False),
        sa.Column("receiving_parent_client_id", sa.String(36), nullable=False),
        sa.Column("service_type", sa.String(80), nullable=False),
        sa.Column("state", sa.String(80), nullable=False),
        sa.Column("case_closed_on", sa.Date, nullable=True),
        sa.Column("opened_at", UtcDateTime, nullable=False),
        sa.Column("closed_at", UtcDateTime, nullable=True),
    )
    op.create_index("ix_accounts_paying_parent", "accounts", ["paying_parent_client_id"])
    op.create_index("ix_accounts_receiving_parent", "accounts", ["receiving_parent_client_id"])
    op.create_table(
        "account_schedule",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("payment_plan", sa.String(200), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("covers_start", sa.Date, nullable=False),
        sa.Column("covers_end", sa.Date, nullable=False),
        sa.Column("maintenance_pence", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.UniqueConstraint(
            "account_id", "payment_plan", "due_date", name="uq_account_schedule_row"
        ),
    )
    op.create_index("ix_account_schedule_due", "account_schedule", ["state", "due_date"])
    op.create_index("ix_account_schedule_account", "account_schedule", ["account_id", "due_date"])
    op.create_table(
        "account_entries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("amount_pence", sa.BigInteger, nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("posted_on", sa.Date, nullable=False),
        sa.Column("posted_at", UtcDateTime, nullable=False),
        sa.Column("cause", sa.String(200), nullable=False),
        sa.Column("allocation_target", sa.String(60), nullable=False),
        sa.Column("covers", sa.BigInteger, nullable=True),
        sa.Column("covers_due", sa.Date, nullable=True),
        sa.Column("covers_kind", sa.String(60), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("adjustment_kind", sa.String(60), nullable=False),
        sa.Column("receipt_id", sa.String(36), nullable=False),
        sa.Column("receiving_parent_fee_pence", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("account_id", "key", name="uq_account_entries_key"),
    )
    op.create_index(
        "ix_account_entries_account", "account_entries", ["account_id", "effective_date", "id"]
    )
    op.create_table(
        "account_receipts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("external_reference", sa.String(200), nullable=False, unique=True),
        sa.Column("method", sa.String(60), nullable=False),
        sa.Column("amount_pence", sa.BigInteger, nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("recorded_at", UtcDateTime, nullable=False),
        sa.Column("earnings_deduction", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "account_suspense_items",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("payment_reference", sa.String(200), nullable=False),
        sa.Column("external_reference", sa.String(200), nullable=False, unique=True),
        sa.Column("method", sa.String(60), nullable=False),
        sa.Column("amount_pence", sa.BigInteger, nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("state", sa.String(60), nullable=False),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("receipt_id", sa.String(36), nullable=False),
        sa.Column("earnings_deduction", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_account_suspense_state", "account_suspense_items", ["state", "created_at"])
    op.create_table(
        "account_payments_out",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("receiving_parent_client_id", sa.String(36), nullable=False),
        sa.Column("paid_on", sa.Date, nullable=False),
        sa.Column("amount_pence", sa.BigInteger, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint(
            "receiving_parent_client_id", "paid_on", name="uq_account_payment_per_day"
        ),
    )


def downgrade() -> None:
    op.drop_table("account_payments_out")
    op.drop_index("ix_account_suspense_state", table_name="account_suspense_items")
    op.drop_table("account_suspense_items")
    op.drop_table("account_receipts")
    op.drop_index("ix_account_entries_account", table_name="account_entries")
    op.drop_table("account_entries")
    op.drop_index("ix_account_schedule_account", table_name="account_schedule")
    op.drop_index("ix_account_schedule_due", table_name="account_schedule")
    op.drop_table("account_schedule")
    op.drop_index("ix_accounts_receiving_parent", table_name="accounts")
    op.drop_index("ix_accounts_paying_parent", table_name="accounts")
    op.drop_table("accounts")
