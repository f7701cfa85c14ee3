"""The correspondence table: each letter or call, its recipient, when it is due and what became of it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class CorrespondenceRecord(Base):
    __tablename__ = "correspondence"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(80))
    recipient: Mapped[str] = mapped_column(String(60))
    service_request: Mapped[str] = mapped_column(String(120), default="")
    due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_correspondence_case", "case_id", "created_at"),
        Index("ix_correspondence_due", "state", "due_at"),
    )
