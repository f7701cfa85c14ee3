"""Roles and visibility through the real casework server (conftest.stack): what each role may do, and clients
seeing only their own cases."""

from __future__ import annotations

import uuid

import grpc

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms_platform.grpc_errors import details_of

from ..conftest import error


def test_roles_are_enforced_and_clients_see_only_their_own_cases(stack):
    case = stack.new_live_case()
    err = error(
        lambda: stack.call("ListAuditEntries", api.ListAuditEntriesRequest(parent=case.name))
    )
    assert (
        err.code() == grpc.StatusCode.PERMISSION_DENIED
    )  # a caseworker does not read the audit trail
    bethan = stack.creds.client(case.receiving_parent.name.removeprefix("clients/"))
    assert stack.call("GetCase", api.GetCaseRequest(name=case.name), as_=bethan).name == case.name
    stranger = stack.creds.client(str(uuid.uuid4()))
    assert (
        error(
            lambda: stack.call("GetCase", api.GetCaseRequest(name=case.name), as_=stranger)
        ).code()
        == grpc.StatusCode.NOT_FOUND
    )
    err = error(
        lambda: stack.call(
            "CloseCase",
            api.CloseCaseRequest(
                request_id=str(uuid.uuid4()),
                name=case.name,
                reason=pb.CASE_CLOSURE_REASON_APPLICANT_REQUEST,
            ),
            as_=bethan,
        )
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_call_the_contract_refuses_is_in_the_cases_audit_trail(stack):
    """The platform refuses a caller the RPC's access policy does not name before casework runs; casework still
    audits the refusal on the case, as it does every refusal."""
    case = stack.new_live_case()
    bethan = stack.creds.client(case.receiving_parent.name.removeprefix("clients/"))
    close = api.CloseCaseRequest(
        request_id=str(uuid.uuid4()),
        name=case.name,
        reason=pb.CASE_CLOSURE_REASON_APPLICANT_REQUEST,
    )
    err = error(lambda: stack.call("CloseCase", close, as_=bethan))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert details_of(err)["ErrorInfo"].reason == "CALLER_NOT_PERMITTED"
    auditor = stack.creds.staff("au-1", "auditor")  # a role the CMS does not know
    err = error(lambda: stack.call("GetCase", api.GetCaseRequest(name=case.name), as_=auditor))
    assert details_of(err)["ErrorInfo"].reason == "CALLER_NOT_PERMITTED"
    audit = stack.call(
        "ListAuditEntries",
        api.ListAuditEntriesRequest(parent=case.name),
        as_=stack.team_leader(),
    ).audit_entries
    assert [(a.role, a.method, a.resource) for a in audit if not a.permitted] == [
        ("auditor", "/cms.casework.v1.CaseworkService/GetCase", case.name),
        ("client", "/cms.casework.v1.CaseworkService/CloseCase", case.name),
    ]
    assert stack.call("GetCase", api.GetCaseRequest(name=case.name)).state == pb.CASE_STATE_LIVE
