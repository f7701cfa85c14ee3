"""The payment plans table: each plan issued for a case, current or superseded."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class PaymentPlanRecord(Base):
    __tablename__ = "payment_plans"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(80))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_payment_plans_case", "case_id", "issued_at"),)
