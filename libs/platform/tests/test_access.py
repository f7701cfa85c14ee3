"""The access policy as the contracts declare it (cms_platform.access): the names of roles and services, which
callers a policy admits, a refusal that names the caller's kind and role but never who they are, and a contract
without a policy found at once."""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool
from hypothesis import given
from hypothesis import strategies as st

from cms.calculation.v1 import calculation_service_pb2 as calc_api
from cms.common.v1 import access_policy_pb2 as ap
from cms_platform import access
from cms_platform.identity import Caller, CallerKind

ROLES = st.sampled_from([*access.STAFF_ROLES, "auditor", "Caseworker", "team-leader"])
SERVICES = st.sampled_from([*access.SERVICE_NAMES, "operator", "CASEWORK", "hmrc_gateway"])
POLICIES = st.builds(
    access.Policy,
    staff_roles=st.frozensets(st.sampled_from(access.STAFF_ROLES)),
    clients=st.booleans(),
    services=st.frozensets(st.sampled_from(access.SERVICE_NAMES)),
)


def test_roles_and_services_are_named_as_the_tokens_carry_them():
    assert access.role_name(ap.STAFF_ROLE_SENSITIVE_CASE_WORKGROUP) == "sensitive_case_workgroup"
    assert access.service_name(ap.SERVICE_NAME_HMRC_GATEWAY) == "hmrc-gateway"
    assert access.STAFF_ROLES == (
        "caseworker",
        "team_leader",
        "sensitive_case_workgroup",
        "scenario_admin",
    )
    assert access.SERVICE_NAMES == (
        "calculation",
        "casework",
        "hmrc-gateway",
        "dwp-gateway",
        "cra-gateway",
    )


def test_a_policy_is_read_from_the_method_option():
    method = calc_api.DESCRIPTOR.services_by_name["CalculationService"].methods_by_name
    assert access.policy_of(method["CreateCalculation"]) == access.Policy(
        services=frozenset({"casework"})
    )
    assert access.policy_of(method["BulkCalculate"]) == access.Policy(
        staff_roles=frozenset({"team_leader"}), services=frozenset({"casework"})
    )


@given(POLICIES, ROLES)
def test_staff_are_admitted_by_their_role_alone(policy, role):
    caller = Caller(CallerKind.STAFF, "staff-1", role)
    assert policy.permits(caller) == (role in policy.staff_roles)


@given(POLICIES, st.text(max_size=20))
def test_clients_are_admitted_only_where_the_policy_says_clients(policy, subject):
    assert policy.permits(Caller(CallerKind.CLIENT, subject)) == policy.clients


@given(POLICIES, SERVICES, ROLES)
def test_services_are_admitted_by_their_exact_name_and_never_by_a_role(policy, name, role):
    # A service token carrying a role claim is still a service: only its name counts.
    assert policy.permits(Caller(CallerKind.SERVICE, name, role)) == (name in policy.services)


def test_a_policy_says_who_it_admits():
    policy = access.Policy(
        staff_roles=frozenset({"team_leader", "caseworker"}),
        clients=True,
        services=frozenset({"cra-gateway", "casework"}),
    )
    assert policy.describe() == (
        "staff (caseworker, team_leader); clients; services (casework, cra-gateway)"
    )
    assert access.Policy().describe() == "nobody"


def test_a_refusal_names_the_kind_and_role_never_the_subject():
    policy = access.Policy(staff_roles=frozenset({"team_leader"}))
    method = "/cms.casework.v1.CaseworkService/ListAuditEntries"
    staff = access.refusal(method, Caller(CallerKind.STAFF, "Jane Smith", "caseworker"), policy)
    assert staff.reason == "CALLER_NOT_PERMITTED"
    assert staff.message == (
        "staff (caseworker) may not call ListAuditEntries; it admits staff (team_leader)"
    )
    assert staff.metadata == {
        "method": "cms.casework.v1.CaseworkService/ListAuditEntries",
        "caller_kind": "staff",
        "role": "caseworker",
    }
    unknown = access.refusal(method, Caller(CallerKind.STAFF, "s-1", "AB123456C"), policy)
    assert "AB123456C" not in unknown.message and "role" not in unknown.metadata
    assert unknown.message.startswith("staff with a role the CMS does not know may not call")
    client = access.refusal(method, Caller(CallerKind.CLIENT, "AB123456C"), policy)
    assert "AB123456C" not in client.message and client.message.startswith("a client ")
    service = access.refusal(method, Caller(CallerKind.SERVICE, "payments-x"), policy)
    assert "payments-x" not in service.message and service.metadata["caller_kind"] == "service"


def _service_without_a_full_policy() -> descriptor_pool.DescriptorPool:
    """A pool holding cms.test.v1.Half: Guarded declares a policy, Open none, Nobody one naming nobody."""
    pool = descriptor_pool.DescriptorPool()
    for file in (descriptor_pb2.DescriptorProto.DESCRIPTOR.file, ap.DESCRIPTOR):
        proto = descriptor_pb2.FileDescriptorProto()
        file.CopyToProto(proto)
        pool.Add(proto)
    half = descriptor_pb2.FileDescriptorProto(
        name="cms/test/v1/half.proto",
        package="cms.test.v1",
        dependency=["cms/common/v1/access_policy.proto"],
        syntax="proto3",
    )
    half.message_type.add(name="Empty")
    service = half.service.add(name="Half")
    for name in ("Guarded", "Open", "Nobody"):
        service.method.add(
            name=name, input_type=".cms.test.v1.Empty", output_type=".cms.test.v1.Empty"
        )
    service.method[0].options.Extensions[ap.access].clients = True
    service.method[2].options.Extensions[ap.access].SetInParent()
    pool.Add(half)
    return pool


def test_a_method_without_a_policy_or_with_one_naming_nobody_is_named_as_missing():
    service = _service_without_a_full_policy().FindServiceByName("cms.test.v1.Half")
    assert access.policy_of(service.methods_by_name["Guarded"]) == access.Policy(clients=True)
    assert access.policy_of(service.methods_by_name["Open"]) is None
    assert access.policy_of(service.methods_by_name["Nobody"]) is None
    try:
        access.policies([service])
    except access.MissingPolicy as missing:
        assert "cms.test.v1.Half.Open, cms.test.v1.Half.Nobody" in str(missing)
    else:
        raise AssertionError("a service with a method without a policy was accepted")


def test_the_contracts_are_found_and_each_of_their_methods_has_a_policy():
    services = access.contract_services()
    assert "cms.casework.v1.CaseworkService" in {s.full_name for s in services}
    policies = access.policies(services)
    assert len(policies) == sum(len(s.methods) for s in services) > 100
