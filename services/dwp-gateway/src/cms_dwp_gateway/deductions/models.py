"""The deductions tables: each deduction with its instructions and decisions (cms.dwp.v1.Deduction as stored), and
the calculation notices casework's CaseCalculated events leave for JCP's automated route."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class DeductionRecord(Base):
    __tablename__ = "deductions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(100))
    paying_parent_nino: Mapped[str] = mapped_column(String(9))
    state: Mapped[str] = mapped_column(String(60))
    route: Mapped[str] = mapped_column(String(60))
    # cms.dwp.v1.Deduction with its instructions and decisions
    deduction: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_deductions_case_id", "case_id", "state"),
        Index("ix_deductions_paying_parent", "paying_parent_nino"),
    )


class CaseCalculationNotice(Base):
    """The latest calculation casework told the gateway about for a case, and how many distinct notices came."""

    __tablename__ = "case_calculation_notices"

    case_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    calculation: Mapped[str] = mapped_column(String(100))
    rate: Mapped[str] = mapped_column(String(20))
    weekly_amount_pence: Mapped[int] = mapped_column(BigInteger)
    # Incremented per event applied: a redelivered event that got through twice would show here.
    notices_received: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
