"""A national run's tables: the run (its job, date and how many chunks it was split into) and one done-marker per
chunk, written in the transaction that records the chunk's event as processed, so a redelivered chunk is skipped."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class NationalRunRecord(Base):
    """A run issued as chunks: its cases were written to the work topic in the transaction that added this row."""

    __tablename__ = "national_runs"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    as_of_date: Mapped[dt.date] = mapped_column(Date)
    chunk_count: Mapped[int] = mapped_column(Integer)
    items_due: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # Carried by each chunk, so a chunk of a run of the same id issued elsewhere is told apart.
    issue_id: Mapped[str] = mapped_column(String(36))
    # Set by the transaction that marks the last chunk done.
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)


class NationalRunChunkRecord(Base):
    """A chunk done, with what its cases came to; there is never a second row for a chunk."""

    __tablename__ = "national_run_chunks"

    run_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    chunk: Mapped[int] = mapped_column(Integer, primary_key=True)
    items_due: Mapped[int] = mapped_column(Integer)
    items_processed: Mapped[int] = mapped_column(Integer)
    items_failed: Mapped[int] = mapped_column(Integer)
    # The failures' lines (ScheduledJobResult.failures), one a line.
    failures: Mapped[str] = mapped_column(Text)
    done_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
