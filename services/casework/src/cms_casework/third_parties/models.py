"""The third parties' table."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class ThirdPartyRecord(Base):
    __tablename__ = "third_parties"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(80))
    organisation_name: Mapped[str] = mapped_column(String(200))
    employer_paye_reference: Mapped[str] = mapped_column(String(20), default="")
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_third_parties_name", "organisation_name"),
        Index("ix_third_parties_paye", "employer_paye_reference"),
    )
