"""HmrcGatewayService through its real gRPC server (port 0) and a real database: matching, income, employment,
Child Benefit, validation, the simulated platform's refusals, audit and the monthly check. Jordan Kellaway is
scripted in conftest.py; the generated population is exercised in libs/simulation/tests/test_population.py.
The business clock is 6 April 2026 (tax year 2025-26 has just ended).
"""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.type import date_pb2

from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import hmrc_scenario_service_pb2 as sc
from cms.hmrc.v1 import hmrc_service_pb2 as api
from cms.hmrc.v1 import hmrc_service_pb2_grpc as api_grpc
from cms.hmrc.v1 import resources_pb2 as pb
from cms_hmrc_gateway.app import HmrcGatewayService
from cms_hmrc_gateway.audit import AuditRecord
from cms_platform.grpc_errors import details_of, violated_fields

NINO = "JK123456C"
MATCHED, PARTIAL, NOT_FOUND = (
    common.MATCH_OUTCOME_MATCHED,
    common.MATCH_OUTCOME_PARTIAL,
    common.MATCH_OUTCOME_NOT_FOUND,
)


def d(y: int, m: int, day: int) -> date_pb2.Date:
    return date_pb2.Date(year=y, month=m, day=day)


def identity(
    nino: str = NINO, forenames: str = "Jordan", surname: str = "Kellaway", dob=(1984, 7, 1)
):
    return common.PersonIdentity(
        nino=nino,
        name=common.PersonName(forenames=forenames, surname=surname),
        date_of_birth=d(*dob),
    )


def call(stub_method, request, creds):
    return stub_method(request, metadata=creds.staff(), timeout=10)


def admin_call(stub_method, request, creds):
    """A scenario (test-data) call: only the scenario_admin role may make one."""
    return stub_method(
        request, metadata=creds.staff("scenario-admin", "scenario_admin"), timeout=10
    )


def test_summary_of_earned_income_is_the_latest_year_with_self_assessment_winning(hmrc, creds):
    _, gw, _ = hmrc
    r = call(
        gw.GetSummaryOfEarnedIncome, api.GetSummaryOfEarnedIncomeRequest(person=identity()), creds
    )
    assert r.match.outcome == MATCHED and r.income_data_held
    assert (r.tax_year, r.source, r.gross_income_pence) == (
        "2024-25",
        pb.INCOME_SOURCE_SELF_ASSESSMENT,
        39_000_00,
    )
    assert (r.components.employment_income_pence, r.components.trading_profit_pence) == (
        35_000_00,
        4_000_00,
    )


def test_breakdown_of_an_earlier_year_lists_paye_per_employment(hmrc, creds):
    _, gw, _ = hmrc
    r = call(
        gw.GetBreakdownOfIncomeSummary,
        api.GetBreakdownOfIncomeSummaryRequest(person=identity(), tax_year="2023-24"),
        creds,
    )
    assert (r.tax_year, r.source, r.gross_income_pence) == (
        "2023-24",
        pb.INCOME_SOURCE_PAYE,
        34_000_00,
    )
    [paye] = r.employments
    assert paye.employment.employer.name == "Acme Ltd" and paye.tax_deducted_pence == 4_286_00
    empty = call(
        gw.GetBreakdownOfIncomeSummary,
        api.GetBreakdownOfIncomeSummaryRequest(person=identity(), tax_year="2016-17"),
        creds,
    )
    assert (
        empty.match.outcome == MATCHED and not empty.income_data_held
    )  # no data is an empty answer


def test_the_summary_for_a_fixture_person_from_the_shared_population(hmrc, creds):
    _, gw, _ = hmrc
    r = call(
        gw.GetSummaryOfEarnedIncome,
        api.GetSummaryOfEarnedIncomeRequest(
            person=identity("AA123456A", "Alex", "Turner", (1985, 3, 14))
        ),
        creds,
    )
    assert (r.match.outcome, r.tax_year, r.gross_income_pence) == (MATCHED, "2025-26", 31_200_00)


def test_partial_and_unknown_matches_release_no_data(hmrc, creds):
    _, gw, _ = hmrc
    partial = call(
        gw.GetSummaryOfEarnedIncome,
        api.GetSummaryOfEarnedIncomeRequest(person=identity(forenames="Morgan", dob=(1984, 7, 2))),
        creds,
    )
    assert partial.match.outcome == PARTIAL and not partial.income_data_held
    assert list(partial.match.failed_rules) == ["FORENAME_INITIAL", "DATE_OF_BIRTH"]
    unknown = call(
        gw.GetSummaryOfEarnedIncome,
        api.GetSummaryOfEarnedIncomeRequest(person=identity("ZX999999D")),
        creds,
    )
    assert unknown.match.outcome == NOT_FOUND


def test_employment_status_employer_records_and_deo_details(hmrc, creds):
    _, gw, _ = hmrc
    status = call(
        gw.GetPayingParentEmploymentStatus,
        api.GetPayingParentEmploymentStatusRequest(person=identity()),
        creds,
    )
    assert status.employment_status == pb.EMPLOYMENT_STATUS_EMPLOYED
    assert [e.employer.name for e in status.live_employments] == ["Acme Ltd"]
    assert status.self_assessment_registered and status.latest_self_employment_tax_year == "2024-25"
    records = call(
        gw.LocatePayingParentEmployerRecords,
        api.LocatePayingParentEmployerRecordsRequest(person=identity()),
        creds,
    )
    assert [e.employer.name for e in records.employments] == [
        "Acme Ltd"
    ]  # Bolt ended before last tax year
    assert records.hmrc_held_address.postcode == "LS6 2AA"
    deo = call(
        gw.GetEmploymentDetailsForDeductionFromEarnings,
        api.GetEmploymentDetailsForDeductionFromEarningsRequest(
            person=identity(), deduction_type=pb.DEDUCTION_FROM_EARNINGS_TYPE_ORDER
        ),
        creds,
    )
    [job] = deo.employments
    assert (job.employer.paye_reference, job.payroll_id, job.pay_frequency) == (
        "247/A1987CB",
        "P100",
        pb.PAY_FREQUENCY_MONTHLY,
    )
    assert not job.HasField("end_date")


def test_rti_current_income_and_unearned_income(hmrc, creds):
    _, gw, _ = hmrc
    rti = call(gw.GetRtiCurrentIncome, api.GetRtiCurrentIncomeRequest(person=identity()), creds)
    [acme] = rti.employments
    assert len(acme.payments) == 3  # monthly pay in the 13 weeks to 6 April 2026
    assert 600_00 <= rti.average_weekly_taxable_pay_pence <= 760_00  # £3,000 a month ÷ 13 weeks
    unearned = call(
        gw.GetUnearnedIncome, api.GetUnearnedIncomeRequest(person=identity()), creds
    ).unearned_income
    assert (unearned.tax_year, unearned.total_unearned_income_pence) == ("2024-25", 3_120_00)


def test_child_benefit_verification_and_end_dates(hmrc, creds):
    _, gw, _ = hmrc
    ella = pb.ChildIdentity(
        name=common.PersonName(forenames="Ella", surname="Kellaway"), date_of_birth=d(2009, 3, 2)
    )
    nobody = pb.ChildIdentity(
        name=common.PersonName(forenames="Zed", surname="Kellaway"), date_of_birth=d(2012, 1, 1)
    )
    r = call(
        gw.VerifyReceivingParentReceivingChildBenefit,
        api.VerifyReceivingParentReceivingChildBenefitRequest(
            receiving_parent=identity(), qualifying_children=[ella, nobody]
        ),
        creds,
    )
    assert r.receiving_child_benefit
    assert [c.child_match for c in r.children] == [MATCHED, NOT_FOUND]
    assert r.children[0].child.child_reference_number == "JZ100001A" and r.children[0].in_payment
    end = call(
        gw.RequestChildBenefitEndDate,
        api.RequestChildBenefitEndDateRequest(claimant=identity(), child=ella),
        creds,
    )
    assert end.child_status.approved_education_or_training_reported
    # Education reported: Child Benefit can run to the day before the 20th birthday, which HMRC already holds.
    assert (end.child_status.end_date, end.child_status.end_reason) == (
        d(2029, 3, 1),
        pb.CHILD_BENEFIT_END_REASON_REACHED_20,
    )


def test_bad_input_names_the_field(hmrc, creds):
    _, gw, _ = hmrc
    for request, method, field in [
        (
            api.GetSummaryOfEarnedIncomeRequest(person=identity("DA123456A")),
            gw.GetSummaryOfEarnedIncome,
            "person.nino",
        ),
        (
            api.GetBreakdownOfIncomeSummaryRequest(person=identity(), tax_year="2024-26"),
            gw.GetBreakdownOfIncomeSummary,
            "tax_year",
        ),
        (
            api.GetUnearnedIncomeRequest(person=identity(), tax_year="2031-32"),
            gw.GetUnearnedIncome,
            "tax_year",
        ),
        (
            api.GetUnearnedIncomeRequest(person=identity(), tax_year="2010-11"),
            gw.GetUnearnedIncome,
            "tax_year",
        ),
        (
            api.GetSummaryOfEarnedIncomeRequest(person=identity(dob=(1984, 2, 30))),
            gw.GetSummaryOfEarnedIncome,
            "person.date_of_birth",
        ),
    ]:
        with pytest.raises(grpc.RpcError) as err:
            call(method, request, creds)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, field
        assert field in violated_fields(err.value)


def test_deceased_and_restricted_records_need_clerical_handling(hmrc, creds, scripted_person):
    _, gw, scenario = hmrc
    admin_call(
        scenario.ApplyLifeEvent,
        sc.ApplyLifeEventRequest(
            request_id=str(uuid.uuid4()), nino=NINO, effective_date=d(2026, 3, 1), death=sc.Death()
        ),
        creds,
    )
    with pytest.raises(grpc.RpcError) as err:
        call(
            gw.GetSummaryOfEarnedIncome,
            api.GetSummaryOfEarnedIncomeRequest(person=identity()),
            creds,
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = details_of(err.value)["ErrorInfo"]
    assert info.reason == "PERSON_DECEASED" and info.metadata["date_of_death"] == "2026-03-01"
    admin_call(
        scenario.UpsertPerson,
        sc.UpsertPersonRequest(
            request_id=str(uuid.uuid4()), person=scripted_person("JK654321C", restricted=True)
        ),
        creds,
    )
    with pytest.raises(grpc.RpcError) as err:
        call(
            gw.GetSummaryOfEarnedIncome,
            api.GetSummaryOfEarnedIncomeRequest(person=identity("JK654321C")),
            creds,
        )
    assert details_of(err.value)["ErrorInfo"].reason == "RECORD_RESTRICTED"


def test_every_enquiry_is_audited_with_the_case(hmrc, creds):
    service, gw, _ = hmrc
    call(
        gw.GetSummaryOfEarnedIncome,
        api.GetSummaryOfEarnedIncomeRequest(
            person=identity(),
            context=pb.EnquiryContext(case_id="case-77", service_request_id="sr-1"),
        ),
        creds,
    )
    with service.sessions() as s:
        rows = s.query(AuditRecord).filter_by(case_id="case-77").all()
    assert [(r.interface, r.nino, r.outcome, r.service_request_id) for r in rows] == [
        ("GetSummaryOfEarnedIncome", NINO, "MATCHED", "sr-1")
    ]
    assert "Child Support Act 1991 s14" in rows[0].legal_basis and rows[0].caller.startswith(
        "staff"
    )


def test_throttling_and_maintenance(start_service, creds, clock):
    import datetime as dt

    _, channel = start_service(
        HmrcGatewayService,
        db_name="hmrc-throttle",
        population_size=1000,
        throttle_requests_per_second=3,
        throttle_burst=3,
        maintenance_windows=[
            (clock.now() + dt.timedelta(hours=1), clock.now() + dt.timedelta(hours=3))
        ],
    )
    gw = api_grpc.HmrcGatewayServiceStub(channel)
    request = api.GetSummaryOfEarnedIncomeRequest(
        person=identity("AA123456A", "Alex", "Turner", (1985, 3, 14))
    )
    codes = []
    for _ in range(5):
        try:
            call(gw.GetSummaryOfEarnedIncome, request, creds)
            codes.append("OK")
        except grpc.RpcError as err:
            codes.append(err.code().name)
            assert details_of(err)["ErrorInfo"].reason == "MESSAGE_THROTTLED_OUT"
            assert details_of(err)["RetryInfo"].retry_delay.ToTimedelta().total_seconds() > 0
    assert codes[:3] == ["OK"] * 3 and "RESOURCE_EXHAUSTED" in codes[3:]
    clock.advance(dt.timedelta(hours=2))
    with pytest.raises(grpc.RpcError) as err:
        call(gw.GetSummaryOfEarnedIncome, request, creds)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert details_of(err.value)["ErrorInfo"].reason == "SCHEDULED_MAINTENANCE"


def test_monthly_child_benefit_check_answers_every_item_and_survives_bad_ones(hmrc, creds):
    _, gw, _ = hmrc
    ella = pb.ChildIdentity(
        name=common.PersonName(forenames="Ella", surname="Kellaway"), date_of_birth=d(2009, 3, 2)
    )
    items = [
        api.ChildBenefitCheckItem(item_id=f"i{n}", case_id=f"c{n}", claimant=identity(), child=ella)
        for n in range(50)
    ]
    items.insert(
        10,
        api.ChildBenefitCheckItem(item_id="bad", case_id="c", claimant=identity("XX1"), child=ella),
    )
    batches = [
        api.RunMonthlyChildBenefitCheckRequest(run_id="chb-2026-04", items=items[:20]),
        api.RunMonthlyChildBenefitCheckRequest(run_id="chb-2026-04", items=items[20:]),
    ]
    responses = list(
        gw.RunMonthlyChildBenefitCheck(
            iter(batches), metadata=creds.service("casework"), timeout=30
        )
    )
    answers = [r for response in responses for r in response.results]
    assert [len(r.results) for r in responses] == [20, 31]
    assert [a.item_id for a in answers] == [i.item_id for i in items]
    bad = answers[10]
    assert (
        bad.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
        and "claimant.nino" in bad.error.message
    )
    assert all(a.child_status.in_payment for a in answers if a.item_id != "bad")
    with pytest.raises(
        grpc.RpcError
    ) as err:  # an empty batch is the client's mistake, not an item's
        list(
            gw.RunMonthlyChildBenefitCheck(
                iter([api.RunMonthlyChildBenefitCheckRequest(run_id="r")]),
                metadata=creds.service("casework"),
                timeout=30,
            )
        )
    assert violated_fields(err.value) == ["items"]


# -- interests and feeds (real broker) ----------------------------------------------------------------------------


def test_a_verification_too_long_for_the_deadline_is_refused_not_answered_late(
    hmrc, creds, monkeypatch
):
    """One status per child or none: when the call's deadline leaves too little time, the gateway refuses
    (RESOURCE_EXHAUSTED, DEADLINE_TOO_SHORT) instead of working on past it. The deadline is made short by
    asking for more margin than the call has, rather than by timing."""
    from cms_platform import calls

    _, gw, _ = hmrc
    ella = pb.ChildIdentity(
        name=common.PersonName(forenames="Ella", surname="Kellaway"), date_of_birth=d(2009, 3, 2)
    )
    request = api.VerifyReceivingParentReceivingChildBenefitRequest(
        receiving_parent=identity(), qualifying_children=[ella] * 3
    )
    monkeypatch.setattr(calls, "ANSWER_MARGIN_SECONDS", 3600.0)
    with pytest.raises(grpc.RpcError) as err:
        call(gw.VerifyReceivingParentReceivingChildBenefit, request, creds)  # a 10 s deadline
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert details_of(err.value)["ErrorInfo"].reason == "DEADLINE_TOO_SHORT"
    assert "Ella" not in (err.value.details() or "")
    # Without a deadline nothing is cut short.
    whole = gw.VerifyReceivingParentReceivingChildBenefit(request, metadata=creds.staff())
    assert len(whole.children) == 3
