"""The calculations table: each decision stored once, immutably, as the Calculation message it was returned as,
with the columns a case's decisions are found and ordered by."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class StoredCalculation(Base):
    """An immutable decision: the Calculation message as returned, plus columns to find it by."""

    __tablename__ = "calculations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_reference: Mapped[str] = mapped_column(String(100))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    rate: Mapped[str] = mapped_column(String(20))
    rule_set_version: Mapped[str] = mapped_column(String(20))
    # The full cms.calculation.v1.Calculation (inputs and steps included) for statements and reconsiderations.
    calculation: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_calculations_case_reference", "case_reference", "effective_date"),)
