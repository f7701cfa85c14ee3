"""The business interests table: one row per interest a case registered on a person, with the interest as it was
last returned (cms.dwp.v1.BusinessInterest)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class InterestRecord(Base):
    __tablename__ = "business_interests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nino: Mapped[str] = mapped_column(String(9))
    case_id: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column()
    # cms.dwp.v1.BusinessInterest as last returned
    interest: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_business_interests_nino_active", "nino", "active"),
        Index("ix_business_interests_case_id", "case_id"),
    )
