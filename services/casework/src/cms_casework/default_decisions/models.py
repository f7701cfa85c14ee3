"""The current income requests table: one per time the CMS asked a paying parent for current income on a case."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class CurrentIncomeRequestRecord(Base):
    """A request for the paying parent's current income, its time allowed, and what came of it (rules.State)."""

    __tablename__ = "current_income_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(40))
    requested_on: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    service_request: Mapped[str] = mapped_column(String(200))
    # The default maintenance decision made when the time ran out ("" before), and its effective date.
    default_calculation: Mapped[str] = mapped_column(String(200), default="")
    default_effective_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_current_income_requests_case", "case_id"),
        Index("ix_current_income_requests_due", "state", "due_date"),
    )
