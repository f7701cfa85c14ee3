"""Roles and visibility through the real casework server (conftest.stack): what each role may do, and clients
seeing only their own cases."""

from __future__ import annotations

import uuid

import grpc

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb

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
