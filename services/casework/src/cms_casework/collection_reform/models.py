"""The collection reform's tables: what-ifs and migration runs (each its contract message as the document, with the
columns the runner claims on), and each case's progress through a migration run (one row per case and run, so a
case is moved at most once and a run that stopped resumes from where each case had got to)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class ReformWhatIfRecord(Base):
    __tablename__ = "reform_what_ifs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    state: Mapped[str] = mapped_column(String(60))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    # The process running it holds it until then; a process that stopped lets it go to the next.
    lease_until: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_reform_what_ifs_state", "state"),)


class DirectPayMigrationRecord(Base):
    __tablename__ = "direct_pay_migrations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    state: Mapped[str] = mapped_column(String(60))
    start_date: Mapped[dt.date] = mapped_column(Date)
    dry_run: Mapped[bool] = mapped_column(Boolean)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    lease_until: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_direct_pay_migrations_state", "state", "dry_run"),)


class DirectPayMigrationCaseRecord(Base):
    """Where one case is in a (real) migration run: REPORTED (its change of service type raised), then MOVED
    (applied, notices and the method of payment set-up done, the event written), or FAILED (left on Direct Pay)."""

    __tablename__ = "direct_pay_migration_cases"

    migration_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    step: Mapped[str] = mapped_column(String(20))
    change_of_circumstances: Mapped[str] = mapped_column(String(200))
    failure: Mapped[str] = mapped_column(String(300))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_direct_pay_migration_cases_case", "case_id"),)
