"""hmrc-gateway through its real gRPC servers (port 0), a real database and, for the feeds, a real broker.

People are scripted through the scenario admin service (as tests and demos are meant to), so every figure below
is known; the generated population is exercised in libs/platform/tests/test_population.py.
The business clock is 6 April 2026 (tax year 2025-26 has just ended).
"""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.type import date_pb2

from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import events_pb2 as ev
from cms.hmrc.v1 import hmrc_scenario_service_pb2 as sc
from cms.hmrc.v1 import hmrc_scenario_service_pb2_grpc as sc_grpc
from cms.hmrc.v1 import hmrc_service_pb2 as api
from cms.hmrc.v1 import hmrc_service_pb2_grpc as api_grpc
from cms.hmrc.v1 import resources_pb2 as pb
from cms_devkit.testing import read_topic
from cms_hmrc_gateway.app import HmrcGatewayService
from cms_hmrc_gateway.audit import AuditRecord
from cms_hmrc_gateway.interests import flows as feeds
from cms_platform import events
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


def employer(name: str, ref: str) -> pb.Employer:
    return pb.Employer(
        name=name,
        paye_reference=ref,
        telephone_number="0161 496 0000",
        address=common.Address(lines=["1 Mill Street"], post_town="Leeds", postcode="LS1 4AB"),
    )


def scripted_person(nino: str = NINO, **kw) -> sc.SimulatedPerson:
    """Employed at Acme (£36,000 a year, monthly) since 2019, an ended job at Bolt, PAYE for 2023-24, a Self
    Assessment return for 2024-25 (which wins), unearned income, and a Child Benefit award with two children."""
    person = sc.SimulatedPerson(
        identity=identity(nino),
        address=common.Address(lines=["4 Park Road"], post_town="Leeds", postcode="LS6 2AA"),
        self_assessment_utr="1234567890",
        employments=[
            sc.SimulatedEmployment(
                employment=pb.Employment(
                    employment_id="acme",
                    employer=employer("Acme Ltd", "247/A1987CB"),
                    payroll_id="P100",
                    start_date=d(2019, 5, 1),
                    pay_frequency=pb.PAY_FREQUENCY_MONTHLY,
                ),
                annual_taxable_pay_pence=36_000_00,
            ),
            sc.SimulatedEmployment(
                employment=pb.Employment(
                    employment_id="bolt",
                    employer=employer("Bolt plc", "123/B55"),
                    payroll_id="B7",
                    start_date=d(2015, 1, 5),
                    end_date=d(2019, 4, 30),
                    pay_frequency=pb.PAY_FREQUENCY_WEEKLY,
                ),
                annual_taxable_pay_pence=20_000_00,
            ),
        ],
        tax_years=[
            sc.SimulatedTaxYear(
                tax_year="2023-24",
                paye_income=[
                    sc.SimulatedPayeIncome(
                        paye_reference="247/A1987CB",
                        payroll_id="P100",
                        taxable_pay_pence=34_000_00,
                        tax_deducted_pence=4_286_00,
                    )
                ],
            ),
            sc.SimulatedTaxYear(
                tax_year="2024-25",
                paye_income=[
                    sc.SimulatedPayeIncome(
                        paye_reference="247/A1987CB", payroll_id="P100", taxable_pay_pence=35_000_00
                    )
                ],
                self_assessment=pb.SelfAssessmentIncomeBreakdown(
                    return_received_date=d(2025, 10, 12),
                    employment_income_pence=35_000_00,
                    self_employment_profit_pence=4_000_00,
                ),
                unearned_income=pb.UnearnedIncome(
                    tax_year="2024-25",
                    self_assessment_return_filed=True,
                    uk_property_profit_pence=3_000_00,
                    savings_interest_pence=120_00,
                ),
            ),
        ],
        child_benefit=sc.SimulatedChildBenefitAward(
            child_benefit_reference="CHB12345678AB",
            award_start_date=d(2009, 9, 1),
            children=[
                sc.SimulatedChild(
                    identity=pb.ChildIdentity(
                        name=common.PersonName(forenames="Ella", surname="Kellaway"),
                        date_of_birth=d(2009, 3, 2),
                        child_reference_number="JZ100001A",
                    ),
                    relationship_start_date=d(2009, 3, 20),
                    approved_education_or_training_reported=True,
                ),
                sc.SimulatedChild(
                    identity=pb.ChildIdentity(
                        name=common.PersonName(forenames="Sam", surname="Kellaway"),
                        date_of_birth=d(2014, 6, 9),
                        child_reference_number="JZ100002A",
                    ),
                    relationship_start_date=d(2014, 6, 20),
                ),
            ],
        ),
    )
    for k, v in kw.items():
        setattr(person, k, v)
    return person


@pytest.fixture
def hmrc(start_service, creds):
    service, channel = start_service(
        HmrcGatewayService, population_size=10_000, feed_check_interval_seconds=0
    )
    gateway, scenario = (
        api_grpc.HmrcGatewayServiceStub(channel),
        sc_grpc.HmrcScenarioServiceStub(channel),
    )
    scenario.UpsertPerson(
        sc.UpsertPersonRequest(request_id=str(uuid.uuid4()), person=scripted_person()),
        metadata=creds.staff(),
        timeout=10,
    )
    return service, gateway, scenario


def call(stub_method, request, creds):
    return stub_method(request, metadata=creds.staff(), timeout=10)


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


def test_deceased_and_restricted_records_need_clerical_handling(hmrc, creds):
    _, gw, scenario = hmrc
    call(
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
    call(
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
        gw.RunMonthlyChildBenefitCheck(iter(batches), metadata=creds.staff(), timeout=30)
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
                metadata=creds.staff(),
                timeout=30,
            )
        )
    assert violated_fields(err.value) == ["items"]


# -- interests and feeds (real broker) ----------------------------------------------------------------------------


@pytest.fixture
def hmrc_with_broker(start_service, creds, kafka_bootstrap):
    service, channel = start_service(
        HmrcGatewayService,
        db_name="hmrc-feeds",
        kafka=kafka_bootstrap,
        population_size=10_000,
        feed_check_interval_seconds=0,
    )
    gateway, scenario = (
        api_grpc.HmrcGatewayServiceStub(channel),
        sc_grpc.HmrcScenarioServiceStub(channel),
    )
    for nino in (NINO, "JK222222C"):
        call(
            scenario.UpsertPerson,
            sc.UpsertPersonRequest(request_id=str(uuid.uuid4()), person=scripted_person(nino)),
            creds,
        )
    return service, gateway, scenario, kafka_bootstrap


def _events(bootstrap: str, expected: int, timeout: float = 20.0) -> list[tuple[str, object]]:
    """This suite's events: its cases are named "case-…" (other suites' cases, e.g. casework's, share the broker)."""
    types = events.by_type(events.declared_in(ev))
    out = []
    for record in read_topic(bootstrap, "cms.hmrc.events.v1", expected, timeout):
        headers = {k: v.decode() for k, v in record.headers}
        event = types[headers["ce_type"]].FromString(record.value)
        if event.case_id.startswith("case-"):
            out.append((headers["ce_id"], event))
    return out


def test_feeds_publish_only_for_interested_cases(hmrc_with_broker, creds):
    service, gw, scenario, bootstrap = hmrc_with_broker

    def register(nino, case_id, interest_type, **params):
        return call(
            gw.RegisterInterest,
            api.RegisterInterestRequest(
                request_id=str(uuid.uuid4()),
                person=identity(nino),
                case_id=case_id,
                interest_type=interest_type,
                **params,
            ),
            creds,
        )

    deo = register(
        NINO,
        "case-1",
        pb.INTEREST_TYPE_DEDUCTION_FROM_EARNINGS,
        deduction_from_earnings=pb.DeductionFromEarningsParameters(
            deduction_type=pb.DEDUCTION_FROM_EARNINGS_TYPE_ORDER
        ),
    )
    assert deo.match.outcome == MATCHED and deo.interest.state == pb.INTEREST_STATE_ACTIVE
    register(
        NINO,
        "case-1",
        pb.INTEREST_TYPE_RTI_CURRENT_INCOME,
        rti_current_income=pb.RtiCurrentIncomeParameters(baseline_weekly_income_pence=690_00),
    )
    with pytest.raises(grpc.RpcError) as err:  # the same interest again under a new request id
        register(NINO, "case-1", pb.INTEREST_TYPE_RTI_CURRENT_INCOME)
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    removed = register(
        "JK222222C",
        "case-2",
        pb.INTEREST_TYPE_DEDUCTION_FROM_EARNINGS,
        deduction_from_earnings=pb.DeductionFromEarningsParameters(
            deduction_type=pb.DEDUCTION_FROM_EARNINGS_TYPE_ORDER
        ),
    )
    call(
        gw.RemoveInterest,
        api.RemoveInterestRequest(
            request_id=str(uuid.uuid4()), interest_id=removed.interest.interest_id
        ),
        creds,
    )

    # A pay rise of 50% from 1 January and, for the other person (no active interest), a job loss.
    rise = call(
        scenario.ApplyLifeEvent,
        sc.ApplyLifeEventRequest(
            request_id=str(uuid.uuid4()),
            nino=NINO,
            effective_date=d(2026, 1, 1),
            pay_change=sc.PayChange(employment_id="acme", new_annual_taxable_pay_pence=54_000_00),
        ),
        creds,
    )
    quiet = call(
        scenario.ApplyLifeEvent,
        sc.ApplyLifeEventRequest(
            request_id=str(uuid.uuid4()),
            nino="JK222222C",
            effective_date=d(2026, 3, 31),
            job_loss=sc.JobLoss(employment_id="acme"),
        ),
        creds,
    )
    assert quiet.queued_events == []  # no interest, no broadcast
    lost = call(
        scenario.ApplyLifeEvent,
        sc.ApplyLifeEventRequest(
            request_id=str(uuid.uuid4()),
            nino=NINO,
            effective_date=d(2026, 4, 1),
            job_loss=sc.JobLoss(employment_id="acme"),
        ),
        creds,
    )
    assert [q.event_type.rsplit(".", 2)[-2] for q in rise.queued_events] == [
        "rti_current_income_changed"
    ]
    assert "deo_employment_changed" in [q.event_type.rsplit(".", 2)[-2] for q in lost.queued_events]

    events = _events(bootstrap, expected=5)
    kinds = [type(e).__name__ for _, e in events]
    # employer details for each case as its DEO interest started ...
    assert sorted(
        e.case_id
        for _, e in events
        if isinstance(e, ev.DeductionFromEarningsEmployerDetailsProvided)
    ) == ["case-1", "case-2"]
    assert kinds.count("RtiCurrentIncomeChanged") >= 1 and kinds.count("DeoEmploymentChanged") == 1
    # ... and nothing more for case-2 once its interest was removed, although its person lost their job
    assert all(
        e.case_id == "case-1"
        for _, e in events
        if not isinstance(e, ev.DeductionFromEarningsEmployerDetailsProvided)
    )
    assert len({ce_id for ce_id, _ in events}) == len(events)
    changed = next(e for _, e in events if isinstance(e, ev.DeoEmploymentChanged))
    assert (
        changed.change_kind == ev.EMPLOYMENT_CHANGE_KIND_EMPLOYMENT_ENDED
        and changed.change_date == d(2026, 4, 1)
    )
    rti = next(e for _, e in events if isinstance(e, ev.RtiCurrentIncomeChanged))
    assert rti.change_basis_points >= 2500 and rti.previous_weekly_income_pence == 690_00


def test_annual_income_and_child_benefit_feeds_follow_the_clock(hmrc_with_broker, creds, clock):
    import datetime as dt

    service, gw, scenario, bootstrap = hmrc_with_broker
    call(
        gw.RegisterInterest,
        api.RegisterInterestRequest(
            request_id=str(uuid.uuid4()),
            person=identity(),
            case_id="case-9",
            interest_type=pb.INTEREST_TYPE_ANNUAL_INCOME_UPDATE,
            annual_income_update=pb.AnnualIncomeUpdateParameters(annual_review_date=d(2024, 5, 20)),
        ),
        creds,
    )
    call(
        gw.RegisterInterest,
        api.RegisterInterestRequest(
            request_id=str(uuid.uuid4()),
            person=identity(),
            case_id="case-9",
            interest_type=pb.INTEREST_TYPE_CHILD_BENEFIT_END_DATE,
        ),
        creds,
    )
    assert (
        feeds.run_due(sessions=service.sessions, hmrc=service.hmrc, clock=clock) == 0
    )  # due from 20 April
    clock.advance(dt.timedelta(days=14))  # 20 April 2026: 30 days before the 20 May anniversary
    assert feeds.run_due(sessions=service.sessions, hmrc=service.hmrc, clock=clock) == 1
    assert (
        feeds.run_due(sessions=service.sessions, hmrc=service.hmrc, clock=clock) == 0
    )  # once only
    ella = pb.ChildIdentity(
        name=common.PersonName(forenames="Ella", surname="Kellaway"), date_of_birth=d(2009, 3, 2)
    )
    call(
        scenario.ApplyLifeEvent,
        sc.ApplyLifeEventRequest(
            request_id=str(uuid.uuid4()),
            nino=NINO,
            effective_date=d(2026, 4, 15),
            child_leaves_education=sc.ChildLeavesEducation(child=ella),
        ),
        creds,
    )
    events = [e for _, e in _events(bootstrap, expected=2)]
    annual = next(e for e in events if isinstance(e, ev.AnnualIncomeUpdated))
    assert (annual.annual_review_date, annual.tax_year, annual.gross_income_pence) == (
        d(2026, 5, 20),
        "2024-25",
        39_000_00,
    )
    ended = next(e for e in events if isinstance(e, ev.ChildBenefitEndDateNotified))
    assert ended.child_status.end_date == d(2026, 5, 31)  # the next quarter-end terminal date
    assert ended.child_status.end_reason == pb.CHILD_BENEFIT_END_REASON_LEFT_APPROVED_EDUCATION


def test_feeds_survive_a_broker_that_restarts_empty(start_service, creds, clock):
    """Tansu keeps messages in memory: a restart loses them. Events queued while the broker is down are sent when it
    is back, and `replay-outbox` re-sends what the broker lost; every copy carries its CloudEvents id, so an
    idempotent consumer group applies each event once."""
    import datetime as dt
    import time

    from cms_devkit import infra
    from cms_platform import outbox
    from cms_platform.models import OutboxEvent

    port = infra.free_port()
    broker = infra.start_tansu(port)
    try:
        service, channel = start_service(
            HmrcGatewayService,
            db_name="hmrc-restart",
            kafka=broker.bootstrap,
            population_size=10_000,
            feed_check_interval_seconds=0,
        )
        gw, scenario = (
            api_grpc.HmrcGatewayServiceStub(channel),
            sc_grpc.HmrcScenarioServiceStub(channel),
        )
        call(
            scenario.UpsertPerson,
            sc.UpsertPersonRequest(request_id=str(uuid.uuid4()), person=scripted_person()),
            creds,
        )
        call(
            gw.RegisterInterest,
            api.RegisterInterestRequest(
                request_id=str(uuid.uuid4()),
                person=identity(),
                case_id="case-r",
                interest_type=pb.INTEREST_TYPE_DEDUCTION_FROM_EARNINGS,
                deduction_from_earnings=pb.DeductionFromEarningsParameters(
                    deduction_type=pb.DEDUCTION_FROM_EARNINGS_TYPE_ORDER
                ),
            ),
            creds,
        )
        before = _events(broker.bootstrap, expected=1)
        assert len(before) == 1

        broker.stop()  # the broker and everything it held are gone
        call(
            scenario.ApplyLifeEvent,
            sc.ApplyLifeEventRequest(
                request_id=str(uuid.uuid4()),
                nino=NINO,
                effective_date=d(2026, 4, 1),
                job_loss=sc.JobLoss(employment_id="acme"),
            ),
            creds,
        )
        time.sleep(1)
        with service.sessions() as s:  # queued, not lost, while nothing can take it
            assert s.query(OutboxEvent).filter(OutboxEvent.published_at.is_(None)).count() == 1

        broker = infra.start_tansu(port)
        assert outbox.replay(service.sessions, since=clock.now() - dt.timedelta(days=1)) >= 1
        after = _events(broker.bootstrap, expected=2, timeout=40)
        ids = [ce_id for ce_id, _ in after]
        assert set(ids) == {before[0][0]} | {
            ce_id for ce_id, e in after if isinstance(e, ev.DeoEmploymentChanged)
        }
        assert (
            len(set(ids)) == 2
        )  # the lost event and the one queued while down, each under its own id
    finally:
        broker.stop()
