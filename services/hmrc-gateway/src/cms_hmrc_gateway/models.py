"""hmrc-gateway tables: scenario overrides of simulated people, registered interests, the audit trail."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform.audit import AuditColumns
from cms_platform.db import Base, UtcDateTime


class SimulatedPersonRecord(Base):
    """A person as upserted or changed by a life event; it takes precedence over the generated person."""

    __tablename__ = "simulated_people"

    nino: Mapped[str] = mapped_column(String(9), primary_key=True)
    person: Mapped[bytes] = mapped_column(LargeBinary)  # cms.hmrc.v1.SimulatedPerson
    other_parent_nino: Mapped[str] = mapped_column(
        String(9), default=""
    )  # not in the contract's SimulatedPerson
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class InterestRecord(Base):
    __tablename__ = "interests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    interest_type: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[str] = mapped_column(String(100))
    nino: Mapped[str] = mapped_column(String(9))
    active: Mapped[bool] = mapped_column()
    interest: Mapped[bytes] = mapped_column(LargeBinary)  # cms.hmrc.v1.Interest as last returned
    # What the feed last reported, so it reports changes once (JSON; shape per interest type).
    feed_state: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_interests_nino_active", "nino", "active"),
        Index("ix_interests_case_id", "case_id"),
    )


class AuditRecord(AuditColumns, Base):
    """One enquiry: who asked, through which interface, on what legal basis, for which case, and the outcome."""

    __tablename__ = "audit_records"

    nino: Mapped[str] = mapped_column(String(9))

    __table_args__ = (Index("ix_audit_records_nino", "nino"),)
