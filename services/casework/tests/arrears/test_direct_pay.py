"""Direct Pay missed payments through the running stack: the receiving parent (or a caseworker for them) reports
them, a service request follows, and a caseworker decides: no further action, or a move to Collect & Pay through the
change-of-circumstances path with the shortfall recognised as arrears on the real account, each missed payment's from
its own due date."""

from __future__ import annotations

import datetime as dt

import grpc

from cms.casework.v1 import arrears_pb2 as apb
from cms.casework.v1 import arrears_service_pb2 as api
from cms.casework.v1 import casework_service_pb2 as case_api
from cms.casework.v1 import money_events_pb2 as money_ev
from cms.casework.v1 import resources_pb2 as pb
from cms_casework.accounts import service as accounts
from cms_devkit.testing import wait_until
from cms_platform.grpc_errors import violated_fields

from ..conftest import d, error
from .conftest import case_id, client_of, money_events, rid
from .helpers import (
    MONTHLY_DUE,
    adjustments,
    balances,
    charge,
    live_case,
    live_case_with_account,
    srs_of,
)

MISSED = [
    apb.DirectPayMissedPayment(
        due_date=d(2026, 3, 1), expected_pence=400_00, received_pence=150_00
    ),
    apb.DirectPayMissedPayment(due_date=d(2026, 2, 1), expected_pence=400_00, received_pence=0),
]


def report(arrears, case, *, as_=None, missed=MISSED):
    return arrears.call(
        "ReportDirectPayMissedPayments",
        api.ReportDirectPayMissedPaymentsRequest(
            request_id=rid(),
            parent=case.name,
            missed_payments=missed,
            note="nothing since February",
        ),
        as_=as_,
    )


def decide(arrears, made, decision, reason="checked the bank statements"):
    return arrears.call(
        "DecideDirectPayMissedPayments",
        api.DecideDirectPayMissedPaymentsRequest(
            request_id=rid(), name=made.name, decision=decision, reason=reason
        ),
    )


def test_the_receiving_parent_reports_missed_payments_and_a_service_request_follows(stack, arrears):
    case = live_case(stack, service_type=pb.SERVICE_TYPE_DIRECT_PAY)
    made = report(arrears, case, as_=stack.creds.client(client_of(case.receiving_parent.name)))
    assert made.state == apb.MISSED_PAYMENT_REPORT_STATE_REPORTED
    assert made.shortfall_pence == 650_00
    assert [m.due_date for m in made.missed_payments] == [d(2026, 2, 1), d(2026, 3, 1)]
    assert made.reported_by == case.receiving_parent.name
    (sr,) = srs_of(stack, case, "Direct Pay Missed Payments")
    assert made.service_request == sr.name
    assert sr.origin == pb.SERVICE_REQUEST_ORIGIN_CLIENT_SELF_SERVICE
    assert (
        arrears.call("GetMissedPaymentReport", api.GetMissedPaymentReportRequest(name=made.name))
        == made
    )
    (event,) = money_events(stack, case.name, "direct_pay_missed_payments_reported")
    assert (
        money_ev.DirectPayMissedPaymentsReported.FromString(event.value).shortfall_pence == 650_00
    )


def test_the_paying_parent_cannot_report(stack, arrears):
    case = live_case(stack, service_type=pb.SERVICE_TYPE_DIRECT_PAY)
    payer = error(
        lambda: report(arrears, case, as_=stack.creds.client(client_of(case.paying_parent.name)))
    )
    assert payer.code() == grpc.StatusCode.PERMISSION_DENIED
    assert not srs_of(stack, case, "Direct Pay Missed Payments")


def test_bad_reports_name_the_fields_and_write_nothing(stack, arrears):
    case = live_case(stack, service_type=pb.SERVICE_TYPE_DIRECT_PAY)
    bad = error(
        lambda: report(
            arrears,
            case,
            missed=[
                apb.DirectPayMissedPayment(due_date=d(2026, 5, 1), expected_pence=400_00),
                apb.DirectPayMissedPayment(
                    due_date=d(2026, 3, 1), expected_pence=400_00, received_pence=400_00
                ),
            ],
        )
    )
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violated_fields(bad)) == {
        "missed_payments[0].due_date",
        "missed_payments[1].received_pence",
    }
    assert not srs_of(stack, case, "Direct Pay Missed Payments")


def test_a_collect_and_pay_case_has_no_direct_pay_reports(stack, arrears):
    case = live_case(stack)
    refused = error(lambda: report(arrears, case))
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_no_further_action_closes_the_report_once(stack, arrears):
    case = live_case(stack, service_type=pb.SERVICE_TYPE_DIRECT_PAY)
    made = report(arrears, case)
    decided = decide(arrears, made, apb.DIRECT_PAY_DECISION_NO_FURTHER_ACTION, "paid since")
    assert decided.state == apb.MISSED_PAYMENT_REPORT_STATE_NO_FURTHER_ACTION
    assert (decided.decision_reason, decided.decided_by) == ("paid since", "cw-1")
    assert not decided.change_of_circumstances
    again = error(lambda: decide(arrears, made, apb.DIRECT_PAY_DECISION_MOVE_TO_COLLECT_AND_PAY))
    assert again.code() == grpc.StatusCode.FAILED_PRECONDITION
    blank = error(lambda: decide(arrears, made, apb.DIRECT_PAY_DECISION_NO_FURTHER_ACTION, "  "))
    assert blank.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(blank) == ["reason"]


def test_moving_to_collect_and_pay_changes_the_service_type_and_recognises_the_shortfall(
    stack, arrears, clock
):
    case = live_case_with_account(stack, service_type=pb.SERVICE_TYPE_DIRECT_PAY)
    made = report(arrears, case)
    moved = decide(arrears, made, apb.DIRECT_PAY_DECISION_MOVE_TO_COLLECT_AND_PAY)
    assert moved.state == apb.MISSED_PAYMENT_REPORT_STATE_MOVED_TO_COLLECT_AND_PAY
    # Each shortfall is arrears on the account from its own due date.
    assert adjustments(stack, case) == [
        (money_ev.ADJUSTMENT_KIND_ARREARS_RECOGNISED, 400_00, dt.date(2026, 2, 1), made.name),
        (money_ev.ADJUSTMENT_KIND_ARREARS_RECOGNISED, 250_00, dt.date(2026, 3, 1), made.name),
    ]
    assert balances(stack, case, dt.date(2026, 3, 1)).arrears == 400_00
    assert balances(stack, case, clock.today()).arrears == 650_00
    change = stack.call(
        "GetChangeOfCircumstances",
        case_api.GetChangeOfCircumstancesRequest(name=moved.change_of_circumstances),
    )
    assert change.type == pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_TO_SERVICE_TYPE
    assert change.payment_arrangement_change.service_type == pb.SERVICE_TYPE_COLLECT_AND_PAY
    stack.verify(change)
    stack.apply(case)
    held = stack.call("GetCase", case_api.GetCaseRequest(name=case.name))
    assert held.service_type == pb.SERVICE_TYPE_COLLECT_AND_PAY

    def collecting() -> bool:
        with stack.casework.sessions() as s:
            account = accounts.account_of_case(s, case_id(case))
            return account is not None and account.service_type == "SERVICE_TYPE_COLLECT_AND_PAY"

    wait_until(collecting, timeout=120, what="the account to collect from the new plan")
    # The case's own charges start from the move (the first due today): only the shortfall is past due.
    charge(stack, clock.today())
    after = balances(stack, case, clock.today())
    assert (after.arrears, after.owed) == (650_00, 650_00 + MONTHLY_DUE)
    (event,) = money_events(stack, case.name, "direct_pay_missed_payments_decided")
    decided = money_ev.DirectPayMissedPaymentsDecided.FromString(event.value)
    assert (decided.recognised_arrears_pence, decided.change_of_circumstances) == (
        650_00,
        moved.change_of_circumstances,
    )
