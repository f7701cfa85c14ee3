"""The gateway's audit trail: every CIS/JCP enquiry with its caller, interface (the operation being served, from
cms_platform.calls), legal basis, case, service request and outcome, by the opaque CIS person id, never the NINO."""

from __future__ import annotations

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from cms.common.v1 import types_pb2 as common
from cms_platform.audit import AuditColumns, AuditTrail
from cms_platform.clock import Clock
from cms_platform.db import Base


class AuditRecord(AuditColumns, Base):
    """One CIS/JCP enquiry, by the opaque CIS person id (never the NINO): caller, interface, legal basis, case."""

    __tablename__ = "cis_audit_records"

    person_id: Mapped[str] = mapped_column(String(40))

    __table_args__ = (Index("ix_cis_audit_records_person_id", "person_id"),)


def trail(sessions: sessionmaker, clock: Clock) -> AuditTrail:
    """The CIS audit trail: the subject of each entry is the CIS person id."""
    return AuditTrail(sessions, clock, AuditRecord, subject_column="person_id")


def match_outcome(match: common.MatchResult) -> str:
    """How an identity check is audited: MATCHED, PARTIAL or NOT_FOUND."""
    return common.MatchOutcome.Name(match.outcome).removeprefix("MATCH_OUTCOME_")
