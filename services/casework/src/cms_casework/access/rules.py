"""Who may see a case, as pure rules over the caller's identity and the case's parties (no I/O).

Roles come from the caller's identity token, never from a request: staff carry a role (caseworker, team_leader,
sensitive_case_workgroup); clients (self-service) act only on the cases they are on; services are CMS services and
casework's own jobs. Which of them may call an RPC at all is the contract's access policy, enforced by the platform.
A case with the personal-interest flag does not exist for anyone outside the sensitive-case workgroup; services still
reach it, because feeds and the scheduler must keep the case right."""

from __future__ import annotations

from typing import Protocol

from cms_platform.identity import Caller, CallerKind

CASEWORKER, TEAM_LEADER, SENSITIVE, CLIENT, SERVICE = (
    "caseworker",
    "team_leader",
    "sensitive_case_workgroup",
    "client",
    "service",
)
SENSITIVE_WORKGROUP = "sensitive-case-workgroup"
DEFAULT_WORKGROUP = "case-maintenance"


class CaseParties(Protocol):
    """What visibility looks at on a stored case."""

    @property
    def personal_interest(self) -> bool: ...

    @property
    def paying_parent_client_id(self) -> str: ...

    @property
    def receiving_parent_client_id(self) -> str: ...


def role_of(caller: Caller) -> str:
    if caller.kind == CallerKind.CLIENT:
        return CLIENT
    if caller.kind == CallerKind.SERVICE:
        return SERVICE
    return caller.role


def client_id_of(caller: Caller) -> str:
    """A self-service caller's client id (their token's subject, with or without the `clients/` prefix)."""
    return caller.subject.removeprefix("clients/")


def sees_sensitive(caller: Caller) -> bool:
    """Whether personal-interest cases (and their work) exist for this caller."""
    return role_of(caller) in (SENSITIVE, SERVICE)


def visible(caller: Caller, case: CaseParties) -> bool:
    if case.personal_interest and not sees_sensitive(caller):
        return False
    if role_of(caller) == CLIENT:
        return client_id_of(caller) in (
            case.paying_parent_client_id,
            case.receiving_parent_client_id,
        )
    return True
