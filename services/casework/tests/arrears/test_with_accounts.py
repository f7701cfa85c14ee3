"""The arrears context against the real Collect & Pay account (cms_casework.accounts): a charge unpaid past its due
date and the grace period found by the arrears check, a Direct Pay shortfall recognised as arrears on the account, and
a Regulation 8 offset posted. Marked needs_accounts: they run where the accounts context is merged."""

from __future__ import annotations

import datetime as dt

import pytest

from cms.casework.v1 import arrears_pb2 as apb
from cms.casework.v1 import arrears_service_pb2 as api
from cms.casework.v1 import casework_service_pb2 as case_api
from cms.casework.v1 import money_events_pb2 as money_ev
from cms.casework.v1 import resources_pb2 as pb
from cms_casework.accounts import service as accounts
from cms_casework.arrears import account
from cms_devkit.testing import wait_until
from cms_platform.convert import day_of

from ..conftest import d
from .conftest import case_id, money_events, rid
from .helpers import letters_of, live_case, srs_of

pytestmark = pytest.mark.needs_accounts


def balances(stack, case, as_of: dt.date):
    with stack.casework.sessions() as s:
        return accounts.balances(s, case_id=case_id(case), as_of=as_of)


def opened(stack, case) -> bool:
    with stack.casework.sessions() as s:
        return accounts.account_of_case(s, case_id(case)) is not None


def test_a_collect_and_pay_charge_unpaid_past_the_grace_period_is_a_missed_payment(stack, clock):
    case = live_case(stack)
    plan = stack.call(
        "GetPaymentPlan", case_api.GetPaymentPlanRequest(name=case.current_payment_plan)
    )
    first = plan.payments[0]
    due = day_of(first.due_date)
    assert due is not None

    wait_until(lambda: opened(stack, case), what="the account opened from the plan")
    stack.run_scheduled(d(due.year, due.month, due.day), case_api.SCHEDULED_JOB_ACCOUNT_CHARGES)
    with stack.casework.sessions() as s:
        charged = accounts.unpaid_due_on_or_before(s, case_id=case_id(case), on=due)
    assert charged == first.amount_due_pence
    within_grace = due + dt.timedelta(days=stack.casework.settings.arrears_grace_days)
    stack.run_scheduled(
        d(within_grace.year, within_grace.month, within_grace.day),
        case_api.SCHEDULED_JOB_ARREARS_CHECK,
    )
    assert not srs_of(stack, case, "Missed Payment")
    after = within_grace + dt.timedelta(days=1)
    result = stack.run_scheduled(
        d(after.year, after.month, after.day), case_api.SCHEDULED_JOB_ARREARS_CHECK
    )
    assert result.results[0].items_failed == 0, result.results[0].failures
    (sr,) = srs_of(stack, case, "Missed Payment")
    assert len(letters_of(stack, case, pb.CORRESPONDENCE_KIND_ARREARS_NOTICE)) == 1
    (event,) = money_events(stack, case.name, "payment_missed")
    missed = money_ev.PaymentMissed.FromString(event.value)
    assert (missed.missed_pence, missed.service_request) == (first.amount_due_pence, sr.name)


def test_a_direct_pay_shortfall_becomes_arrears_on_the_account(stack, arrears, clock):
    case = live_case(stack, service_type=pb.SERVICE_TYPE_DIRECT_PAY)
    wait_until(lambda: opened(stack, case), what="the Direct Pay account opened from the plan")
    made = arrears.call(
        "ReportDirectPayMissedPayments",
        api.ReportDirectPayMissedPaymentsRequest(
            request_id=rid(),
            parent=case.name,
            missed_payments=[
                apb.DirectPayMissedPayment(
                    due_date=d(2026, 3, 1), expected_pence=400_00, received_pence=0
                )
            ],
        ),
    )
    moved = arrears.call(
        "DecideDirectPayMissedPayments",
        api.DecideDirectPayMissedPaymentsRequest(
            request_id=rid(),
            name=made.name,
            decision=apb.DIRECT_PAY_DECISION_MOVE_TO_COLLECT_AND_PAY,
            reason="no payments since February",
        ),
    )
    change = stack.call(
        "GetChangeOfCircumstances",
        case_api.GetChangeOfCircumstancesRequest(name=moved.change_of_circumstances),
    )
    stack.verify(change)
    stack.apply(case)
    # The case's own charges start from the move; only the recognised shortfall is past due today.
    assert balances(stack, case, clock.today()).arrears == 400_00


def test_a_regulation_8_offset_reduces_both_the_overpayment_and_the_arrears(stack, arrears, clock):
    case = live_case(stack)
    today = clock.today()

    wait_until(lambda: opened(stack, case), what="the account opened from the plan")
    with stack.casework.sessions.begin() as s:
        # A backdated decision made £200 overpaid ...
        accounts.post_adjustment(
            s,
            case_id=case_id(case),
            kind=money_ev.ADJUSTMENT_KIND_BACKDATED_OVERPAYMENT,
            amount_pence=-200_00,
            effective_date=today,
            cause="test",
            clock=clock,
        )
        # ... and £150 of arrears are owed (a Direct Pay shortfall from before the move).
        account.recognise_direct_pay_shortfall(
            s,
            case_id=case_id(case),
            amount_pence=150_00,
            on=today - dt.timedelta(days=30),
            cause="test",
            clock=clock,
        )
    before = balances(stack, case, today)
    assert (before.overpaid, before.arrears) == (200_00, 150_00)
    decision = arrears.call(
        "DecideOverpayment",
        api.DecideOverpaymentRequest(
            request_id=rid(),
            parent=case.name,
            outcome=apb.OVERPAYMENT_OUTCOME_ADJUST_ARREARS,
            reason="offset the overpayment",
        ),
    )
    assert decision.offset_pence == 150_00
    after = balances(stack, case, today)
    assert (after.overpaid, after.arrears) == (50_00, 0)
