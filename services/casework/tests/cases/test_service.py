"""Creating cases through the real casework server (conftest.stack): one open case per pair of parents, clients
reused by NINO, and bad input refused with nothing recorded."""

from __future__ import annotations

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
