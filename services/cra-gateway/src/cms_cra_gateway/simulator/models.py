"""The simulated agency's tables: the scenario changes made to generated files, and the search footprints its
searches leave."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, BigId, UtcDateTime


class CreditFileChangeRecord(Base):
    """One scenario change to a person's simulated file, replayed in id order over the generated file."""

    __tablename__ = "credit_file_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    nino: Mapped[str] = mapped_column(String(9))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    change: Mapped[bytes] = mapped_column(LargeBinary)  # cms.cra.v1.ApplyCreditFileChangeRequest
    created_id: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_credit_file_changes_nino", "nino", "id"),)


class SearchFootprintRecord(Base):
    """A search recorded on the simulated file, as the person would see it (every CMS search is soft)."""

    __tablename__ = "search_footprints"

    # Newest first by id, even within a clock tick.
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    search_reference: Mapped[str] = mapped_column(String(40), unique=True)
    nino: Mapped[str] = mapped_column(String(9))
    footprint_type: Mapped[str] = mapped_column(String(10))
    searcher_name: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(40))
    search_time: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_search_footprints_nino", "nino", "id"),)
