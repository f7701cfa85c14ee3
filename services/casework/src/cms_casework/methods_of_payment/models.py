"""The methods of payment tables: each case's current method, its deduction orders with their pay days (append-only)
and late-remittance months, and its deductions from benefit with the instructions still to send to dwp-gateway."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class MethodOfPaymentRecord(Base):
    __tablename__ = "mop_methods"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    method: Mapped[str] = mapped_column(String(80))
    arrangement: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(40))
    defaulted: Mapped[bool] = mapped_column(Boolean)
    effective_date: Mapped[dt.date] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class DeductionOrderRecord(Base):
    __tablename__ = "mop_deduction_orders"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(80))
    issue_date: Mapped[dt.date] = mapped_column(Date)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_mop_deduction_orders_case", "case_id", "state"),)


class DeductionPayDayRecord(Base):
    """One pay day's deduction as the employer remitted it: written once, never changed."""

    __tablename__ = "mop_deduction_pay_days"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(36))
    pay_date: Mapped[dt.date] = mapped_column(Date)
    # The first day of the pay day's month (the late-remittance check's unit).
    month: Mapped[dt.date] = mapped_column(Date)
    # The order's pay days recorded before this one: the last recorded carries the order's shortfall.
    sequence: Mapped[int] = mapped_column(Integer)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("order_id", "pay_date", name="uq_mop_pay_days_order_date"),)


class LateRemittanceRecord(Base):
    """A month an order's remittance came late: one service request and one event each."""

    __tablename__ = "mop_late_remittances"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(36))
    month: Mapped[dt.date] = mapped_column(Date)
    service_request: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("order_id", "month", name="uq_mop_late_order_month"),)


class BenefitDeductionRecord(Base):
    __tablename__ = "mop_benefit_deductions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    # dwp-gateway's id, once the set-up was sent (or the automated route started it).
    deduction_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(80))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_mop_benefit_deductions_case", "case_id", "state"),
        Index("ix_mop_benefit_deductions_deduction", "deduction_id"),
    )


class BenefitInstructionRecord(Base):
    """An instruction to dwp-gateway, recorded in the transaction that decided it and sent afterwards (never from
    inside a transaction), with a request id derived from its own id, until it is done."""

    __tablename__ = "mop_benefit_instructions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    benefit_deduction_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(40))
    # PENDING, SENT or REFUSED.
    state: Mapped[str] = mapped_column(String(20))
    # The dwp-gateway request, serialised (its request id set).
    request: Mapped[bytes] = mapped_column(LargeBinary)
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_mop_benefit_instructions_state", "state", "created_at"),)
