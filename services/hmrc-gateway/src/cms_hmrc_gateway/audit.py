"""hmrc-gateway's audit trail (cms_platform.audit): every HMRC enquiry with its caller, interface (the operation
being served), legal basis, case, service request and match outcome, the person recorded by normalised NINO
(docs/domain/external-systems.md §1.8)."""

from __future__ import annotations

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from cms_platform.audit import AuditColumns, AuditTrail
from cms_platform.clock import Clock
from cms_platform.db import Base
from cms_platform.identifiers import normalise_nino


class AuditRecord(AuditColumns, Base):
    """One enquiry: who asked, through which interface, on what legal basis, for which case, and the outcome."""

    __tablename__ = "audit_records"

    nino: Mapped[str] = mapped_column(String(9))

    __table_args__ = (Index("ix_audit_records_nino", "nino"),)


def audit_trail(sessions: sessionmaker, clock: Clock) -> AuditTrail:
    return AuditTrail(
        sessions,
        clock,
        AuditRecord,
        subject_column="nino",
        subject=lambda nino: normalise_nino(nino)[:9],
    )
