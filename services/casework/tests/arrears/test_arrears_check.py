"""The scheduled arrears check on Collect & Pay cases through the running stack, against the real account: a charge
unpaid past its due date and the grace period is a missed payment (event, "Missed Payment" SR, an arrears notice to the
paying parent), once per cut-off date; suspended arrears get the event but neither SR nor notice; an overpayment that
rose raises an "Overpayment Decision" SR. Charges come from the charge run on the case's payment plan: £499.20 (£416.00
maintenance and the £83.20 fee) due on the 6th of each month."""

from __future__ import annotations

import datetime as dt

from cms.casework.v1 import arrears_pb2 as apb
from cms.casework.v1 import arrears_service_pb2 as api
from cms.casework.v1 import casework_service_pb2 as case_api
from cms.casework.v1 import money_events_pb2 as money_ev
from cms.casework.v1 import resources_pb2 as pb
from cms_casework.arrears import account

from ..conftest import d
from .conftest import case_id, money_events, rid
from .helpers import (
    MONTHLY_DUE,
    balances,
    charge,
    letters_of,
    live_case_with_account,
    overpay,
    receive,
    recognise_arrears,
    srs_of,
)

CHECK = case_api.SCHEDULED_JOB_ARREARS_CHECK


def test_a_missed_payment_raises_its_event_service_request_and_arrears_notice_once(stack, clock):
    case = live_case_with_account(stack)
    plan = stack.call(
        "GetPaymentPlan", case_api.GetPaymentPlanRequest(name=case.current_payment_plan)
    )
    assert (plan.payments[0].due_date, plan.payments[0].amount_due_pence) == (
        d(2026, 4, 6),
        MONTHLY_DUE,
    )
    charge(stack, dt.date(2026, 4, 6))
    # Grace period of 3 days (7 to 9 April): on the 9th April's charge is not missed yet.
    result = stack.run_scheduled(d(2026, 4, 9), CHECK).results[0]
    assert result.items_failed == 0, result.failures
    assert not srs_of(stack, case, "Missed Payment")
    # On the 10th charges due on or before 6 April are missed.
    result = stack.run_scheduled(d(2026, 4, 10), CHECK).results[0]
    assert result.items_failed == 0, result.failures
    (sr,) = srs_of(stack, case, "Missed Payment")
    (notice,) = letters_of(stack, case, pb.CORRESPONDENCE_KIND_ARREARS_NOTICE)
    assert (notice.recipient, notice.service_request) == (case.paying_parent.name, sr.name)
    (event,) = money_events(stack, case.name, "payment_missed")
    missed = money_ev.PaymentMissed.FromString(event.value)
    assert (
        missed.due_on_or_before,
        missed.missed_pence,
        missed.arrears_pence,
        missed.service_request,
    ) == (
        d(2026, 4, 6),
        MONTHLY_DUE,
        MONTHLY_DUE,
        sr.name,
    )
    (changed,) = money_events(stack, case.name, "arrears_changed")
    assert money_ev.ArrearsChanged.FromString(changed.value).arrears_pence == MONTHLY_DUE
    # The same date again (a new request) and the next day with nothing new: nothing twice.
    stack.run_scheduled(d(2026, 4, 10), CHECK)
    stack.run_scheduled(d(2026, 4, 11), CHECK)
    assert len(srs_of(stack, case, "Missed Payment")) == 1
    assert len(letters_of(stack, case, pb.CORRESPONDENCE_KIND_ARREARS_NOTICE)) == 1
    # A second payment missed a month on is a second missed payment.
    clock.advance(dt.timedelta(days=34))  # 10 May
    charge(stack, dt.date(2026, 5, 6))
    stack.run_scheduled(d(2026, 5, 10), CHECK)
    assert len(srs_of(stack, case, "Missed Payment")) == 2
    events = money_events(stack, case.name, "payment_missed", expected=2)
    assert [money_ev.PaymentMissed.FromString(e.value).missed_pence for e in events] == [
        MONTHLY_DUE,
        MONTHLY_DUE,
    ]
    assert balances(stack, case, dt.date(2026, 5, 10)).arrears == 2 * MONTHLY_DUE


def test_a_charge_paid_in_time_is_not_missed_and_a_part_payment_leaves_the_rest_missed(
    stack, clock
):
    case = live_case_with_account(stack)
    charge(stack, dt.date(2026, 4, 6))
    receive(stack, clock, case, MONTHLY_DUE, on=dt.date(2026, 4, 6))
    stack.run_scheduled(d(2026, 4, 10), CHECK)
    assert not srs_of(stack, case, "Missed Payment")
    clock.advance(dt.timedelta(days=34))  # 10 May
    charge(stack, dt.date(2026, 5, 6))
    receive(stack, clock, case, 200_00, on=dt.date(2026, 5, 8))  # in the grace period
    stack.run_scheduled(d(2026, 5, 10), CHECK)
    (sr,) = srs_of(stack, case, "Missed Payment")
    (event,) = money_events(stack, case.name, "payment_missed")
    missed = money_ev.PaymentMissed.FromString(event.value)
    assert (missed.missed_pence, missed.service_request) == (MONTHLY_DUE - 200_00, sr.name)


def test_while_arrears_are_suspended_a_missed_payment_is_announced_but_not_pursued(stack, arrears):
    case = live_case_with_account(stack)
    arrears.call(
        "SuspendArrears",
        api.SuspendArrearsRequest(
            request_id=rid(),
            parent=case.name,
            reason=apb.ARREARS_SUSPENSION_REASON_RECEIVING_PARENT_REQUEST,
            review_date=d(2026, 7, 1),
        ),
    )
    charge(stack, dt.date(2026, 4, 6))
    stack.run_scheduled(d(2026, 4, 10), CHECK)
    (event,) = money_events(stack, case.name, "payment_missed")
    missed = money_ev.PaymentMissed.FromString(event.value)
    assert missed.missed_pence == MONTHLY_DUE and not missed.service_request
    assert not srs_of(stack, case, "Missed Payment")
    assert not letters_of(stack, case, pb.CORRESPONDENCE_KIND_ARREARS_NOTICE)


def test_an_overpayment_that_rose_raises_a_service_request_the_decision_takes_up(
    stack, arrears, clock
):
    case = live_case_with_account(stack)
    overpay(stack, clock, case, 80_00)
    stack.run_scheduled(d(2026, 4, 10), CHECK)
    (raised,) = srs_of(stack, case, "Overpayment Decision")
    stack.run_scheduled(d(2026, 4, 11), CHECK)  # no rise: nothing more
    assert len(srs_of(stack, case, "Overpayment Decision")) == 1
    recognise_arrears(stack, clock, case, 50_00, due=dt.date(2026, 3, 1))
    decision = arrears.call(
        "DecideOverpayment",
        api.DecideOverpaymentRequest(
            request_id=rid(),
            parent=case.name,
            outcome=apb.OVERPAYMENT_OUTCOME_ADJUST_ARREARS,
            reason="offset",
        ),
    )
    assert decision.service_request == raised.name
    assert len(srs_of(stack, case, "Overpayment Decision")) == 1
    after = balances(stack, case, clock.today())
    assert (after.overpaid, after.arrears) == (30_00, 0)


def test_money_paid_in_advance_is_not_an_overpayment(stack, clock):
    case = live_case_with_account(stack)
    receive(stack, clock, case, 80_00)
    assert balances(stack, case, clock.today()).held_credit == 80_00
    stack.run_scheduled(d(2026, 4, 6), CHECK)
    assert not srs_of(stack, case, "Overpayment Decision")


def test_direct_pay_cases_are_not_checked(stack, clock):
    case = live_case_with_account(stack, service_type=pb.SERVICE_TYPE_DIRECT_PAY)
    recognise_arrears(stack, clock, case, 296_40, due=dt.date(2026, 3, 1))
    with stack.casework.sessions() as s:
        assert account.overdue(s, case_id=case_id(case), on=dt.date(2026, 4, 6)) == 296_40
    stack.run_scheduled(d(2026, 4, 10), CHECK)
    assert not srs_of(stack, case, "Missed Payment")
