"""The case audit trail's table: who read or changed a case, and whether they were allowed to."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, BigId, UtcDateTime


class CaseAuditRecord(Base):
    """Who read or changed a case, and whether they were allowed to (cms.casework.v1.AuditEntry)."""

    __tablename__ = "case_audit_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(36))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    principal: Mapped[str] = mapped_column(String(200))
    caller_kind: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(60))
    method: Mapped[str] = mapped_column(String(120))
    resource: Mapped[str] = mapped_column(String(200))
    permitted: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index("ix_case_audit_entries_case", "case_id", "id"),)
