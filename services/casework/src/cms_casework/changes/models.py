"""The changes of circumstances table."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class ChangeRecord(Base):
    """A change of circumstances; `source_event_id` makes a change raised from a feed event unique per case."""

    __tablename__ = "changes_of_circumstances"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(80))
    type: Mapped[str] = mapped_column(String(80))
    subject_client: Mapped[str] = mapped_column(String(60), default="")
    source_event_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The W3C trace context of the event or job that raised it: the feed pass that applies it later continues
    # that trace (cms_platform.telemetry.continued).
    trace_context: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_changes_case_state", "case_id", "state"),
        Index("ix_changes_subject", "subject_client", "type"),
        # The feed pass's search for verified changes waiting on any case (changes.service.feed_work).
        Index("ix_changes_state_created", "state", "created_at"),
        UniqueConstraint("case_id", "source_event_id", name="uq_changes_source_event"),
    )
