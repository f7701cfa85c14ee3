"""Who may call an RPC, as its contract declares it: the `(cms.common.v1.access)` method option
(protos/cms/common/v1/access_policy.proto), read from the service descriptors and checked against the caller.

The server (cms_platform.server) reads every served method's policy once, refuses to start when one is missing, and
checks each call after authentication and before validation: a caller the policy does not name is PERMISSION_DENIED
with reason CALLER_NOT_PERMITTED. What a permitted caller may see or change is the service's own, data-level rule.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from dataclasses import dataclass

from google.protobuf import descriptor as _d

from cms.common.v1 import access_policy_pb2 as ap

from .errors import PermissionDenied
from .identity import Caller, CallerKind

REASON = "CALLER_NOT_PERMITTED"


def role_name(role: ap.StaffRole.ValueType) -> str:
    """The token's `role` claim for a StaffRole: STAFF_ROLE_TEAM_LEADER is "team_leader"."""
    return ap.StaffRole.Name(role).removeprefix("STAFF_ROLE_").lower()


def service_name(service: ap.ServiceName.ValueType) -> str:
    """A service token's subject for a ServiceName: SERVICE_NAME_HMRC_GATEWAY is "hmrc-gateway"."""
    return ap.ServiceName.Name(service).removeprefix("SERVICE_NAME_").lower().replace("_", "-")


STAFF_ROLES = tuple(role_name(v) for v in ap.StaffRole.values() if v)
SERVICE_NAMES = tuple(service_name(v) for v in ap.ServiceName.values() if v)


@dataclass(frozen=True)
class Policy:
    """The callers one RPC admits."""

    staff_roles: frozenset[str] = frozenset()
    clients: bool = False
    services: frozenset[str] = frozenset()

    @classmethod
    def of(cls, message: ap.AccessPolicy) -> Policy:
        return cls(
            staff_roles=frozenset(role_name(r) for r in message.staff if r),
            clients=message.clients,
            services=frozenset(service_name(s) for s in message.services if s),
        )

    @property
    def names_anyone(self) -> bool:
        return bool(self.staff_roles or self.clients or self.services)

    def permits(self, caller: Caller) -> bool:
        if caller.kind is CallerKind.STAFF:
            return caller.role in self.staff_roles
        if caller.kind is CallerKind.CLIENT:
            return self.clients
        return caller.subject in self.services

    def describe(self) -> str:
        """Who may call, for messages and the docs, e.g. "staff (caseworker, team_leader); clients"."""
        parts = []
        if self.staff_roles:
            parts.append(f"staff ({', '.join(r for r in STAFF_ROLES if r in self.staff_roles)})")
        if self.clients:
            parts.append("clients")
        if self.services:
            parts.append(f"services ({', '.join(s for s in SERVICE_NAMES if s in self.services)})")
        return "; ".join(parts) or "nobody"


def policy_of(method: _d.MethodDescriptor) -> Policy | None:
    """The method's declared policy, or None when it has none (or one naming nobody, which is no policy)."""
    options = method.GetOptions()
    if not options.HasExtension(ap.access):
        return None
    policy = Policy.of(options.Extensions[ap.access])
    return policy if policy.names_anyone else None


class MissingPolicy(RuntimeError):
    """A served method declares no access policy: the contract is incomplete and the server must not start."""


def policies(services: Iterable[_d.ServiceDescriptor]) -> dict[str, Policy]:
    """{"/package.Service/Method": policy} for every method of `services`; MissingPolicy naming every method
    without one."""
    out: dict[str, Policy] = {}
    missing = []
    for service in services:
        for method in service.methods:
            policy = policy_of(method)
            if policy is None:
                missing.append(method.full_name)
            else:
                out[f"/{service.full_name}/{method.name}"] = policy
    if missing:
        raise MissingPolicy(
            "every RPC must declare who may call it with option (cms.common.v1.access) "
            f"(protos/cms/common/v1/access_policy.proto); missing on: {', '.join(missing)}"
        )
    return out


def _who(caller: Caller) -> str:
    """The caller's kind and role for a refusal, never their subject (a person's or a service's id); a role the CMS
    does not know is not echoed either."""
    if caller.kind is CallerKind.STAFF:
        known = caller.role in STAFF_ROLES
        return f"staff ({caller.role})" if known else "staff with a role the CMS does not know"
    return "a client" if caller.kind is CallerKind.CLIENT else "a service caller"


def refusal(method: str, caller: Caller, policy: Policy | None) -> PermissionDenied:
    """PERMISSION_DENIED for a caller `policy` does not admit to `method` ("/package.Service/Method")."""
    name = method.rsplit("/", 1)[-1]
    allowed = policy.describe() if policy is not None else "nobody"
    metadata = {"method": method.lstrip("/"), "caller_kind": str(caller.kind)}
    if caller.kind is CallerKind.STAFF and caller.role in STAFF_ROLES:
        metadata["role"] = caller.role
    return PermissionDenied(
        f"{_who(caller)} may not call {name}; it admits {allowed}",
        reason=REASON,
        metadata=metadata,
    )


def contract_services() -> list[_d.ServiceDescriptor]:
    """Every service the generated contracts (the `cms` package) declare, by full name: for the policy table
    (tools/access_table.py) and the tests that walk every RPC of every contract."""
    import cms

    found: dict[str, _d.ServiceDescriptor] = {}
    for info in pkgutil.walk_packages(cms.__path__, "cms."):
        if info.name.endswith("_pb2"):
            module = importlib.import_module(info.name)
            for service in module.DESCRIPTOR.services_by_name.values():
                found[service.full_name] = service
    return [found[name] for name in sorted(found)]
