"""Who may call what, as the contracts declare it (option (cms.common.v1.access)), through the real servers: every
RPC of every contract declares a policy; every RPC × every kind of caller (each staff role, a role nobody knows, a
client, each CMS service, a service nobody knows) is refused with CALLER_NOT_PERMITTED exactly when the policy does
not name the caller; callers can read the policies through reflection; docs/access-policy.md is the contracts'."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from cms.common.v1 import access_policy_pb2 as ap
from cms_platform import access
from cms_platform.grpc_errors import details_of
from cms_platform.identity import Caller, CallerKind

from .conftest import call, empty_request, rpcs

ROOT = Path(__file__).resolve().parents[2]
STAFF_ROLES = ["caseworker", "team_leader", "sensitive_case_workgroup", "scenario_admin"]
SERVICE_NAMES = ["calculation", "casework", "hmrc-gateway", "dwp-gateway", "cra-gateway"]
# Subjects that must never appear in a refusal (a person's or an unknown service's identity).
CALLERS = (
    [Caller(CallerKind.STAFF, "staff-subject-41", role) for role in STAFF_ROLES]
    + [Caller(CallerKind.STAFF, "staff-subject-42", "auditor")]  # a role nobody knows
    + [Caller(CallerKind.CLIENT, "client-subject-43")]
    + [Caller(CallerKind.SERVICE, name) for name in SERVICE_NAMES]
    + [Caller(CallerKind.SERVICE, "payments-subject-44")]  # a service nobody knows
)


def named(policy: ap.AccessPolicy, caller: Caller) -> bool:
    """Whether the policy message names the caller, read straight from the option (not through cms_platform)."""
    if caller.kind is CallerKind.STAFF:
        return caller.role in {
            ap.StaffRole.Name(r)[len("STAFF_ROLE_") :].lower() for r in policy.staff
        }
    if caller.kind is CallerKind.CLIENT:
        return policy.clients
    names = {ap.ServiceName.Name(s)[len("SERVICE_NAME_") :].lower() for s in policy.services}
    return caller.subject in {n.replace("_", "-") for n in names}


def test_the_names_in_the_contract_are_the_tokens_roles_and_services():
    assert list(access.STAFF_ROLES) == STAFF_ROLES
    assert list(access.SERVICE_NAMES) == SERVICE_NAMES


def test_every_rpc_of_every_contract_declares_who_may_call_it():
    services = access.contract_services()
    assert {s.full_name for s in services} >= {
        "cms.calculation.v1.CalculationService",
        "cms.casework.v1.CaseworkService",
        "cms.hmrc.v1.HmrcGatewayService",
        "cms.hmrc.v1.HmrcScenarioService",
        "cms.dwp.v1.DwpGatewayService",
        "cms.dwp.v1.DwpScenarioService",
        "cms.cra.v1.CraGatewayService",
        "cms.cra.v1.CraScenarioService",
    }
    missing = [
        m.full_name
        for s in services
        for m in s.methods
        if not m.GetOptions().HasExtension(ap.access)
        or not any(
            (
                m.GetOptions().Extensions[ap.access].staff,
                m.GetOptions().Extensions[ap.access].clients,
                m.GetOptions().Extensions[ap.access].services,
            )
        )
    ]
    assert missing == []
    assert sum(len(s.methods) for s in services) > 100


def test_every_rpc_refuses_exactly_the_callers_its_policy_does_not_name(running, creds):
    refused: Counter[str] = Counter()
    admitted: Counter[str] = Counter()
    for service, channel in running:
        for full_name, method in rpcs(service):
            policy = method.GetOptions().Extensions[ap.access]
            for caller in CALLERS:
                where = (
                    f"{full_name}/{method.name} as {caller.kind} {caller.role or caller.subject}"
                )
                try:
                    call(channel, full_name, method, empty_request(method), creds.of(caller))
                    err = None
                except grpc.RpcError as exc:
                    err = exc
                info = details_of(err).get("ErrorInfo") if err is not None else None
                by_policy = (
                    err is not None
                    and err.code() == grpc.StatusCode.PERMISSION_DENIED
                    and info is not None
                    and info.reason == "CALLER_NOT_PERMITTED"
                )
                if named(policy, caller):
                    assert not by_policy, f"{where}: refused by the policy that names it"
                    assert err is None or err.code() != grpc.StatusCode.UNAUTHENTICATED, where
                    admitted[caller.kind] += 1
                    continue
                assert by_policy, f"{where}: answered {err.code() if err else 'OK'}"
                assert info.domain.startswith(service.name), where
                assert info.metadata["caller_kind"] == str(caller.kind), where
                message = err.details()
                assert method.name in message, where
                if caller.kind is not CallerKind.SERVICE or "subject" in caller.subject:
                    assert caller.subject not in message and caller.subject not in str(info)
                if caller.role == "auditor":
                    assert "auditor" not in message  # an unknown role is not echoed either
                refused[caller.kind] += 1
    # Every kind of caller was both let through somewhere and refused somewhere: nothing passed vacuously.
    assert set(admitted) == set(refused) == set(CallerKind), (admitted, refused)
    served = sum(1 for service, _ in running for _ in rpcs(service))
    assert served > 100 and sum(admitted.values()) + sum(refused.values()) == len(CALLERS) * served


def test_a_parent_reads_no_other_familys_records_from_calculation_or_the_gateways(running, creds):
    """The issue's examples: a parent's token on calculation, dwp-gateway and the scenario services."""
    parent = creds.client("client-subject-43")
    for service, channel in running:
        for full_name, method in rpcs(service):
            if not full_name.startswith("cms.casework."):
                try:
                    call(channel, full_name, method, empty_request(method), parent)
                except grpc.RpcError as err:
                    assert err.code() == grpc.StatusCode.PERMISSION_DENIED, full_name
                else:
                    raise AssertionError(f"{full_name}/{method.name} answered a parent")


def test_callers_read_the_policies_through_reflection(running):
    for service, channel in running:
        database = ProtoReflectionDescriptorDatabase(channel)
        for full_name, method in rpcs(service):
            file = database.FindFileContainingSymbol(full_name)
            [served] = [s for s in file.service if f"{file.package}.{s.name}" == full_name]
            [declared] = [m for m in served.method if m.name == method.name]
            assert declared.options.HasExtension(ap.access), method.full_name
            assert (
                declared.options.Extensions[ap.access] == method.GetOptions().Extensions[ap.access]
            ), method.full_name


def test_the_committed_policy_table_is_the_contracts():
    printed = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "access_table.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    committed = (ROOT / "docs" / "access-policy.md").read_text()
    assert committed == printed, (
        "docs/access-policy.md is out of date with the protos: run `make access-table`"
    )
