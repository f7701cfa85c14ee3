"""casework tables. Each aggregate is stored as its contract message (the document) plus the columns the service
searches, locks and schedules on; the document is what callers get back. Enum columns hold full value names."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, BigId, UtcDateTime


class CaseRecord(Base):
    """A case (cms.casework.v1.Case without its clients' details, which live on the clients)."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    state: Mapped[str] = mapped_column(String(80))
    paying_parent_nino: Mapped[str] = mapped_column(String(9))
    paying_parent_client_id: Mapped[str] = mapped_column(String(36), default="")
    receiving_parent_client_id: Mapped[str] = mapped_column(String(36), default="")
    workgroup: Mapped[str] = mapped_column(String(100), default="")
    owner: Mapped[str] = mapped_column(String(100), default="")
    personal_interest: Mapped[bool] = mapped_column(Boolean, default=False)
    annual_review_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    surveillance_review_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    # Optimistic locking: a concurrent update of the same case fails instead of losing a write.
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_cases_paying_parent_nino", "paying_parent_nino"),
        Index("ix_cases_paying_parent_client", "paying_parent_client_id"),
        Index("ix_cases_receiving_parent_client", "receiving_parent_client_id"),
        Index("ix_cases_annual_review", "annual_review_date"),
        Index("ix_cases_surveillance_review", "surveillance_review_date"),
    )


class ClientRecord(Base):
    """A person on one or more cases, found by NINO (cms.casework.v1.Client)."""

    __tablename__ = "clients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nino: Mapped[str] = mapped_column(String(9), unique=True)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    potentially_violent_review_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_clients_pv_review_due", "potentially_violent_review_due"),)


class ServiceRequestRecord(Base):
    __tablename__ = "service_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(80))
    workgroup: Mapped[str] = mapped_column(String(100), default="")
    owner: Mapped[str] = mapped_column(String(100), default="")
    origin: Mapped[str] = mapped_column(String(80))
    # Self-service SRs must be actioned within 24 hours: when, and whether that was missed.
    action_due_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    actioned: Mapped[bool] = mapped_column(Boolean, default=False)
    sla_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_service_requests_case", "case_id", "created_at"),
        Index("ix_service_requests_queue", "workgroup", "status"),
        Index("ix_service_requests_sla", "actioned", "action_due_at"),
    )


class ChangeRecord(Base):
    """A change of circumstances; `source_event_id` makes a change raised from a feed event unique per case."""

    __tablename__ = "changes_of_circumstances"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(80))
    type: Mapped[str] = mapped_column(String(80))
    subject_client: Mapped[str] = mapped_column(String(60), default="")
    source_event_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_changes_case_state", "case_id", "state"),
        Index("ix_changes_subject", "subject_client", "type"),
        UniqueConstraint("case_id", "source_event_id", name="uq_changes_source_event"),
    )


class PaymentPlanRecord(Base):
    __tablename__ = "payment_plans"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(80))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_payment_plans_case", "case_id", "issued_at"),)


class CorrespondenceRecord(Base):
    __tablename__ = "correspondence"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(80))
    recipient: Mapped[str] = mapped_column(String(60))
    service_request: Mapped[str] = mapped_column(String(120), default="")
    due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_correspondence_case", "case_id", "created_at"),
        Index("ix_correspondence_due", "state", "due_at"),
    )


class UnacceptableBehaviourRecordRow(Base):
    __tablename__ = "unacceptable_behaviour_records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_unacceptable_behaviour_client", "client_id", "created_at"),)


class ThirdPartyRecord(Base):
    __tablename__ = "third_parties"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(80))
    organisation_name: Mapped[str] = mapped_column(String(200))
    employer_paye_reference: Mapped[str] = mapped_column(String(20), default="")
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_third_parties_name", "organisation_name"),
        Index("ix_third_parties_paye", "employer_paye_reference"),
    )


class CaseAuditRecord(Base):
    """Who read or changed a case, and whether they were allowed to (cms.casework.v1.AuditEntry)."""

    __tablename__ = "case_audit_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(36))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    principal: Mapped[str] = mapped_column(String(200))
    caller_kind: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(60))
    method: Mapped[str] = mapped_column(String(120))
    resource: Mapped[str] = mapped_column(String(200))
    permitted: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index("ix_case_audit_entries_case", "case_id", "id"),)


class ScheduledJobRun(Base):
    """A scheduled job done for a business date: re-running the date does nothing more."""

    __tablename__ = "scheduled_job_runs"

    job: Mapped[str] = mapped_column(String(60), primary_key=True)
    as_of_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    result: Mapped[bytes] = mapped_column(LargeBinary)  # cms.casework.v1.ScheduledJobResult
    run_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
