"""hmrc-gateway's audit trail (cms_platform.audit): HMRC enquiries are recorded by NINO."""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from cms_platform.audit import AuditTrail
from cms_platform.clock import Clock
from cms_simulation.population import normalise_nino

from .models import AuditRecord


def _row(*, subject: str, **fields) -> AuditRecord:
    return AuditRecord(nino=normalise_nino(subject)[:9], **fields)


def audit_trail(sessions: sessionmaker, clock: Clock) -> AuditTrail:
    return AuditTrail(sessions, clock, _row)
