"""Clients, service requests, changes of circumstances, payment plans, correspondence, safeguards, third parties,
the case audit trail and scheduled-job runs; cases gain the columns routing and scheduling search on.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from cms_platform.db import BigId, UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _document_table(name: str, *columns: sa.schema.SchemaItem, created: bool = True) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.String(36), primary_key=True),
        *columns,
        sa.Column("document", sa.LargeBinary, nullable=False),
        *([sa.Column("created_at", UtcDateTime, nullable=False)] if created else []),
    )


def upgrade() -> None:
    with op.batch_alter_table("cases") as t:
        t.add_column(
            sa.Column("paying_parent_client_id", sa.String(36), nullable=False, server_default="")
        )
        t.add_column(
            sa.Column(
                "receiving_parent_client_id", sa.String(36), nullable=False, server_default=""
            )
        )
        t.add_column(sa.Column("workgroup", sa.String(100), nullable=False, server_default=""))
        t.add_column(sa.Column("owner", sa.String(100), nullable=False, server_default=""))
        t.add_column(
            sa.Column("personal_interest", sa.Boolean, nullable=False, server_default=sa.false())
        )
        t.add_column(sa.Column("annual_review_date", sa.Date, nullable=True))
        t.add_column(sa.Column("surveillance_review_date", sa.Date, nullable=True))
    op.create_index("ix_cases_paying_parent_client", "cases", ["paying_parent_client_id"])
    op.create_index("ix_cases_receiving_parent_client", "cases", ["receiving_parent_client_id"])
    op.create_index("ix_cases_annual_review", "cases", ["annual_review_date"])
    op.create_index("ix_cases_surveillance_review", "cases", ["surveillance_review_date"])

    _document_table(
        "clients",
        sa.Column("nino", sa.String(9), nullable=False, unique=True),
        sa.Column("potentially_violent_review_due", sa.Date, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_clients_pv_review_due", "clients", ["potentially_violent_review_due"])

    _document_table(
        "service_requests",
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("workgroup", sa.String(100), nullable=False),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("origin", sa.String(60), nullable=False),
        sa.Column("action_due_at", UtcDateTime, nullable=True),
        sa.Column("actioned", sa.Boolean, nullable=False),
        sa.Column("sla_breached", sa.Boolean, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_service_requests_case", "service_requests", ["case_id", "created_at"])
    op.create_index("ix_service_requests_queue", "service_requests", ["workgroup", "status"])
    op.create_index("ix_service_requests_sla", "service_requests", ["actioned", "action_due_at"])

    _document_table(
        "changes_of_circumstances",
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(40), nullable=False),
        sa.Column("type", sa.String(60), nullable=False),
        sa.Column("subject_client", sa.String(60), nullable=False),
        sa.Column("source_event_id", sa.String(100), nullable=True),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("case_id", "source_event_id", name="uq_changes_source_event"),
    )
    op.create_index("ix_changes_case_state", "changes_of_circumstances", ["case_id", "state"])
    op.create_index("ix_changes_subject", "changes_of_circumstances", ["subject_client", "type"])

    _document_table(
        "payment_plans",
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("issued_at", UtcDateTime, nullable=False),
        created=False,
    )
    op.create_index("ix_payment_plans_case", "payment_plans", ["case_id", "issued_at"])

    _document_table(
        "correspondence",
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("state", sa.String(40), nullable=False),
        sa.Column("recipient", sa.String(60), nullable=False),
        sa.Column("service_request", sa.String(120), nullable=False),
        sa.Column("due_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_correspondence_case", "correspondence", ["case_id", "created_at"])
    op.create_index("ix_correspondence_due", "correspondence", ["state", "due_at"])

    _document_table(
        "unacceptable_behaviour_records", sa.Column("client_id", sa.String(36), nullable=False)
    )
    op.create_index(
        "ix_unacceptable_behaviour_client",
        "unacceptable_behaviour_records",
        ["client_id", "created_at"],
    )

    _document_table(
        "third_parties",
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("organisation_name", sa.String(200), nullable=False),
        sa.Column("employer_paye_reference", sa.String(20), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_third_parties_name", "third_parties", ["organisation_name"])
    op.create_index("ix_third_parties_paye", "third_parties", ["employer_paye_reference"])

    op.create_table(
        "case_audit_entries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("caller_kind", sa.String(20), nullable=False),
        sa.Column("role", sa.String(60), nullable=False),
        sa.Column("method", sa.String(120), nullable=False),
        sa.Column("resource", sa.String(200), nullable=False),
        sa.Column("permitted", sa.Boolean, nullable=False),
    )
    op.create_index("ix_case_audit_entries_case", "case_audit_entries", ["case_id", "id"])

    op.create_table(
        "scheduled_job_runs",
        sa.Column("job", sa.String(60), nullable=False),
        sa.Column("as_of_date", sa.Date, nullable=False),
        sa.Column("result", sa.LargeBinary, nullable=False),
        sa.Column("run_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("job", "as_of_date", name="pk_scheduled_job_runs"),
    )


def downgrade() -> None:
    for table in (
        "scheduled_job_runs",
        "case_audit_entries",
        "third_parties",
        "unacceptable_behaviour_records",
        "correspondence",
        "payment_plans",
        "changes_of_circumstances",
        "service_requests",
        "clients",
    ):
        op.drop_table(table)
    for index in (
        "ix_cases_paying_parent_client",
        "ix_cases_receiving_parent_client",
        "ix_cases_annual_review",
        "ix_cases_surveillance_review",
    ):
        op.drop_index(index, table_name="cases")
    with op.batch_alter_table("cases") as t:
        for column in (
            "paying_parent_client_id",
            "receiving_parent_client_id",
            "workgroup",
            "owner",
            "personal_interest",
            "annual_review_date",
            "surveillance_review_date",
        ):
            t.drop_column(column)
