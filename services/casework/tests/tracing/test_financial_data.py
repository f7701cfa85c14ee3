"""Financial data at arrears through the running stack: refused without arrears (no search made), obtained and
assessed with the agency's suggested steps when the account has arrears, recorded with its legal basis, announced
without personal data, and made once per request_id."""

from __future__ import annotations

import datetime as dt

import grpc

from cms.casework.v1 import money_events_pb2 as money_ev
from cms.casework.v1 import tracing_pb2 as tpb
from cms.casework.v1 import tracing_service_pb2 as api
from cms.cra.v1 import resources_pb2 as cra_pb
from cms_platform.grpc_errors import details_of

from ..arrears.helpers import live_case_with_account, recognise_arrears
from ..conftest import d, error
from .conftest import rid, tracing_events

NORTHERN = cra_pb.CurrentAccount(
    provider_name="Northern Counties Building Society",
    sort_code="40-11-62",
    account_number="31926819",
    holding=cra_pb.ACCOUNT_HOLDING_SOLE,
    opened_date=d(2019, 5, 1),
    balance_pence=2_450_00,
    balance_date=d(2026, 4, 1),
    monthly_turnover=[
        cra_pb.MonthlyTurnover(month=d(2026, m, 0), credit_turnover_pence=2_100_00)
        for m in (1, 2, 3)
    ],
    status=cra_pb.ACCOUNT_STATUS_UP_TO_DATE,
)


def obtain(tracing, case, request_id: str | None = None) -> tpb.FinancialDataAssessment:
    return tracing.call(
        "ObtainFinancialDataAtArrears",
        api.ObtainFinancialDataAtArrearsRequest(request_id=request_id or rid(), parent=case.name),
        attempts=1,
    )


def test_refused_without_arrears_and_no_search_is_made(stack, tracing):
    case = live_case_with_account(stack)
    refused = error(lambda: obtain(tracing, case))
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert [v.type for v in details_of(refused)["PreconditionFailure"].violations] == ["NO_ARREARS"]
    assert tracing.cra_footprints(case.paying_parent.identity.nino) == []
    listed = tracing.call(
        "ListInformationRequests", api.ListInformationRequestsRequest(parent=case.name)
    )
    assert list(listed.information_requests) == []


def test_arrears_bring_the_agencys_leads_and_suggested_steps(stack, tracing, clock):
    case = live_case_with_account(stack)
    nino = case.paying_parent.identity.nino
    tracing.cra_add(nino, add_current_account=NORTHERN)
    recognise_arrears(stack, clock, case, 832_00, due=dt.date(2026, 3, 1))

    same = rid()
    assessment = obtain(tracing, case, same)

    assert assessment.arrears_pence == 832_00
    assert assessment.match_outcome != 0
    assert assessment.leads, assessment
    assert [lead.rank for lead in assessment.leads] == sorted(
        lead.rank for lead in assessment.leads
    )
    (northern,) = [lead for lead in assessment.leads if lead.holder_name == NORTHERN.provider_name]
    assert northern.kind == tpb.FINANCIAL_LEAD_KIND_CURRENT_ACCOUNT
    assert northern.suggested_step != tpb.SUGGESTED_COLLECTION_STEP_UNSPECIFIED
    assert northern.balance_pence == 2_450_00 and not northern.joint
    assert all(lead.suggested_step for lead in assessment.leads)
    assert assessment.recommended_step == assessment.leads[0].suggested_step
    # No bank details come back to the caseworker (the deduction order's own request obtains them).
    assert NORTHERN.account_number not in str(assessment)
    assert NORTHERN.sort_code not in str(assessment)

    # Recorded with its purpose and legal basis, and the agency's reference.
    (made,) = tracing.call(
        "ListInformationRequests", api.ListInformationRequestsRequest(parent=case.name)
    ).information_requests
    assert made.name == assessment.information_request
    assert made.purpose == tpb.INFORMATION_PURPOSE_ARREARS_COLLECTION
    assert made.source == tpb.INFORMATION_SOURCE_CREDIT_REFERENCE_AGENCY
    assert made.operation == "cra-gateway GetFinancialDataAtArrears"
    assert "Child Support Information Regulations 2008 (SI 2008/2551) reg 4" in made.legal_basis
    assert made.requested_by == "staff:cw-1" and made.made_for == assessment.name
    (footprint,) = tracing.cra_footprints(nino)
    assert footprint.purpose == cra_pb.SEARCH_PURPOSE_ARREARS_COLLECTION
    assert footprint.search_reference == made.source_reference

    # Replayed by request_id: the same answer, no second search.
    assert obtain(tracing, case, same) == assessment
    assert len(tracing.cra_footprints(nino)) == 1
    assert (
        tracing.call(
            "GetFinancialDataAssessment",
            api.GetFinancialDataAssessmentRequest(name=assessment.name),
        )
        == assessment
    )

    (event,) = tracing_events(stack, case.name, "financial_data_at_arrears_obtained")
    obtained = money_ev.FinancialDataAtArrearsObtained.FromString(event.value)
    assert obtained.financial_data_assessment_id == assessment.name.rsplit("/", 1)[-1]
    assert obtained.arrears_pence == 832_00 and obtained.lead_count == len(assessment.leads)
    assert NORTHERN.provider_name.encode() not in event.value and nino.encode() not in event.value
