"""The gateways' audit trail: every enquiry to an external system, with the caller (from the identity token), the
interface, its statutory legal basis, the case and service request it was made under, and the outcome. Each gateway
keeps the rows in its own table and says how it names the person (HMRC by NINO; CIS by its opaque person id)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import String, insert
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from . import calls
from .clock import Clock
from .db import BigId, UtcDateTime
from .identity import bound_caller

# Child Support Act 1991 s14 and Sch 2 and the Information Regulations are the CMS's gateway to HMRC and DWP data.
CHILD_SUPPORT_INFORMATION = (
    "Child Support Act 1991 s14 and Sch 2; Child Support Information Regulations 2008"
)


class AuditColumns:
    """The columns every gateway's audit table has; each adds how it names the person and its table name."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    caller: Mapped[str] = mapped_column(String(200))
    interface: Mapped[str] = mapped_column(String(100))
    legal_basis: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[str] = mapped_column(String(100))
    service_request_id: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(40))


class AuditTrail:
    def __init__(
        self,
        sessions: sessionmaker,
        clock: Clock,
        record: type[Any],
        *,
        subject_column: str,
        subject: Callable[[str], str] = str,
        legal_basis: str = CHILD_SUPPORT_INFORMATION,
    ):
        """`record` is the gateway's table (an AuditColumns model); `subject_column` how it names the person, and
        `subject` how the name is stored (e.g. a normalised NINO)."""
        self._sessions, self._clock, self._record, self._legal_basis = (
            sessions,
            clock,
            record,
            legal_basis,
        )
        self._subject_column, self._subject = subject_column, subject

    def records(
        self,
        entries: list[tuple[str, str, str, str]],
        *,
        legal_basis: str | None = None,
        interface: str | None = None,
    ) -> None:
        """(subject, case_id, service_request_id, outcome) per enquiry, written in one transaction. The interface is
        the operation being served (cms_platform.calls) unless named; `legal_basis` overrides the trail's own (e.g.
        to add the purpose a request stated)."""
        caller = bound_caller()
        who = (caller.describe() if caller else "unknown")[:200]
        interface = (interface or calls.operation() or "unknown")[:100]
        now = self._clock.now()
        basis = (legal_basis or self._legal_basis)[:200]
        rows = [
            {
                "at": now,
                "caller": who,
                "interface": interface,
                "legal_basis": basis,
                "case_id": case_id[:100],
                "service_request_id": sr[:100],
                "outcome": outcome,
                self._subject_column: self._subject(subject),
            }
            for subject, case_id, sr, outcome in entries
        ]
        if not rows:
            return
        # One multi-row INSERT, not an ORM object per row: a monthly check message audits hundreds of enquiries.
        with self._sessions.begin() as s:
            s.execute(insert(self._record.__table__), rows)

    def record(
        self, subject: str, context: Any, outcome: str, *, interface: str | None = None
    ) -> None:
        """One enquiry made under `context` (the request's EnquiryContext: case and service request)."""
        self.records(
            [(subject, context.case_id, context.service_request_id, outcome)], interface=interface
        )
