"""The collection reform's tables: what-ifs and migration runs (each its contract message as the document, with the
columns the runner claims on), each case's progress through a migration run (one row per case and run, so a case is
moved at most once and a run that stopped resumes from where each case had got to), and a partitioned what-if's
figures chunk by chunk."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Index, Integer, LargeBinary, String, Text
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


class ReformWhatIfPartRecord(Base):
    """A what-if run as a national run (CASEWORK_NATIONAL_RUNS_PARTITIONED): one chunk's figures, written in the
    transaction that marks the chunk done, so there is never a second row for a chunk; the what-if's results are
    these added up once every chunk is done."""

    __tablename__ = "reform_what_if_parts"

    what_if_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    chunk: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The chunk's cases (as issued), those the what-if could not calculate, and the first of their lines.
    cases: Mapped[int] = mapped_column(Integer)
    cases_failed: Mapped[int] = mapped_column(Integer)
    failures: Mapped[str] = mapped_column(Text)
    # The chunk's sums (rules.WhatIfPart as JSON).
    figures: Mapped[str] = mapped_column(Text)
    # Why calculation could not do the chunk at all (the what-if then fails with it, as a single run would).
    error: Mapped[str] = mapped_column(String(500))
    done_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
