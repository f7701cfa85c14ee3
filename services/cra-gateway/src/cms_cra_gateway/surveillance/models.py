"""The case surveillance tables: each surveillance with what the file held when it was last checked, and its alerts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class SurveillanceRecord(Base):
    """A case surveillance: its current state as returned to callers, plus what the file held when last checked."""

    __tablename__ = "case_surveillances"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_reference: Mapped[str] = mapped_column(String(100))
    nino: Mapped[str] = mapped_column(String(9))
    state: Mapped[str] = mapped_column(String(20))  # rules.ACTIVE, REVIEW_DUE or STOPPED
    review_date: Mapped[dt.date] = mapped_column(Date)
    surveillance: Mapped[bytes] = mapped_column(LargeBinary)  # cms.cra.v1.CaseSurveillance
    # JSON (rules.Memory): the entries already seen on the file (so each new one alerts once) and each account's
    # turnover baseline.
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
