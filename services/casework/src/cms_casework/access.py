"""Who may do what in casework, and the audit trail of every read and change of a case.

Roles come from the caller's identity token, never from a request: staff carry a role (caseworker, team_leader,
sensitive_case_workgroup); clients (self-service) act only on the cases they are on; services are other CMS services.
A case with the personal-interest flag does not exist for anyone outside the sensitive-case workgroup (NOT_FOUND,
not PERMISSION_DENIED, so its existence is not disclosed); services still reach it, because feeds and the scheduler
must keep the case right.
"""

from __future__ import annotations

from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_platform.clock import Clock
from cms_platform.errors import NotFound, PermissionDenied
from cms_platform.identity import Caller, CallerKind, current_caller

from .models import CaseAuditRecord, CaseRecord

CASEWORKER, TEAM_LEADER, SENSITIVE, CLIENT, SERVICE = (
    "caseworker",
    "team_leader",
    "sensitive_case_workgroup",
    "client",
    "service",
)
STAFF = (CASEWORKER, TEAM_LEADER, SENSITIVE)
EVERYONE = (*STAFF, CLIENT, SERVICE)
SENSITIVE_WORKGROUP = "sensitive-case-workgroup"
DEFAULT_WORKGROUP = "case-maintenance"
METHOD_PREFIX = "/cms.casework.v1.CaseworkService/"

_KIND = {
    CallerKind.STAFF: common.CALLER_KIND_STAFF,
    CallerKind.CLIENT: common.CALLER_KIND_CLIENT,
    CallerKind.SERVICE: common.CALLER_KIND_SERVICE,
}


def role_of(caller: Caller) -> str:
    if caller.kind == CallerKind.CLIENT:
        return CLIENT
    if caller.kind == CallerKind.SERVICE:
        return SERVICE
    return caller.role


def require(*allowed: str) -> Caller:
    """The caller, if their role is one of `allowed`; else PERMISSION_DENIED naming the roles that may."""
    caller = current_caller()
    if role_of(caller) not in allowed:
        raise PermissionDenied(
            f"a {role_of(caller) or 'caller without a role'} may not do this; "
            f"allowed: {', '.join(allowed)}",
            reason="ROLE_NOT_PERMITTED",
        )
    return caller


def client_id_of(caller: Caller) -> str:
    """A self-service caller's client id (their token's subject, with or without the `clients/` prefix)."""
    return caller.subject.removeprefix("clients/")


def visible(caller: Caller, row: CaseRecord) -> bool:
    role = role_of(caller)
    if row.personal_interest and role not in (SENSITIVE, SERVICE):
        return False
    if role == CLIENT:
        return client_id_of(caller) in (row.paying_parent_client_id, row.receiving_parent_client_id)
    return True


class HiddenCase(NotFound):
    """A case the caller may not see: it does not exist for them (NOT_FOUND), and the refusal is audited."""

    def __init__(self, case_id: str, name: str):
        super().__init__("case", name)
        self.case_id, self.name = case_id, name


def audit(
    db, *, clock: Clock, caller: Caller, method: str, case_id: str, resource: str, permitted: bool
) -> None:
    db.add(
        CaseAuditRecord(
            case_id=case_id,
            at=clock.now(),
            principal=caller.subject[:200],
            caller_kind=str(caller.kind),
            role=role_of(caller)[:60],
            method=(METHOD_PREFIX + method)[:120],
            resource=resource[:200],
            permitted=permitted,
        )
    )


def audit_entry(row: CaseAuditRecord) -> pb.AuditEntry:
    entry = pb.AuditEntry(
        principal=row.principal,
        caller_kind=_KIND.get(CallerKind(row.caller_kind), 0),
        role=row.role,
        method=row.method,
        resource=row.resource,
        permitted=row.permitted,
    )
    entry.time.FromDatetime(row.at)
    return entry
