"""The disputes tables: mandatory reconsiderations (one per decision: the unique constraint is the rule, so two
requests racing for the same decision cannot both be recorded) and revisions made on the CMS's own initiative."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class ReconsiderationRecord(Base):
    __tablename__ = "mandatory_reconsiderations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    decision: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(60))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("case_id", "decision", name="uq_reconsiderations_decision"),
        Index("ix_reconsiderations_case", "case_id", "created_at"),
    )


class RevisionRecord(Base):
    __tablename__ = "decision_revisions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    decision: Mapped[str] = mapped_column(String(120))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_revisions_case", "case_id", "created_at"),)
