"""The enforcement tables: enforcement cases (one open per case) and the actions taken on them, each a document with
the columns the context queries by."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class EnforcementCaseRecord(Base):
    __tablename__ = "enforcement_cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(60))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_enforcement_cases_case", "case_id", "state"),)


class EnforcementActionRecord(Base):
    __tablename__ = "enforcement_actions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    enforcement_case_id: Mapped[str] = mapped_column(String(36))
    step: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(60))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_enforcement_actions_case", "enforcement_case_id", "step", "state"),)
