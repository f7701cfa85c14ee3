"""The variation applications table."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class VariationRecord(Base):
    """A variation application (its document is a cms.casework.v1.Variation)."""

    __tablename__ = "variations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(60))
    ground: Mapped[str] = mapped_column(String(80))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_variations_case", "case_id", "created_at"),)
