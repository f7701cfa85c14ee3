"""The service requests table."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.db import Base, UtcDateTime


class ServiceRequestRecord(Base):
    __tablename__ = "service_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(80))
    workgroup: Mapped[str] = mapped_column(String(100), default="")
    owner: Mapped[str] = mapped_column(String(100), default="")
    origin: Mapped[str] = mapped_column(String(80))
    # Self-service SRs must be actioned within 24 hours: when, and whether that was missed.
    action_due_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    actioned: Mapped[bool] = mapped_column(Boolean, default=False)
    sla_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_service_requests_case", "case_id", "created_at"),
        Index("ix_service_requests_queue", "workgroup", "status"),
        Index("ix_service_requests_sla", "actioned", "action_due_at"),
    )
