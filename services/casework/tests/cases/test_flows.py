"""Actions on a case that reach what hangs off it, through the real casework server (conftest.stack): routing for
a personal interest, case surveillance with the agency and its alerts, and closing a case."""

from __future__ import annotations

import uuid

import grpc

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.cra.v1 import cra_scenario_service_pb2 as cra_sc
from cms.cra.v1 import cra_scenario_service_pb2_grpc as cra_sc_grpc
from cms.cra.v1 import resources_pb2 as cra_pb
from cms_devkit.testing import wait_until
from cms_platform.grpc_errors import details_of, violated_fields

from ..conftest import d, error


def test_personal_interest_routes_and_hides_the_case(stack):
    case = stack.new_live_case()
    flagged = stack.call(
        "SetPersonalInterest",
        api.SetPersonalInterestRequest(
            request_id=str(uuid.uuid4()),
            name=case.name,
            personal_interest=True,
            reason="Client is a relative of a caseworker",
        ),
    )
    assert flagged.workgroup == "sensitive-case-workgroup" and not flagged.owner
    err = error(lambda: stack.call("GetCase", api.GetCaseRequest(name=case.name)))
    assert err.code() == grpc.StatusCode.NOT_FOUND  # to everyone else it does not exist
    assert not stack.call("ListCases", api.ListCasesRequest()).cases
    sensitive = stack.creds.staff("sw-1", "sensitive_case_workgroup")
    assert stack.call(
        "GetCase", api.GetCaseRequest(name=case.name), as_=sensitive
    ).personal_interest
    audit = stack.call(
        "ListAuditEntries", api.ListAuditEntriesRequest(parent=case.name), as_=sensitive
    ).audit_entries
    refused = [a for a in audit if not a.permitted]
    assert [(a.principal, a.method) for a in refused] == [
        ("cw-1", "/cms.casework.v1.CaseworkService/GetCase")
    ]
    assert any(a.principal == "sw-1" and a.permitted for a in audit)
    # Only the sensitive-case workgroup may clear it.
    cleared = stack.call(
        "SetPersonalInterest",
        api.SetPersonalInterestRequest(
            request_id=str(uuid.uuid4()),
            name=case.name,
            personal_interest=False,
            reason="Conflict ended",
        ),
        as_=sensitive,
    )
    assert cleared.workgroup == "case-maintenance"


def test_case_surveillance_with_the_agency_raises_service_requests_from_its_alerts(stack):

    case = stack.new_live_case()
    err = error(
        lambda: stack.call(
            "SetCaseSurveillance",
            api.SetCaseSurveillanceRequest(
                request_id=str(uuid.uuid4()), name=case.name, active=True, review_date=d(2026, 4, 6)
            ),
        )
    )
    assert violated_fields(err) == ["review_date"]  # checked before the agency is asked
    watched = stack.call(
        "SetCaseSurveillance",
        api.SetCaseSurveillanceRequest(
            request_id=str(uuid.uuid4()),
            name=case.name,
            active=True,
            review_date=d(2026, 10, 1),
            note="no assets found",
        ),
    )
    assert watched.case_surveillance.active and watched.case_surveillance.review_date == d(
        2026, 10, 1
    )

    channel = grpc.insecure_channel(f"127.0.0.1:{stack.services['cra'].server.port}")
    cra_sc_grpc.CraScenarioServiceStub(channel).ApplyCreditFileChange(
        cra_sc.ApplyCreditFileChangeRequest(
            request_id=str(uuid.uuid4()),
            nino="AA123456A",
            add_current_account=cra_pb.CurrentAccount(
                provider_name="Thameside Bank",
                sort_code="30-90-12",
                account_number="41234567",
                holding=cra_pb.ACCOUNT_HOLDING_SOLE,
            ),
        ),
        metadata=stack.creds.staff("scenario-admin", "scenario_admin"),
        timeout=10,
    )
    channel.close()

    def alert_sr():
        found = stack.call(
            "ListServiceRequests", api.ListServiceRequestsRequest(parent=case.name)
        ).service_requests
        return [s for s in found if s.sub_area == "Case Surveillance Alert"]

    [sr] = wait_until(alert_sr, timeout=60, what="the agency's alert to reach the case")
    assert (
        sr.origin == pb.SERVICE_REQUEST_ORIGIN_CRA_INTERFACE
        and "new_current_account" in sr.description
    )
    stopped = stack.call(
        "SetCaseSurveillance",
        api.SetCaseSurveillanceRequest(request_id=str(uuid.uuid4()), name=case.name, active=False),
    )
    assert not stopped.case_surveillance.active


def test_closing_a_case_withdraws_its_pending_changes_and_closes_their_service_requests(stack):
    case = stack.new_live_case()
    change = stack.report(
        case,
        pb.ChangeOfCircumstances(
            type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_ADDRESS_DETAILS,
            address_change=pb.AddressChange(
                client=case.paying_parent.name,
                new_address=common.Address(
                    lines=["3 Mill Lane"], post_town="LEEDS", postcode="LS4 2AB"
                ),
            ),
        ),
    )
    closed = stack.call(
        "CloseCase",
        api.CloseCaseRequest(
            request_id=str(uuid.uuid4()),
            name=case.name,
            reason=pb.CASE_CLOSURE_REASON_APPLICANT_REQUEST,
        ),
    )
    assert (
        closed.state == pb.CASE_STATE_CLOSED
        and closed.closure.reason == pb.CASE_CLOSURE_REASON_APPLICANT_REQUEST
    )
    held = stack.call(
        "GetChangeOfCircumstances", api.GetChangeOfCircumstancesRequest(name=change.name)
    )
    assert held.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_WITHDRAWN
    sr = stack.call("GetServiceRequest", api.GetServiceRequestRequest(name=change.service_request))
    assert (sr.status, sr.sub_status) == (
        pb.SERVICE_REQUEST_STATUS_CLOSED,
        pb.SERVICE_REQUEST_SUB_STATUS_NOT_REQUIRED,
    )
    err = error(
        lambda: stack.report(
            case,
            pb.ChangeOfCircumstances(
                type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_ADDRESS_DETAILS,
                address_change=pb.AddressChange(
                    client=case.paying_parent.name,
                    new_address=common.Address(
                        lines=["4 Mill Lane"], post_town="LEEDS", postcode="LS4 2AB"
                    ),
                ),
            ),
        )
    )
    assert details_of(err)["PreconditionFailure"].violations[0].type == "CASE_CLOSED"
