"""Creating cases through the real casework server (conftest.stack): one open case per pair of parents, clients
reused by NINO, and bad input refused with nothing recorded."""

from __future__ import annotations

import uuid

import grpc

from cms.casework.v1 import casework_service_pb2 as api
from cms_platform.grpc_errors import violated_fields

from ..conftest import alex_and_bethan, error, person


def test_one_open_case_per_pair_of_parents_and_clients_reused_by_nino(stack):
    first = stack.call("CreateCase", alex_and_bethan())
    err = error(lambda: stack.call("CreateCase", alex_and_bethan()))
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS
    chidi_case = alex_and_bethan()
    chidi_case.paying_parent.identity.CopyFrom(
        person("AC345678C", "Chidi", "Okafor", (1990, 6, 30))
    )
    other = stack.call("CreateCase", chidi_case)
    assert (
        other.receiving_parent.name == first.receiving_parent.name
    )  # Bethan is one client on both


def test_bad_input_names_the_field_and_nothing_is_recorded(stack):
    request = alex_and_bethan()
    del request.qualifying_children[:]
    request.paying_parent.identity.nino = "QQ123456Z"
    err = error(lambda: stack.call("CreateCase", request))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {"qualifying_children", "paying_parent.identity.nino"} <= set(violated_fields(err))
    assert not stack.call("ListCases", api.ListCasesRequest()).cases


def test_a_stored_answer_goes_only_to_the_caller_who_made_the_request(stack):
    leader = stack.team_leader()
    request = alex_and_bethan()
    case = stack.call("CreateCase", request, as_=leader)
    assert stack.call("CreateCase", request, as_=leader) == case  # the retry gets the first answer
    # A parent replaying the team leader's request (same id, same body) is refused and sees no case.
    parent = stack.creds.client(case.receiving_parent.name.removeprefix("clients/"))
    err = error(lambda: stack.call("CreateCase", request, as_=parent))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(err) == ["request_id"] and case.name not in err.details()
    # Likewise a service request raised on a case by staff, replayed by someone else.
    raise_sr = api.CreateServiceRequestRequest(
        request_id=str(uuid.uuid4()),
        parent=case.name,
        service_request={"process": "Case Maintenance", "area": "Enquiry", "sub_area": "General"},
    )
    stack.call("CreateServiceRequest", raise_sr, as_=leader)
    err = error(lambda: stack.call("CreateServiceRequest", raise_sr, as_=stack.creds.staff("cw-9")))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(err) == ["request_id"]
