"""Page tokens are opaque and validated (cms_platform.paging), through the real servers: every RPC with a
`page_token` refuses one it did not issue (a huge number, junk) with INVALID_ARGUMENT on that field and never echoes
it; a token is honoured by the RPC and the request's parameters it was issued for, and refused by another."""

from __future__ import annotations

import grpc
import pytest
from google.type import date_pb2

from cms.calculation.v1 import calculation_service_pb2 as api
from cms.calculation.v1 import calculation_service_pb2_grpc as api_grpc
from cms.cra.v1 import resources_pb2 as cra
from cms_platform.grpc_errors import details_of, violated_fields

from .conftest import admitted, call, empty_request, rpcs

HUGE = str(2**70)


def _fields(request) -> set[str]:
    return set(request.DESCRIPTOR.fields_by_name)


@pytest.mark.parametrize("token", [HUGE, "-1", "junk-7Qz"])
def test_every_paged_rpc_refuses_a_token_it_did_not_issue(running, creds, token):
    paged = 0
    for service, channel in running:
        for full_name, method in rpcs(service):
            request = empty_request(method)
            if "page_token" not in request.DESCRIPTOR.fields_by_name:
                continue
            request.page_token = token
            where = f"{full_name}/{method.name}"
            # A CRA search needs a legal basis (its guard refuses one without, before anything else): find a
            # purpose the RPC accepts, so its paging is reached too.
            purposes = cra.SearchPurpose.values()[1:] if "legal_basis" in _fields(request) else [0]
            for purpose in purposes:
                if purpose:
                    request.legal_basis.case_reference, request.legal_basis.purpose = "c-1", purpose
                with pytest.raises(grpc.RpcError) as err:
                    call(channel, full_name, method, request, admitted(creds, method))
                if err.value.code() != grpc.StatusCode.PERMISSION_DENIED:
                    break
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, where
            assert "page_token" in violated_fields(err.value), where
            assert token not in (err.value.details() or ""), where
            paged += 1
    assert paged >= 18  # every List RPC of the five APIs and of the scenario services


def _calculation(running) -> api_grpc.CalculationServiceStub:
    service, channel = next((s, c) for s, c in running if s.name == "calculation")
    return api_grpc.CalculationServiceStub(channel)


def test_a_token_is_honoured_by_its_rpc_and_refused_by_another(running, creds):
    stub, who = _calculation(running), creds.staff("staff-1", "caseworker")
    first = stub.ListRuleSets(api.ListRuleSetsRequest(page_size=1), metadata=who)
    assert first.next_page_token  # the rule book holds more than one rule set
    second = stub.ListRuleSets(
        api.ListRuleSetsRequest(page_size=1, page_token=first.next_page_token), metadata=who
    )
    assert [r.name for r in second.rule_sets] != [r.name for r in first.rule_sets]

    with pytest.raises(grpc.RpcError) as err:
        stub.ListCalculations(
            api.ListCalculationsRequest(case_reference="case-1", page_token=first.next_page_token),
            metadata=who,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details_of(err.value)["BadRequest"].field_violations[0].description == (
        "is not a token this service issued"
    )


def test_a_token_used_with_other_filters_is_refused(running, creds):
    stub, who = _calculation(running), creds.staff("staff-1", "caseworker")
    first = stub.ListRuleSets(api.ListRuleSetsRequest(page_size=1), metadata=who)
    with pytest.raises(grpc.RpcError) as err:
        stub.ListRuleSets(
            api.ListRuleSetsRequest(
                page_size=1,
                page_token=first.next_page_token,
                effective_date=date_pb2.Date(year=2020, month=1, day=1),
            ),
            metadata=who,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(err.value) == ["page_token"]
