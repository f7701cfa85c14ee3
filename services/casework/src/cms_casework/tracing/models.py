"""The tracing tables: traces, financial data assessments (with the agency's answer as obtained), and the append-only
record of every request for information with its legal basis."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class TraceRecord(Base):
    __tablename__ = "traces"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    client_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(60))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_traces_case", "case_id", "created_at"),
        Index("ix_traces_client_state", "client_id", "state"),
    )


class FinancialDataAssessmentRecord(Base):
    __tablename__ = "financial_data_assessments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    # The agency's response as obtained (it holds bank details: never logged or returned as is).
    obtained: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_financial_data_assessments_case", "case_id", "created_at"),)


class InformationRequestRecord(Base):
    """One request for information made to another body (append-only)."""

    __tablename__ = "information_requests"

    # The order the requests were made in (several are made within one clock tick).
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    case_id: Mapped[str] = mapped_column(String(36))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_information_requests_case", "case_id", "created_at"),)
