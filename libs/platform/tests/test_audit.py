"""The gateways' audit trail (cms_platform.audit): the interface comes from the call being served."""

from __future__ import annotations

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from cms_platform import calls
from cms_platform.audit import AuditColumns, AuditTrail
from cms_platform.db import Base, make_engine, make_sessionmaker
from cms_platform.identity import bind_caller, reset_caller, staff_caller


class _TestAuditRecord(AuditColumns, Base):
    __tablename__ = "test_audit_records"

    subject: Mapped[str] = mapped_column(String(40))


class _Context:
    case_id, service_request_id = "case-1", "sr-1"


def test_an_enquiry_is_recorded_under_the_operation_being_served(database_url, clock):
    engine = make_engine(database_url("audit"))
    Base.metadata.create_all(engine, tables=[_TestAuditRecord.__table__])
    sessions = make_sessionmaker(engine)
    trail = AuditTrail(sessions, clock, _TestAuditRecord, subject_column="subject")
    token = bind_caller(staff_caller("cw-1", "caseworker"))
    try:
        with calls.serving("/cms.hmrc.v1.HmrcGatewayService/GetSummaryOfEarnedIncome"):
            trail.record("person-1", _Context(), "MATCHED")
            trail.record("person-1", _Context(), "MATCHED", interface="CRA Trace")
        trail.record("person-2", _Context(), "FOUND")  # no call bound
    finally:
        reset_caller(token)
    with sessions() as s:
        rows = s.scalars(select(_TestAuditRecord).order_by(_TestAuditRecord.id)).all()
    assert [(r.interface, r.subject, r.case_id, r.service_request_id) for r in rows] == [
        ("GetSummaryOfEarnedIncome", "person-1", "case-1", "sr-1"),
        ("CRA Trace", "person-1", "case-1", "sr-1"),
        ("unknown", "person-2", "case-1", "sr-1"),
    ]
    assert rows[0].caller == "staff:cw-1(caseworker)"
    engine.dispose()
