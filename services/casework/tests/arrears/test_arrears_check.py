"""The scheduled arrears check on Collect & Pay cases through the running stack (fake account): a rise in what is
overdue is a missed payment (event, "Missed Payment" SR, an arrears notice to the paying parent), once per cut-off
date; suspended arrears get the event but neither SR nor notice; credit that rose raises an "Overpayment Decision"
SR."""

from __future__ import annotations

from cms.casework.v1 import arrears_pb2 as apb
from cms.casework.v1 import arrears_service_pb2 as api
from cms.casework.v1 import casework_service_pb2 as case_api
from cms.casework.v1 import money_events_pb2 as money_ev
from cms.casework.v1 import resources_pb2 as pb

from ..conftest import d
from .conftest import case_id, money_events, rid
from .helpers import letters_of, live_case, srs_of

CHECK = case_api.SCHEDULED_JOB_ARREARS_CHECK


def test_a_missed_payment_raises_its_event_service_request_and_arrears_notice_once(
    stack, fake_account
):
    case = live_case(stack)
    fake_account.overdue[case_id(case)] = 296_40
    result = stack.run_scheduled(d(2026, 4, 10), CHECK).results[0]
    assert result.items_failed == 0, result.failures
    (sr,) = srs_of(stack, case, "Missed Payment")
    (notice,) = letters_of(stack, case, pb.CORRESPONDENCE_KIND_ARREARS_NOTICE)
    assert (notice.recipient, notice.service_request) == (case.paying_parent.name, sr.name)
    (event,) = money_events(stack, case.name, "payment_missed")
    missed = money_ev.PaymentMissed.FromString(event.value)
    # Grace period of 3 days (7 to 9 April): charges due on or before 6 April are missed on the 10th.
    assert (missed.due_on_or_before, missed.missed_pence, missed.arrears_pence) == (
        d(2026, 4, 6),
        296_40,
        296_40,
    )
    (changed,) = money_events(stack, case.name, "arrears_changed")
    assert money_ev.ArrearsChanged.FromString(changed.value).arrears_pence == 296_40
    # The same date again (a new request) and the next day with nothing new: nothing twice.
    stack.run_scheduled(d(2026, 4, 10), CHECK)
    stack.run_scheduled(d(2026, 4, 11), CHECK)
    assert len(srs_of(stack, case, "Missed Payment")) == 1
    assert len(letters_of(stack, case, pb.CORRESPONDENCE_KIND_ARREARS_NOTICE)) == 1
    # A second payment missed a month on is a second missed payment.
    fake_account.overdue[case_id(case)] = 592_80
    stack.run_scheduled(d(2026, 5, 10), CHECK)
    assert len(srs_of(stack, case, "Missed Payment")) == 2
    events = money_events(stack, case.name, "payment_missed", expected=2)
    assert [money_ev.PaymentMissed.FromString(e.value).missed_pence for e in events] == [
        296_40,
        296_40,
    ]


def test_while_arrears_are_suspended_a_missed_payment_is_announced_but_not_pursued(
    stack, arrears, fake_account
):
    case = live_case(stack)
    arrears.call(
        "SuspendArrears",
        api.SuspendArrearsRequest(
            request_id=rid(),
            parent=case.name,
            reason=apb.ARREARS_SUSPENSION_REASON_RECEIVING_PARENT_REQUEST,
            review_date=d(2026, 7, 1),
        ),
    )
    fake_account.overdue[case_id(case)] = 296_40
    stack.run_scheduled(d(2026, 4, 10), CHECK)
    (event,) = money_events(stack, case.name, "payment_missed")
    assert not money_ev.PaymentMissed.FromString(event.value).service_request
    assert not srs_of(stack, case, "Missed Payment")
    assert not letters_of(stack, case, pb.CORRESPONDENCE_KIND_ARREARS_NOTICE)


def test_credit_that_rose_raises_an_overpayment_decision_service_request_the_decision_takes_up(
    stack, arrears, fake_account
):
    case = live_case(stack)
    fake_account.credit[case_id(case)] = 80_00
    stack.run_scheduled(d(2026, 4, 10), CHECK)
    (raised,) = srs_of(stack, case, "Overpayment Decision")
    stack.run_scheduled(d(2026, 4, 11), CHECK)  # no rise: nothing more
    assert len(srs_of(stack, case, "Overpayment Decision")) == 1
    fake_account.arrears[case_id(case)] = 50_00
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


def test_direct_pay_cases_are_not_checked(stack, fake_account):
    case = live_case(stack, service_type=pb.SERVICE_TYPE_DIRECT_PAY)
    fake_account.overdue[case_id(case)] = 296_40
    stack.run_scheduled(d(2026, 4, 10), CHECK)
    assert not srs_of(stack, case, "Missed Payment")
