"""The arrears tables: agreements, Direct Pay missed payment reports, overpayment decisions, suspensions, and what the
arrears check last found on each case with the missed payments it recorded (append-only, one per case and cut-off
date, so a date checked again finds nothing new)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class ArrearsAgreementRecord(Base):
    __tablename__ = "arrears_agreements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(60))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_arrears_agreements_case", "case_id", "created_at"),
        Index("ix_arrears_agreements_state", "state"),
    )


class MissedPaymentReportRecord(Base):
    __tablename__ = "missed_payment_reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(60))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_missed_payment_reports_case", "case_id", "created_at"),)


class OverpaymentDecisionRecord(Base):
    __tablename__ = "overpayment_decisions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_overpayment_decisions_case", "case_id", "created_at"),)


class ArrearsSuspensionRecord(Base):
    __tablename__ = "arrears_suspensions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(60))
    review_date: Mapped[dt.date] = mapped_column(Date)
    review_raised: Mapped[bool] = mapped_column(Boolean)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_arrears_suspensions_case", "case_id", "state"),
        Index("ix_arrears_suspensions_review", "state", "review_date"),
    )


class ArrearsPositionRecord(Base):
    """What the arrears check last found on a case: overdue, and in credit."""

    __tablename__ = "arrears_positions"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    overdue_pence: Mapped[int] = mapped_column(BigInteger)
    # The credit the account held: a rise raises an "Overpayment Decision" service request.
    credit_pence: Mapped[int] = mapped_column(BigInteger)
    # That service request while no decision has taken it up ("" when none).
    overpayment_service_request: Mapped[str] = mapped_column(String(120))
    checked_on: Mapped[dt.date] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class MissedPaymentRecord(Base):
    """A missed Collect & Pay payment the arrears check found (append-only)."""

    __tablename__ = "missed_payments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    due_on_or_before: Mapped[dt.date] = mapped_column(Date)
    missed_pence: Mapped[int] = mapped_column(BigInteger)
    arrears_pence: Mapped[int] = mapped_column(BigInteger)
    service_request: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("case_id", "due_on_or_before", name="uq_missed_payments_cutoff"),
    )


class WriteOffDecisionRecord(Base):
    """A decision to write off a case's arrears (append-only)."""

    __tablename__ = "write_off_decisions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_write_off_decisions_case", "case_id", "created_at"),)


class EstateClaimRecord(Base):
    """A claim against a deceased paying parent's estate: one per case (the death closes it)."""

    __tablename__ = "estate_claims"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(60))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("case_id", name="uq_estate_claims_case"),)
