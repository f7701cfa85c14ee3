"""When HMRC holds no income for the paying parent, through the real casework server and the services it calls
(conftest.stack): the paying parent is asked for current income instead of the calculation failing; a default
maintenance decision follows when the time allowed runs out (s.12 of the Child Support Act 1991), and a calculation
replaces it once the income arrives."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
from grpc_status import rpc_status

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms.hmrc.v1 import hmrc_scenario_service_pb2 as hmrc_sc
from cms.hmrc.v1 import hmrc_scenario_service_pb2_grpc as hmrc_sc_grpc

from ..conftest import alex_and_bethan, d, error


def _upsert(stack, person: hmrc_sc.SimulatedPerson) -> None:
    admin = stack.creds.staff("scenario-admin", "scenario_admin")
    with grpc.insecure_channel(f"127.0.0.1:{stack.services['hmrc'].server.port}") as channel:
        hmrc_sc_grpc.HmrcScenarioServiceStub(channel).UpsertPerson(
            hmrc_sc.UpsertPersonRequest(request_id=str(uuid.uuid4()), person=person),
            metadata=admin,
            timeout=10,
        )


def _no_income_with_hmrc(stack, nino: str = "AA123456A") -> hmrc_sc.SimulatedPerson:
    """HMRC holds no tax year and no employment for the person: no historic income, no RTI pay. Returns the
    record as it was."""
    admin = stack.creds.staff("scenario-admin", "scenario_admin")
    with grpc.insecure_channel(f"127.0.0.1:{stack.services['hmrc'].server.port}") as channel:
        scenario = hmrc_sc_grpc.HmrcScenarioServiceStub(channel)
        held = scenario.GetPerson(hmrc_sc.GetPersonRequest(nino=nino), metadata=admin, timeout=10)
    original = hmrc_sc.SimulatedPerson()
    original.CopyFrom(held)
    del held.tax_years[:]
    del held.employments[:]
    _upsert(stack, held)
    return original


def _asked(stack) -> pb.Case:
    _no_income_with_hmrc(stack)
    case = stack.call("CreateCase", alex_and_bethan())
    return stack.call(
        "CalculateCase", api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=case.name)
    )


def _income_request(stack, case: pb.Case) -> pb.ServiceRequest:
    listed = stack.call(
        "ListServiceRequests", api.ListServiceRequestsRequest(parent=case.name)
    ).service_requests
    (sr,) = [s for s in listed if s.sub_area == "Current Income Request"]
    return sr


def _provide(stack, case: pb.Case, weekly_pence: int) -> pb.Case:
    return stack.call(
        "ProvideCurrentIncome",
        api.ProvideCurrentIncomeRequest(
            request_id=str(uuid.uuid4()),
            name=case.name,
            gross_weekly_income_pence=weekly_pence,
            source=pb.INCOME_SOURCE_PAYSLIPS,
        ),
    )


def _default_decisions(stack, on: dt.date) -> api.ScheduledJobResult:
    return stack.run_scheduled(
        d(on.year, on.month, on.day), api.SCHEDULED_JOB_DEFAULT_MAINTENANCE_DECISION
    ).results[0]


def test_with_no_hmrc_income_the_paying_parent_is_asked_instead_of_the_calculation_failing(stack):
    waiting = _asked(stack)
    assert waiting.state == pb.CASE_STATE_INITIAL_CALCULATION
    assert not waiting.HasField("latest_calculation")
    sr = _income_request(stack, waiting)
    assert sr.status == pb.SERVICE_REQUEST_STATUS_OPEN and "20 April 2026" in sr.description
    letters = stack.call(
        "ListCorrespondence", api.ListCorrespondenceRequest(parent=waiting.name)
    ).correspondence
    assert [
        (c.kind, c.recipient, c.service_request)
        for c in letters
        if c.kind == pb.CORRESPONDENCE_KIND_EVIDENCE_REQUEST
    ] == [(pb.CORRESPONDENCE_KIND_EVIDENCE_REQUEST, waiting.paying_parent.name, sr.name)]
    # Asking again (a second CalculateCase) keeps the one request and its time allowed.
    again = stack.call(
        "CalculateCase", api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=waiting.name)
    )
    assert again.state == pb.CASE_STATE_INITIAL_CALCULATION
    assert _income_request(stack, waiting).name == sr.name


def test_a_default_decision_replaced_by_a_calculation(stack, clock):
    waiting = _asked(stack)
    # The time allowed is 14 days from 6 April: nothing is decided on its last day.
    assert _default_decisions(stack, dt.date(2026, 4, 20)).items_due == 0
    clock.advance(dt.timedelta(days=15))  # 21 April
    result = _default_decisions(stack, dt.date(2026, 4, 21))
    assert (result.items_due, result.items_processed, result.items_failed) == (1, 1, 0)
    defaulted = stack.call("GetCase", api.GetCaseRequest(name=waiting.name))
    latest = defaulted.latest_calculation
    # s.12(1) of the 1991 Act at the default rate for two children (£51), from the initial effective date.
    assert defaulted.state == pb.CASE_STATE_LIVE
    assert (latest.rate, latest.weekly_amount_pence, latest.effective_date) == (
        "DEFAULT",
        51_00,
        d(2026, 4, 6),
    )
    assert defaulted.current_payment_plan
    # A second run decides nothing more.
    assert _default_decisions(stack, dt.date(2026, 4, 22)).items_due == 0

    clock.advance(dt.timedelta(days=10))  # 1 May: Alex sends payslips, £600 a week
    replaced = _provide(stack, waiting, 600_00)
    latest = replaced.latest_calculation
    # The calculation replaces the default decision from the date it took effect: 16% of £600 for two children.
    assert (latest.rate, latest.weekly_amount_pence, latest.effective_date) == (
        "BASIC",
        96_00,
        d(2026, 4, 6),
    )
    assert latest.income_basis == "CURRENT_HISTORIC_UNAVAILABLE"
    assert latest.reason == pb.CALCULATION_REASON_CORRECTION_REVISION
    assert replaced.current_payment_plan != defaulted.current_payment_plan
    assert _income_request(stack, waiting).status == pb.SERVICE_REQUEST_STATUS_CLOSED
    payer = stack.call("GetClient", api.GetClientRequest(name=replaced.paying_parent.name))
    assert (
        payer.employment_and_income.current_gross_weekly_income_pence,
        payer.employment_and_income.current_income_source,
    ) == (600_00, pb.INCOME_SOURCE_PAYSLIPS)
    # Nothing is waiting any more.
    refused = error(lambda: _provide(stack, waiting, 700_00))
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert rpc_status.from_call(refused) is not None


def test_income_in_time_gives_the_first_calculation_and_no_default_decision(stack, clock):
    waiting = _asked(stack)
    clock.advance(dt.timedelta(days=5))
    live = _provide(stack, waiting, 600_00)
    assert live.state == pb.CASE_STATE_LIVE
    assert (live.latest_calculation.rate, live.latest_calculation.effective_date) == (
        "BASIC",
        d(2026, 4, 6),
    )
    assert live.latest_calculation.reason == pb.CALCULATION_REASON_INITIAL
    assert _income_request(stack, waiting).status == pb.SERVICE_REQUEST_STATUS_CLOSED
    clock.advance(dt.timedelta(days=20))
    assert _default_decisions(stack, dt.date(2026, 5, 1)).items_due == 0


def test_hmrc_income_arriving_before_the_time_runs_out_gives_a_calculation_not_a_default(
    stack, clock
):
    original = _no_income_with_hmrc(stack)
    case = stack.call("CreateCase", alex_and_bethan())
    waiting = stack.call(
        "CalculateCase", api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=case.name)
    )
    assert waiting.state == pb.CASE_STATE_INITIAL_CALCULATION
    original.ClearField("generated")
    _upsert(stack, original)  # HMRC's records hold Alex's income again
    clock.advance(dt.timedelta(days=15))
    result = _default_decisions(stack, dt.date(2026, 4, 21))
    assert (result.items_due, result.items_failed) == (1, 0)
    live = stack.call("GetCase", api.GetCaseRequest(name=waiting.name))
    assert (live.latest_calculation.rate, live.latest_calculation.weekly_amount_pence) == (
        "BASIC",
        96_00,
    )
    assert _income_request(stack, waiting).status == pb.SERVICE_REQUEST_STATUS_CLOSED


def test_a_case_closed_while_waiting_gets_no_default_decision(stack, clock):
    waiting = _asked(stack)
    stack.call(
        "CloseCase",
        api.CloseCaseRequest(
            request_id=str(uuid.uuid4()),
            name=waiting.name,
            reason=pb.CASE_CLOSURE_REASON_APPLICANT_REQUEST,
        ),
    )
    clock.advance(dt.timedelta(days=15))
    assert _default_decisions(stack, dt.date(2026, 4, 21)).items_due == 0
    closed = stack.call("GetCase", api.GetCaseRequest(name=waiting.name))
    assert closed.state == pb.CASE_STATE_CLOSED and not closed.HasField("latest_calculation")
