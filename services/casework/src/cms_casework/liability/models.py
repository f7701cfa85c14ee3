"""The liability segments table: every segment of every case's timeline, in force or superseded (never deleted)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class LiabilitySegmentRecord(Base):
    __tablename__ = "liability_segments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(80))
    start_date: Mapped[dt.date] = mapped_column(Date)
    # The rebuild that made it (segments made together share it).
    rebuild: Mapped[str] = mapped_column(String(36))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_liability_segments_case", "case_id", "state", "start_date"),)
