"""The audit trail: every enquiry, with the caller, the interface, its statutory legal basis and the case."""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from cms_platform.clock import Clock
from cms_platform.identity import current_caller
from cms_platform.population import normalise_nino

from .models import AuditRecord

LEGAL_BASIS = "Child Support Act 1991 s14 and Sch 2; Child Support Information Regulations 2008"


class Audit:
    def __init__(self, sessions: sessionmaker, clock: Clock):
        self._sessions = sessions
        self._clock = clock

    def records(self, interface: str, entries: list[tuple[str, str, str, str]]) -> None:
        """(nino, case_id, service_request_id, outcome) per enquiry, written in one transaction."""
        caller = current_caller()
        who = caller.describe() if caller else "unknown"
        now = self._clock.now()
        with self._sessions.begin() as s:
            s.add_all(AuditRecord(at=now, caller=who[:200], interface=interface, legal_basis=LEGAL_BASIS,
                                  case_id=case_id[:100], service_request_id=sr[:100], nino=normalise_nino(nino)[:9],
                                  outcome=outcome) for nino, case_id, sr, outcome in entries)

    def record(self, interface: str, nino: str, context, outcome: str) -> None:
        self.records(interface, [(nino, context.case_id, context.service_request_id, outcome)])
