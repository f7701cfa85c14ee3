"""The interests table: each registered interest, the contract's Interest as last returned, and what its feed last
reported."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class InterestRecord(Base):
    __tablename__ = "interests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    interest_type: Mapped[str] = mapped_column(String(40))  # the contract's InterestType name
    case_id: Mapped[str] = mapped_column(String(100))
    nino: Mapped[str] = mapped_column(String(9))
    active: Mapped[bool] = mapped_column()
    interest: Mapped[bytes] = mapped_column(LargeBinary)  # cms.hmrc.v1.Interest as last returned
    # What the feed last reported, so it reports changes once (JSON; shape per interest type: interests/rules.py).
    feed_state: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_interests_nino_active", "nino", "active"),
        Index("ix_interests_case_id", "case_id"),
    )
