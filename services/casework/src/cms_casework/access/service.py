"""Access to cases as the API applies it, below the contract's access policy (which the platform enforces on every
RPC): a case the caller may not see refused as NOT_FOUND (so its existence is not disclosed), and an audit entry for
every read and change of a case, naming the operation being served (cms_platform.calls) and whether it was
permitted."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_platform import calls
from cms_platform.clock import Clock
from cms_platform.errors import NotFound
from cms_platform.identity import Caller, CallerKind

from .models import CaseAuditRecord
from .rules import CaseParties, role_of, visible

_KIND = {
    CallerKind.STAFF: common.CALLER_KIND_STAFF,
    CallerKind.CLIENT: common.CALLER_KIND_CLIENT,
    CallerKind.SERVICE: common.CALLER_KIND_SERVICE,
}


class HiddenCase(NotFound):
    """A case the caller may not see: it does not exist for them (NOT_FOUND), and the refusal is audited."""

    def __init__(self, case_id: str, name: str):
        super().__init__("case", name)
        self.case_id, self.name = case_id, name


def ensure_visible(caller: Caller, case: CaseParties, *, case_id: str, name: str) -> None:
    """NOT_FOUND (HiddenCase) unless the caller may see the case."""
    if not visible(caller, case):
        raise HiddenCase(case_id, name)


def audit(
    db: Session,
    *,
    clock: Clock,
    caller: Caller,
    case_id: str,
    resource: str,
    permitted: bool = True,
) -> None:
    """One audit entry for the operation being served on `resource` of case `case_id`."""
    call = calls.current_call()
    db.add(
        CaseAuditRecord(
            case_id=case_id,
            at=clock.now(),
            principal=caller.subject[:200],
            caller_kind=str(caller.kind),
            role=role_of(caller)[:60],
            method=(call.operation if call else "unknown")[:120],
            resource=resource[:200],
            permitted=permitted,
        )
    )


def entries(
    db: Session, *, case_id: str, size: int, offset: int
) -> tuple[list[pb.AuditEntry], bool]:
    """A page of the case's audit trail, newest first, and whether there is more."""
    rows = db.scalars(
        select(CaseAuditRecord)
        .where(CaseAuditRecord.case_id == case_id)
        .order_by(CaseAuditRecord.id.desc())
        .offset(offset)
        .limit(size + 1)
    ).all()
    return [audit_entry(r) for r in rows[:size]], len(rows) > size


def audit_entry(row: CaseAuditRecord) -> pb.AuditEntry:
    entry = pb.AuditEntry(
        principal=row.principal,
        caller_kind=_KIND.get(CallerKind(row.caller_kind), common.CALLER_KIND_UNSPECIFIED),
        role=row.role,
        method=row.method,
        resource=row.resource,
        permitted=row.permitted,
    )
    entry.time.FromDatetime(row.at)
    return entry
