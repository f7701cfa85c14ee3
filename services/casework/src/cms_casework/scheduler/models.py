"""The scheduled work's table: which job was done for which business date."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class ScheduledJobRun(Base):
    """A scheduled job done for a business date: re-running the date does nothing more."""

    __tablename__ = "scheduled_job_runs"

    job: Mapped[str] = mapped_column(String(60), primary_key=True)
    as_of_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    result: Mapped[bytes] = mapped_column(LargeBinary)  # cms.casework.v1.ScheduledJobResult
    run_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
