"""Methods of payment: each case's current method, deduction orders with their pay days and late-remittance months,
deductions from benefit and the instructions to send to dwp-gateway (cms_casework.methods_of_payment).

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mop_methods",
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("method", sa.String(80), nullable=False),
        sa.Column("arrangement", sa.String(200), nullable=False),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("defaulted", sa.Boolean, nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "mop_deduction_orders",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(80), nullable=False),
        sa.Column("issue_date", sa.Date, nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_mop_deduction_orders_case", "mop_deduction_orders", ["case_id", "state"])
    op.create_table(
        "mop_deduction_pay_days",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("pay_date", sa.Date, nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("order_id", "pay_date", name="uq_mop_pay_days_order_date"),
    )
    op.create_table(
        "mop_late_remittances",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("service_request", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("order_id", "month", name="uq_mop_late_order_month"),
    )
    op.create_table(
        "mop_benefit_deductions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("deduction_id", sa.String(64), nullable=True),
        sa.Column("state", sa.String(80), nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index(
        "ix_mop_benefit_deductions_case", "mop_benefit_deductions", ["case_id", "state"]
    )
    op.create_index(
        "ix_mop_benefit_deductions_deduction", "mop_benefit_deductions", ["deduction_id"]
    )
    op.create_table(
        "mop_benefit_instructions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("benefit_deduction_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("request", sa.LargeBinary, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("sent_at", UtcDateTime, nullable=True),
    )
    op.create_index(
        "ix_mop_benefit_instructions_state", "mop_benefit_instructions", ["state", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_mop_benefit_instructions_state", table_name="mop_benefit_instructions")
    op.drop_table("mop_benefit_instructions")
    op.drop_index("ix_mop_benefit_deductions_deduction", table_name="mop_benefit_deductions")
    op.drop_index("ix_mop_benefit_deductions_case", table_name="mop_benefit_deductions")
    op.drop_table("mop_benefit_deductions")
    op.drop_table("mop_late_remittances")
    op.drop_table("mop_deduction_pay_days")
    op.drop_index("ix_mop_deduction_orders_case", table_name="mop_deduction_orders")
    op.drop_table("mop_deduction_orders")
    op.drop_table("mop_methods")
