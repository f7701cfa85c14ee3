"""Deductions from benefit through the real gRPC server and database, by all three routes (CMS procedures;
docs/domain/money.md §9), JCP's automated route from casework's CaseCalculated included. Fixtures: Ryan Doherty
AH567890B on UC without earnings, Dana Whitfield AE456789D on income-based JSA, Alex Turner AA123456A given a State
Pension award by the scenario service. Business clock: 6 April 2026."""

from __future__ import annotations

import io
import uuid

import grpc
import pytest
from google.type import date_pb2

from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_scenario_service_pb2 as sc
from cms.dwp.v1 import dwp_scenario_service_pb2_grpc as sc_grpc
from cms.dwp.v1 import dwp_service_pb2 as api
from cms.dwp.v1 import dwp_service_pb2_grpc as api_grpc
from cms.dwp.v1 import events_pb2 as ev
from cms.dwp.v1 import resources_pb2 as pb
from cms_dwp_gateway.app import DwpGatewayService
from cms_platform.grpc_errors import details_of, violated_fields
from cms_platform.models import OutboxEvent
from cms_simulation.population import ids


def d(y, m, day):
    return date_pb2.Date(year=y, month=m, day=day)


@pytest.fixture
def dwp(start_service, creds):
    service, channel = start_service(DwpGatewayService)
    gw, scenario = api_grpc.DwpGatewayServiceStub(channel), sc_grpc.DwpScenarioServiceStub(channel)
    return (
        service,
        (lambda m, r: getattr(gw, m)(r, metadata=creds.staff(), timeout=10)),
        (
            lambda m, r: getattr(scenario, m)(
                r, metadata=creds.staff("scenario-admin", "scenario_admin"), timeout=10
            )
        ),
    )


def set_up(call, case_id, nino, benefit, kind=pb.DEDUCTION_TYPE_STANDARD_FLAT_RATE, **kw):
    return call(
        "SetUpDeduction",
        api.SetUpDeductionRequest(
            request_id=str(uuid.uuid4()),
            case_id=case_id,
            paying_parent_nino=nino,
            benefit_type=benefit,
            deduction_type=kind,
            effective_date=d(2026, 4, 6),
            **kw,
        ),
    )


def events(service, cls):
    with service.sessions() as s:
        rows = s.query(OutboxEvent).order_by(OutboxEvent.id).all()
    found = [r for r in rows if r.data_schema == cls.DESCRIPTOR.full_name]
    for r in found:  # keyed by the deduction's resource name
        assert r.partition_key == f"deductions/{cls.FromString(r.payload).deduction_id}"
    return [cls.FromString(r.payload) for r in found]


def test_interface_route_from_universal_credit_is_decided_in_jcps_batch(dwp):
    service, call, scenario = dwp
    deduction = set_up(call, "case-uc", "AH567890B", pb.BENEFIT_TYPE_UNIVERSAL_CREDIT)
    assert (deduction.route, deduction.state) == (
        pb.DEDUCTION_ROUTE_INTERFACE,
        pb.DEDUCTION_STATE_AWAITING_DECISION,
    )
    terms = deduction.pending_instruction.requested_terms
    assert terms.deduction_amount.amount_pence == 36_40  # £8.40 a week as a UC month
    assert terms.maintenance_pence + terms.collection_fee_pence == 36_40
    ran = scenario("RunDueBatches", sc.RunDueBatchesRequest(request_id=str(uuid.uuid4())))
    assert list(ran.decided_deduction_ids) == [deduction.deduction_id]
    decided = call("GetDeduction", api.GetDeductionRequest(deduction_id=deduction.deduction_id))
    assert (
        decided.state == pb.DEDUCTION_STATE_ACTIVE
        and decided.current_terms.deduction_amount.amount_pence == 36_40
    )
    [requested] = events(service, ev.DeductionRequested)
    [made] = events(service, ev.DeductionDecisionMade)
    assert requested.instruction.route == pb.DEDUCTION_ROUTE_INTERFACE
    assert (
        made.decision.outcome == pb.DEDUCTION_OUTCOME_ACCEPTED
        and made.state == pb.DEDUCTION_STATE_ACTIVE
    )
    with pytest.raises(grpc.RpcError) as err:  # one benefit at a time
        set_up(call, "case-uc", "AH567890B", pb.BENEFIT_TYPE_UNIVERSAL_CREDIT)
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.RpcError) as err:  # the regulations fix a standard flat rate
        call(
            "ChangeDeductionAmount",
            api.ChangeDeductionAmountRequest(
                request_id=str(uuid.uuid4()),
                deduction_id=deduction.deduction_id,
                weekly_liability_pence=5_00,
                effective_date=d(2026, 5, 1),
            ),
        )
    assert details_of(err.value)["ErrorInfo"].reason == "AMOUNT_FIXED_BY_RULES"
    cancelled = call(
        "CancelDeduction",
        api.CancelDeductionRequest(
            request_id=str(uuid.uuid4()),
            deduction_id=deduction.deduction_id,
            effective_date=d(2026, 6, 1),
            reason=pb.DEDUCTION_CANCELLATION_REASON_LIABILITY_ENDED,
        ),
    )
    assert (
        cancelled.state == pb.DEDUCTION_STATE_CANCELLED
        and cancelled.current_terms.end_date == d(2026, 5, 31)
    )
    [ended] = events(service, ev.DeductionEnded)
    assert ended.end_reason == pb.DEDUCTION_END_REASON_CANCELLED_BY_CMS


def test_automated_route_needs_the_cis_interest_and_a_suspended_award_is_rejected(dwp):
    service, call, scenario = dwp
    with pytest.raises(grpc.RpcError) as err:
        set_up(call, "case-jsa", "AE456789D", pb.BENEFIT_TYPE_JOBSEEKERS_ALLOWANCE_INCOME_BASED)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details_of(err.value)["ErrorInfo"].reason == "INTEREST_NOT_REGISTERED"
    call(
        "RegisterInterest",
        api.RegisterInterestRequest(
            request_id=str(uuid.uuid4()),
            nino="AE456789D",
            case_id="case-jsa",
            role=pb.CASE_ROLE_PAYING_PARENT,
        ),
    )
    deduction = set_up(
        call, "case-jsa", "AE456789D", pb.BENEFIT_TYPE_JOBSEEKERS_ALLOWANCE_INCOME_BASED
    )
    assert deduction.route == pb.DEDUCTION_ROUTE_AUTOMATED
    assert (
        deduction.pending_instruction.requested_terms.deduction_amount.amount_pence == 16_80
    )  # fortnightly
    scenario(
        "SuspendBenefitAward",
        sc.SuspendBenefitAwardRequest(
            request_id=str(uuid.uuid4()),
            award_id=ids.award_id("AE456789D", "B", 1),
            start_date=d(2026, 4, 1),
            reason="FAILED_TO_ATTEND",
        ),
    )
    decided = scenario(
        "DecidePendingDeduction",
        sc.DecidePendingDeductionRequest(
            request_id=str(uuid.uuid4()), deduction_id=deduction.deduction_id
        ),
    )
    assert decided.state == pb.DEDUCTION_STATE_REJECTED
    assert decided.decisions[-1].rejection_reason == pb.DEDUCTION_REJECTION_REASON_AWARD_SUSPENDED


def test_non_automated_route_prints_a_form_and_takes_the_clerical_decision(dwp):
    from pypdf import PdfReader

    service, call, scenario = dwp
    scenario(
        "StartBenefitAward",
        sc.StartBenefitAwardRequest(
            request_id=str(uuid.uuid4()),
            nino="AA123456A",
            benefit_type=pb.BENEFIT_TYPE_STATE_PENSION,
            start_date=d(2026, 1, 1),
            amount=common.PeriodicAmount(
                frequency=common.PAYMENT_FREQUENCY_FOUR_WEEKLY, amount_pence=921_00
            ),
        ),
    )
    deduction = set_up(call, "case-sp", "AA123456A", pb.BENEFIT_TYPE_STATE_PENSION)
    assert deduction.state == pb.DEDUCTION_STATE_AWAITING_CLERICAL_DECISION
    reference = deduction.pending_instruction.form_reference
    form = call(
        "GetDeductionRequestForm",
        api.GetDeductionRequestFormRequest(deduction_id=deduction.deduction_id),
    )
    assert form.content_type == "application/pdf" and form.form_reference == reference
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(form.pdf_content)).pages)
    for field in (
        "case-sp",
        "Alex Turner",
        "AA123456A",
        "State Pension",
        "£33.60",
        reference,
        "06 April 2026",
    ):
        assert field in text, field
    with pytest.raises(grpc.RpcError) as err:  # the decision must quote the form
        call(
            "RecordNonAutomatedDeductionDecision",
            api.RecordNonAutomatedDeductionDecisionRequest(
                request_id=str(uuid.uuid4()),
                deduction_id=deduction.deduction_id,
                form_reference="WRONG",
                outcome=pb.DEDUCTION_OUTCOME_ACCEPTED,
                decision_date=d(2026, 4, 20),
                decided_by="Pension Centre",
            ),
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.RpcError) as err:
        call(
            "RecordNonAutomatedDeductionDecision",
            api.RecordNonAutomatedDeductionDecisionRequest(
                request_id=str(uuid.uuid4()),
                deduction_id=deduction.deduction_id,
                form_reference=reference,
                outcome=pb.DEDUCTION_OUTCOME_ACCEPTED,
                decision_date=d(2026, 4, 20),
                decided_by="Pension Centre",
            ),
        )
    assert set(violated_fields(err.value)) == {"deduction_amount", "start_date"}
    accepted = call(
        "RecordNonAutomatedDeductionDecision",
        api.RecordNonAutomatedDeductionDecisionRequest(
            request_id=str(uuid.uuid4()),
            deduction_id=deduction.deduction_id,
            form_reference=reference,
            outcome=pb.DEDUCTION_OUTCOME_ACCEPTED,
            decision_date=d(2026, 4, 20),
            decided_by="Pension Centre",
            deduction_amount=common.PeriodicAmount(
                frequency=common.PAYMENT_FREQUENCY_FOUR_WEEKLY, amount_pence=33_60
            ),
            start_date=d(2026, 5, 4),
        ),
    )
    assert accepted.state == pb.DEDUCTION_STATE_ACTIVE and accepted.current_terms.start_date == d(
        2026, 5, 4
    )
    [made] = events(service, ev.DeductionDecisionMade)
    assert (
        made.decision.decided_by == "Pension Centre"
        and made.decision.route == pb.DEDUCTION_ROUTE_NON_AUTOMATED
    )


def test_set_up_refusals_name_the_reason_or_field(dwp):
    _, call, _ = dwp
    for benefit, reason in [
        (pb.BENEFIT_TYPE_INCOME_SUPPORT, "NO_QUALIFYING_BENEFIT"),
        (pb.BENEFIT_TYPE_PERSONAL_INDEPENDENCE_PAYMENT, "BENEFIT_NOT_DEDUCTIBLE"),
    ]:
        with pytest.raises(grpc.RpcError) as err:
            set_up(call, "case-x", "AA123456A", benefit)
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert details_of(err.value)["ErrorInfo"].reason == reason
    with pytest.raises(grpc.RpcError) as err:
        set_up(
            call,
            "case-x",
            "AH567890B",
            pb.BENEFIT_TYPE_UNIVERSAL_CREDIT,
            kind=pb.DEDUCTION_TYPE_NON_STANDARD_FLAT_RATE,
        )
    assert violated_fields(err.value) == ["weekly_liability_pence"]
    with pytest.raises(grpc.RpcError) as err:
        call("ListDeductions", api.ListDeductionsRequest())
    assert violated_fields(err.value) == ["case_id"]


def test_automated_route_jcp_picks_up_a_flat_rate_calculation_through_the_interest(
    start_service, creds, kafka_bootstrap
):
    """Route (a): casework's CaseCalculated with the standard flat rate, read from the real broker, becomes a
    deduction on the automated route — only for a case whose paying parent has the CIS interest."""
    import datetime as dt

    from kafka import KafkaProducer

    from cms.casework.v1 import events_pb2 as casework_events
    from cms_devkit.testing import wait_until
    from cms_platform.cloudevents import Envelope, to_kafka_headers
    from cms_platform.service import ensure_topics

    service, channel = start_service(
        DwpGatewayService, db_name="dwp-automated", kafka=kafka_bootstrap
    )
    gw = api_grpc.DwpGatewayServiceStub(channel)
    gw.RegisterInterest(
        api.RegisterInterestRequest(
            request_id=str(uuid.uuid4()),
            nino="AE456789D",
            case_id="case-a",
            role=pb.CASE_ROLE_PAYING_PARENT,
        ),
        metadata=creds.staff(),
        timeout=5,
    )
    ensure_topics(kafka_bootstrap, ["cms.casework.events.v1"])
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    for case_id, nino in (
        ("case-a", "AE456789D"),
        ("case-b", "AH567890B"),
    ):  # case-b: no interest, UC anyway
        event = casework_events.CaseCalculated(
            case_id=case_id,
            calculation=f"calculations/{case_id}",
            rate="FLAT",
            weekly_amount_pence=700,
            paying_parent_nino=nino,
            effective_date=d(2026, 4, 6),
        )
        env = Envelope(
            id=str(uuid.uuid4()),
            type="uk.gov.cms.casework.case.calculated.v1",
            source="/cms/casework",
            subject=f"cases/{case_id}",
            time=dt.datetime(2026, 4, 6, tzinfo=dt.UTC),
            dataschema=event.DESCRIPTOR.full_name,
            partitionkey=f"cases/{case_id}",
            data=event.SerializeToString(),
        )
        producer.send(
            "cms.casework.events.v1",
            key=env.partitionkey.encode(),
            value=env.data,
            headers=to_kafka_headers(env),
        ).get(timeout=20)
    producer.close()

    def picked_up():
        found = gw.ListDeductions(
            api.ListDeductionsRequest(case_id="case-a"), metadata=creds.staff(), timeout=5
        )
        return found.deductions[0] if found.deductions else None

    deduction = wait_until(picked_up, timeout=40, what="JCP to pick up the flat-rate case")
    assert (deduction.route, deduction.origin) == (
        pb.DEDUCTION_ROUTE_AUTOMATED,
        pb.DEDUCTION_ORIGIN_CASE_CALCULATED,
    )
    assert deduction.calculation_id == "calculations/case-a"
    assert not gw.ListDeductions(
        api.ListDeductionsRequest(case_id="case-b"), metadata=creds.staff(), timeout=5
    ).deductions


def test_a_non_standard_amount_changes_after_a_new_decision_and_an_ended_award_ends_the_deduction(
    dwp,
):
    service, call, scenario = dwp
    deduction = set_up(
        call,
        "case-ns",
        "AH567890B",
        pb.BENEFIT_TYPE_UNIVERSAL_CREDIT,
        kind=pb.DEDUCTION_TYPE_NON_STANDARD_FLAT_RATE,
        weekly_liability_pence=3_50,
    )
    scenario("RunDueBatches", sc.RunDueBatchesRequest(request_id=str(uuid.uuid4())))
    active = call("GetDeduction", api.GetDeductionRequest(deduction_id=deduction.deduction_id))
    assert active.current_terms.deduction_amount.amount_pence == 18_20  # (£3.50 + 20%) × 52 ÷ 12
    changing = call(
        "ChangeDeductionAmount",
        api.ChangeDeductionAmountRequest(
            request_id=str(uuid.uuid4()),
            deduction_id=deduction.deduction_id,
            weekly_liability_pence=5_00,
            effective_date=d(2026, 5, 1),
        ),
    )
    assert (
        changing.state == pb.DEDUCTION_STATE_ACTIVE
        and changing.current_terms.deduction_amount.amount_pence == 18_20
    )
    scenario("RunDueBatches", sc.RunDueBatchesRequest(request_id=str(uuid.uuid4())))
    changed = call("GetDeduction", api.GetDeductionRequest(deduction_id=deduction.deduction_id))
    assert changed.current_terms.deduction_amount.amount_pence == 26_00  # (£5 + 20%) × 52 ÷ 12
    assert [i.kind for i in changed.instructions] == [
        pb.DEDUCTION_INSTRUCTION_KIND_SET_UP,
        pb.DEDUCTION_INSTRUCTION_KIND_CHANGE_AMOUNT,
    ]
    award_id = changed.current_terms.award_id
    scenario(
        "EndBenefitAward",
        sc.EndBenefitAwardRequest(
            request_id=str(uuid.uuid4()),
            award_id=award_id,
            end_date=d(2026, 6, 30),
            end_reason=pb.AWARD_END_REASON_ENTITLEMENT_ENDED,
        ),
    )
    ended = call("GetDeduction", api.GetDeductionRequest(deduction_id=deduction.deduction_id))
    assert (ended.state, ended.end_reason) == (
        pb.DEDUCTION_STATE_ENDED,
        pb.DEDUCTION_END_REASON_AWARD_ENDED,
    )
    [stopped] = events(service, ev.DeductionEnded)
    assert stopped.end_date == d(2026, 6, 30) and stopped.final_terms.award_id == award_id


def test_change_type_moves_a_deduction_to_arrears_and_needs_a_new_decision(dwp):
    _, call, scenario = dwp
    deduction = set_up(call, "case-ct", "AH567890B", pb.BENEFIT_TYPE_UNIVERSAL_CREDIT)
    scenario("RunDueBatches", sc.RunDueBatchesRequest(request_id=str(uuid.uuid4())))
    with pytest.raises(grpc.RpcError) as err:
        call(
            "ChangeDeductionType",
            api.ChangeDeductionTypeRequest(
                request_id=str(uuid.uuid4()),
                deduction_id=deduction.deduction_id,
                deduction_type=pb.DEDUCTION_TYPE_ARREARS,
                benefit_type=pb.BENEFIT_TYPE_INCOME_SUPPORT,
                effective_date=d(2026, 5, 1),
            ),
        )
    assert details_of(err.value)["ErrorInfo"].reason == "NO_QUALIFYING_BENEFIT"
    pending = call(
        "ChangeDeductionType",
        api.ChangeDeductionTypeRequest(
            request_id=str(uuid.uuid4()),
            deduction_id=deduction.deduction_id,
            deduction_type=pb.DEDUCTION_TYPE_ARREARS,
            effective_date=d(2026, 5, 1),
        ),
    )
    assert pending.pending_instruction.kind == pb.DEDUCTION_INSTRUCTION_KIND_CHANGE_TYPE
    assert (
        pending.current_terms.deduction_type == pb.DEDUCTION_TYPE_STANDARD_FLAT_RATE
    )  # until decided
    scenario("RunDueBatches", sc.RunDueBatchesRequest(request_id=str(uuid.uuid4())))
    decided = call("GetDeduction", api.GetDeductionRequest(deduction_id=deduction.deduction_id))
    assert decided.current_terms.deduction_type == pb.DEDUCTION_TYPE_ARREARS
    assert decided.current_terms.collection_fee_pence == 0  # no fee on arrears [D]
