"""Deductions from benefit through the running stack: each route (interface, non-automated, automated) ending in an
active deduction that sets the method of payment, a refused set-up recorded as such, and the deduction cancelled at
dwp-gateway when the case closes."""

from __future__ import annotations

import uuid

import grpc

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import methods_of_payment_pb2 as mop
from cms.casework.v1 import methods_of_payment_service_pb2 as mop_api
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_service_pb2 as dwp_api
from cms.dwp.v1 import resources_pb2 as dwp_pb
from cms_devkit.testing import wait_until

from ..conftest import d, error

DFB = pb.METHOD_OF_PAYMENT_FROM_DEDUCTION_FROM_BENEFIT


def set_up(stack, case, benefit: str, **kw) -> mop.BenefitDeduction:
    return stack.mop_call(
        "SetUpBenefitDeduction",
        mop_api.SetUpBenefitDeductionRequest(
            request_id=str(uuid.uuid4()),
            parent=case.name,
            benefit=benefit,
            deduction_type=kw.pop("deduction_type", mop.BENEFIT_DEDUCTION_TYPE_STANDARD_FLAT_RATE),
            **kw,
        ),
    )


def reaches(stack, deduction: mop.BenefitDeduction, state: int) -> mop.BenefitDeduction:
    def got() -> mop.BenefitDeduction | None:
        found = stack.mop_call(
            "GetBenefitDeduction", mop_api.GetBenefitDeductionRequest(name=deduction.name)
        )
        return found if found.state == state else None

    return wait_until(
        got, timeout=120, what=f"the deduction {mop.BenefitDeductionState.Name(state)}"
    )


def decided_by_jcp(stack, deduction: mop.BenefitDeduction) -> mop.BenefitDeduction:
    """JCP's batch run until the deduction is active (dwp-gateway's own batch pass may get there first)."""

    def active() -> mop.BenefitDeduction | None:
        stack.run_jcp_batches()
        found = stack.mop_call(
            "GetBenefitDeduction", mop_api.GetBenefitDeductionRequest(name=deduction.name)
        )
        return found if found.state == mop.BENEFIT_DEDUCTION_STATE_ACTIVE else None

    return wait_until(active, timeout=120, interval=0.3, what="JCP's decision")


def applied(stack, case) -> bool:
    try:
        stack.apply(case)
    except grpc.RpcError as err:
        if err.code() != grpc.StatusCode.ABORTED:
            raise
        return False
    return True


def method_of(stack, case) -> mop.MethodOfPayment:
    return stack.mop_call(
        "GetMethodOfPayment", mop_api.GetMethodOfPaymentRequest(name=f"{case.name}/methodOfPayment")
    )


def test_the_interface_route_ends_in_an_active_deduction(stack, clock):
    case = stack.collect_and_pay_case()
    stack.award(dwp_pb.BENEFIT_TYPE_PENSION_CREDIT)
    asked = set_up(stack, case, "PENSION_CREDIT")
    assert asked.state == mop.BENEFIT_DEDUCTION_STATE_REQUESTED and asked.pending_instructions == 1
    sent = reaches(stack, asked, mop.BENEFIT_DEDUCTION_STATE_AWAITING_DECISION)
    assert sent.route == mop.BENEFIT_DEDUCTION_ROUTE_INTERFACE and sent.deduction_id
    assert sent.pending_instructions == 0
    decided_by_jcp(stack, asked)
    active = reaches(stack, asked, mop.BENEFIT_DEDUCTION_STATE_ACTIVE)
    assert active.deduction_amount.amount_pence > 0 and active.start_date.year
    assert method_of(stack, case).arrangement == asked.name
    assert stack.case_method(case, DFB).method_of_payment_from == DFB


def test_the_non_automated_route_ends_in_an_active_deduction_once_the_decision_is_keyed(
    stack, clock
):
    case = stack.collect_and_pay_case()
    stack.award(dwp_pb.BENEFIT_TYPE_STATE_PENSION)
    asked = set_up(stack, case, "STATE_PENSION")
    sent = reaches(stack, asked, mop.BENEFIT_DEDUCTION_STATE_AWAITING_CLERICAL_DECISION)
    assert sent.route == mop.BENEFIT_DEDUCTION_ROUTE_NON_AUTOMATED
    dwp, channel = stack.dwp()
    try:
        caseworker = stack.creds.staff("cw-1", "caseworker")
        held = dwp.GetDeduction(
            dwp_api.GetDeductionRequest(deduction_id=sent.deduction_id),
            metadata=caseworker,
            timeout=10,
        )
        dwp.RecordNonAutomatedDeductionDecision(
            dwp_api.RecordNonAutomatedDeductionDecisionRequest(
                request_id=str(uuid.uuid4()),
                deduction_id=sent.deduction_id,
                form_reference=held.pending_instruction.form_reference,
                outcome=dwp_pb.DEDUCTION_OUTCOME_ACCEPTED,
                deduction_amount=common.PeriodicAmount(
                    frequency=common.PAYMENT_FREQUENCY_WEEKLY, amount_pence=840
                ),
                start_date=d(2026, 4, 13),
                decision_date=d(2026, 4, 6),
                decided_by="Pension Centre",
            ),
            metadata=caseworker,
            timeout=10,
        )
    finally:
        channel.close()
    active = reaches(stack, asked, mop.BENEFIT_DEDUCTION_STATE_ACTIVE)
    assert active.deduction_amount.amount_pence == 840 and active.start_date == d(2026, 4, 13)
    assert method_of(stack, case).method == DFB
    stack.case_method(case, DFB)


def test_the_automated_route_started_by_dwp_is_recorded_when_decided(stack, clock):
    case = stack.collect_and_pay_case()
    stack.award_jsa()  # income-based JSA: the flat rate, which dwp-gateway picks up itself
    stack.recalculated(case)

    def decided() -> mop.MethodOfPayment | None:
        stack.run_jcp_batches()
        found = method_of(stack, case)
        return found if found.method == DFB else None

    method = wait_until(
        decided, timeout=120, interval=0.5, what="the automated deduction's decision"
    )
    active = stack.mop_call(
        "GetBenefitDeduction", mop_api.GetBenefitDeductionRequest(name=method.arrangement)
    )
    assert active.route == mop.BENEFIT_DEDUCTION_ROUTE_AUTOMATED
    assert active.state == mop.BENEFIT_DEDUCTION_STATE_ACTIVE and active.deduction_id
    stack.case_method(case, DFB)


def test_a_set_up_dwp_refuses_is_recorded_and_a_second_open_one_is_refused(stack, clock):
    case = stack.collect_and_pay_case()
    asked = set_up(stack, case, "PENSION_CREDIT")  # no award: dwp-gateway refuses
    refused = reaches(stack, asked, mop.BENEFIT_DEDUCTION_STATE_REFUSED)
    assert "no live PENSION_CREDIT award" in refused.refusal and not refused.deduction_id
    stack.award(dwp_pb.BENEFIT_TYPE_PENSION_CREDIT)
    set_up(stack, case, "PENSION_CREDIT")
    err = error(
        lambda: stack.mop.SetUpBenefitDeduction(
            mop_api.SetUpBenefitDeductionRequest(
                request_id=str(uuid.uuid4()),
                parent=case.name,
                benefit="PENSION_CREDIT",
                deduction_type=mop.BENEFIT_DEDUCTION_TYPE_STANDARD_FLAT_RATE,
            ),
            metadata=stack.creds.staff("cw-1", "caseworker"),
            timeout=20,
        )
    )
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_bad_input_names_the_field(stack, clock):
    case = stack.collect_and_pay_case()
    for request, field in (
        (
            mop_api.SetUpBenefitDeductionRequest(
                benefit="PIZZA", deduction_type=mop.BENEFIT_DEDUCTION_TYPE_STANDARD_FLAT_RATE
            ),
            "benefit",
        ),
        (
            mop_api.SetUpBenefitDeductionRequest(
                benefit="PENSION_CREDIT",
                deduction_type=mop.BENEFIT_DEDUCTION_TYPE_NON_STANDARD_FLAT_RATE,
            ),
            "weekly_liability_pence",
        ),
        (
            mop_api.SetUpBenefitDeductionRequest(
                benefit="PENSION_CREDIT",
                deduction_type=mop.BENEFIT_DEDUCTION_TYPE_STANDARD_FLAT_RATE,
                weekly_liability_pence=500,
            ),
            "weekly_liability_pence",
        ),
    ):
        request.request_id, request.parent = str(uuid.uuid4()), case.name
        err = error(
            lambda request=request: stack.mop.SetUpBenefitDeduction(
                request, metadata=stack.creds.staff("cw-1", "caseworker"), timeout=20
            )
        )
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and field in err.details()
    assert not method_of(stack, case).arrangement


def test_closing_the_case_cancels_the_deduction_at_dwp(stack, clock):
    case = stack.collect_and_pay_case()
    stack.award(dwp_pb.BENEFIT_TYPE_STATE_PENSION)
    asked = set_up(stack, case, "STATE_PENSION")
    sent = reaches(stack, asked, mop.BENEFIT_DEDUCTION_STATE_AWAITING_CLERICAL_DECISION)
    stack.call(
        "CloseCase",
        api.CloseCaseRequest(
            request_id=str(uuid.uuid4()),
            name=case.name,
            reason=pb.CASE_CLOSURE_REASON_APPLICANT_REQUEST,
        ),
        as_=stack.team_leader(),
    )
    reaches(stack, asked, mop.BENEFIT_DEDUCTION_STATE_CANCELLED)
    dwp, channel = stack.dwp()
    try:

        def cancelled() -> bool:
            held = dwp.GetDeduction(
                dwp_api.GetDeductionRequest(deduction_id=sent.deduction_id),
                metadata=stack.creds.staff("cw-1", "caseworker"),
                timeout=10,
            )
            return held.state == dwp_pb.DEDUCTION_STATE_CANCELLED

        wait_until(cancelled, timeout=120, what="dwp-gateway to cancel the deduction")
    finally:
        channel.close()


def test_a_liability_off_the_flat_rate_cancels_the_active_deduction(stack, clock):
    case = stack.collect_and_pay_case()
    stack.award(dwp_pb.BENEFIT_TYPE_PENSION_CREDIT)
    asked = set_up(stack, case, "PENSION_CREDIT")
    sent = reaches(stack, asked, mop.BENEFIT_DEDUCTION_STATE_AWAITING_DECISION)
    decided_by_jcp(stack, asked)
    reaches(stack, asked, mop.BENEFIT_DEDUCTION_STATE_ACTIVE)
    # The paying parent goes to prison: the nil rate, so nothing is left for the deduction to collect.
    change = stack.report(
        case,
        pb.ChangeOfCircumstances(
            type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_NIL_RATE_CATEGORY,
            effective_date=d(2026, 4, 6),
            reported_by=pb.REPORTER_THIRD_PARTY,
            nil_rate_category_change=pb.NilRateCategoryChange(
                category=pb.NIL_RATE_CATEGORY_PRISONER
            ),
        ),
    )
    stack.verify(change)
    # The feed pass may be applying the benefit and method changes to the case at the same moment: ABORTED says
    # apply again, as a caseworker would.
    wait_until(lambda: applied(stack, case), timeout=120, what="the change to be applied")
    reaches(stack, asked, mop.BENEFIT_DEDUCTION_STATE_CANCELLED)
    dwp, channel = stack.dwp()
    try:

        def cancelled() -> dwp_pb.Deduction | None:
            held = dwp.GetDeduction(
                dwp_api.GetDeductionRequest(deduction_id=sent.deduction_id),
                metadata=stack.creds.staff("cw-1", "caseworker"),
                timeout=10,
            )
            return held if held.state == dwp_pb.DEDUCTION_STATE_CANCELLED else None

        held = wait_until(cancelled, timeout=120, what="dwp-gateway to cancel the deduction")
        assert held.end_reason == dwp_pb.DEDUCTION_END_REASON_CANCELLED_BY_CMS
    finally:
        channel.close()
