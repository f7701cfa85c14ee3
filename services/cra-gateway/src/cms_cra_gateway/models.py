"""cra-gateway tables: the simulated agency's scenario changes and search footprints, the case surveillances and
their alerts, and the audit trail of every search."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.audit import AuditColumns
from cms_platform.db import Base, BigId, UtcDateTime


class CreditFileChangeRecord(Base):
    """One scenario change to a person's simulated file, replayed in id order over the generated file."""

    __tablename__ = "credit_file_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    nino: Mapped[str] = mapped_column(String(9))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    change: Mapped[bytes] = mapped_column(LargeBinary)  # cms.cra.v1.ApplyCreditFileChangeRequest
    created_id: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_credit_file_changes_nino", "nino", "id"),)


class SearchFootprintRecord(Base):
    """A search recorded on the simulated file, as the person would see it (every CMS search is soft)."""

    __tablename__ = "search_footprints"

    id: Mapped[int] = mapped_column(
        BigId, primary_key=True, autoincrement=True
    )  # newest first, even within a tick
    search_reference: Mapped[str] = mapped_column(String(40), unique=True)
    nino: Mapped[str] = mapped_column(String(9))
    footprint_type: Mapped[str] = mapped_column(String(10))
    searcher_name: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(40))
    search_time: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_search_footprints_nino", "nino", "id"),)


class SurveillanceRecord(Base):
    """A case surveillance: its current state as returned to callers, plus what the file held when last checked."""

    __tablename__ = "case_surveillances"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_reference: Mapped[str] = mapped_column(String(100))
    nino: Mapped[str] = mapped_column(String(9))
    state: Mapped[str] = mapped_column(String(20))
    review_date: Mapped[dt.date] = mapped_column(Date)
    surveillance: Mapped[bytes] = mapped_column(LargeBinary)  # cms.cra.v1.CaseSurveillance
    # JSON: the entries already seen on the file (so each new one alerts once) and each account's turnover baseline.
    seen: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_case_surveillances_case", "case_reference", "created_at"),
        Index("ix_case_surveillances_nino_state", "nino", "state"),
        Index("ix_case_surveillances_state", "state", "id"),
    )


class SurveillanceAlertRecord(Base):
    __tablename__ = "surveillance_alerts"

    alert_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    surveillance_id: Mapped[str] = mapped_column(String(36))
    detect_time: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    alert: Mapped[bytes] = mapped_column(LargeBinary)  # cms.cra.v1.SurveillanceAlert

    __table_args__ = (
        Index("ix_surveillance_alerts_surveillance", "surveillance_id", "detect_time"),
    )


class AuditRecord(AuditColumns, Base):
    """One search or surveillance call, by the file's opaque reference (never the NINO): caller, interface, legal
    basis with the purpose, case, outcome."""

    __tablename__ = "cra_audit_records"

    file_reference: Mapped[str] = mapped_column(String(40))

    __table_args__ = (Index("ix_cra_audit_records_file_reference", "file_reference"),)
