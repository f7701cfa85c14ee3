"""Regulation 8 decisions on an overpayment through the running stack, against the real account (the overpayment a
backdated decision's adjustment, the arrears recognised on it): offset against the arrears (posted on the account), or
the amount payable reduced (possibly to nil) until recovered; explained step by step with the figures, recorded with
its service request, a notice to both parents and its event; bad input names the field and writes nothing."""

from __future__ import annotations

import datetime as dt

import grpc

from cms.casework.v1 import arrears_pb2 as apb
from cms.casework.v1 import arrears_service_pb2 as api
from cms.casework.v1 import casework_service_pb2 as case_api
from cms.casework.v1 import money_events_pb2 as money_ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform.grpc_errors import details_of, violated_fields

from ..conftest import d, error
from .conftest import money_events, rid
from .helpers import (
    adjustments,
    balances,
    ledger,
    letters_of,
    live_case_with_account,
    overpay,
    receive,
    recognise_arrears,
    srs_of,
)

MARCH = dt.date(2026, 3, 1)


def decide(arrears, case, outcome, **kw):
    return arrears.call(
        "DecideOverpayment",
        api.DecideOverpaymentRequest(
            request_id=rid(), parent=case.name, outcome=outcome, reason="backdated pay cut", **kw
        ),
    )


def test_an_overpayment_offset_against_arrears_is_explained_posted_and_notified(
    stack, arrears, clock
):
    case = live_case_with_account(stack)
    overpay(stack, clock, case, 300_00)
    recognise_arrears(stack, clock, case, 120_00, due=MARCH)
    before = adjustments(stack, case)
    decision = decide(arrears, case, apb.OVERPAYMENT_OUTCOME_ADJUST_ARREARS)
    assert (decision.overpaid_pence, decision.arrears_pence, decision.offset_pence) == (
        300_00,
        120_00,
        120_00,
    )
    text = "\n".join(decision.explanation)
    assert "reg 8" in text and "£300.00" in text and "£120.00" in text and "£180.00" in text
    # One adjustment posted on the account: the offset, negative, today, naming the decision.
    assert adjustments(stack, case) == [
        *before,
        (money_ev.ADJUSTMENT_KIND_REGULATION_8_OFFSET, -120_00, clock.today(), decision.name),
    ]
    after = balances(stack, case, clock.today())
    assert (after.overpaid, after.arrears) == (180_00, 0)
    (sr,) = srs_of(stack, case, "Overpayment Decision")
    assert decision.service_request == sr.name
    notices = letters_of(stack, case, pb.CORRESPONDENCE_KIND_OVERPAYMENT_DECISION_NOTICE)
    assert {n.recipient for n in notices} == {case.paying_parent.name, case.receiving_parent.name}
    assert {n.service_request for n in notices} == {sr.name}
    assert (
        arrears.call(
            "GetOverpaymentDecision", api.GetOverpaymentDecisionRequest(name=decision.name)
        )
        == decision
    )
    (event,) = money_events(stack, case.name, "overpayment_decided")
    decided = money_ev.OverpaymentDecided.FromString(event.value)
    assert (decided.outcome, decided.offset_pence) == (
        apb.OVERPAYMENT_OUTCOME_ADJUST_ARREARS,
        120_00,
    )


def test_reducing_the_amount_payable_can_take_it_to_nil_until_recovered(stack, arrears, clock):
    case = live_case_with_account(stack)
    plan = stack.call(
        "GetPaymentPlan", case_api.GetPaymentPlanRequest(name=case.current_payment_plan)
    )
    monthly = plan.payments[1].maintenance_pence
    overpay(stack, clock, case, monthly * 2 + 10_00)
    entries, held = ledger(stack, case), balances(stack, case, clock.today())
    decision = decide(
        arrears,
        case,
        apb.OVERPAYMENT_OUTCOME_REDUCE_AMOUNT_PAYABLE,
        reduction_per_period_pence=monthly
        + 50_00,  # more than is payable: capped, so nil is payable
        reduction_start_date=plan.payments[1].due_date,
    )
    assert decision.amount_payable_per_period_pence == monthly
    assert (decision.reduction_per_period_pence, decision.reduced_amount_per_period_pence) == (
        monthly,
        0,
    )
    assert (decision.reduction_periods, decision.final_reduction_pence) == (3, 10_00)
    assert any("to nil" in step for step in decision.explanation)
    assert "reg 9" in "\n".join(decision.explanation)
    # Nothing posted now: the account's charging applies the reduction.
    assert ledger(stack, case) == entries
    assert balances(stack, case, clock.today()) == held


def test_bad_decisions_name_the_field_and_write_nothing(stack, arrears, clock):
    case = live_case_with_account(stack)
    overpay(stack, clock, case, 100_00)
    entries = ledger(stack, case)
    bad = error(lambda: decide(arrears, case, apb.OVERPAYMENT_OUTCOME_REDUCE_AMOUNT_PAYABLE))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violated_fields(bad)) == {"reduction_per_period_pence", "reduction_start_date"}
    mixed = error(
        lambda: decide(
            arrears,
            case,
            apb.OVERPAYMENT_OUTCOME_ADJUST_ARREARS,
            reduction_per_period_pence=10_00,
            reduction_start_date=d(2026, 1, 1),
        )
    )
    assert set(violated_fields(mixed)) == {"reduction_per_period_pence", "reduction_start_date"}
    no_arrears = error(lambda: decide(arrears, case, apb.OVERPAYMENT_OUTCOME_ADJUST_ARREARS))
    assert no_arrears.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert [v.type for v in details_of(no_arrears)["PreconditionFailure"].violations] == [
        "NO_ARREARS"
    ]
    assert ledger(stack, case) == entries
    assert not srs_of(stack, case, "Overpayment Decision")
    assert not letters_of(stack, case, pb.CORRESPONDENCE_KIND_OVERPAYMENT_DECISION_NOTICE)


def test_no_overpayment_no_decision(stack, arrears, clock):
    case = live_case_with_account(stack)
    refused = error(lambda: decide(arrears, case, apb.OVERPAYMENT_OUTCOME_ADJUST_ARREARS))
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    # Money paid in advance is credit the next charges use, not an overpayment to decide on.
    recognise_arrears(stack, clock, case, 50_00, due=MARCH)
    receive(stack, clock, case, 150_00)
    held = balances(stack, case, clock.today())
    assert (held.held_credit, held.overpaid, held.arrears) == (100_00, 0, 0)
    refused = error(lambda: decide(arrears, case, apb.OVERPAYMENT_OUTCOME_ADJUST_ARREARS))
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert [v.type for v in details_of(refused)["PreconditionFailure"].violations] == [
        "NOT_IN_CREDIT"
    ]
