"""cra-gateway's audit trail: every search and surveillance call, by the file's opaque reference (never the NINO),
with the caller, the interface of the CMS procedures it served, the legal basis with the stated purpose, the case and
the outcome."""

from __future__ import annotations

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from cms.cra.v1 import resources_pb2 as pb
from cms_platform import calls
from cms_platform.audit import AuditColumns, AuditTrail
from cms_platform.clock import Clock
from cms_platform.db import Base

from .legal_gateway import describe

# The interface each operation serves, named as the CMS procedures name it.
INTERFACES = {
    "TracePerson": "CRA Trace",
    "GetCreditScore": "CRA Credit Score",
    "GetFinancialDataAtArrears": "CRA Financial Data At Arrears",
    "GetFinancialDataEnforcement": "CRA Financial Data Enforcement",
    "StartCaseSurveillance": "CRA Case Surveillance",
    "RescheduleCaseSurveillanceReview": "CRA Case Surveillance",
    "StopCaseSurveillance": "CRA Case Surveillance",
    "GetCaseSurveillance": "CRA Case Surveillance",
}


class AuditRecord(AuditColumns, Base):
    """One search or surveillance call, by the file's opaque reference (never the NINO): caller, interface, legal
    basis with the purpose, case, outcome."""

    __tablename__ = "cra_audit_records"

    file_reference: Mapped[str] = mapped_column(String(40))

    __table_args__ = (Index("ix_cra_audit_records_file_reference", "file_reference"),)


class CraAuditTrail:
    def __init__(self, sessions: sessionmaker, clock: Clock):
        self._trail = AuditTrail(sessions, clock, AuditRecord, subject_column="file_reference")

    def record(self, *, file_reference: str, basis: pb.LegalBasis, outcome: str) -> None:
        """One call of the operation being served, under the request's legal basis (its case and purpose)."""
        self._trail.records(
            [(file_reference, basis.case_reference, "", outcome)],
            legal_basis=describe(basis.purpose),
            interface=INTERFACES.get(calls.operation()),
        )
