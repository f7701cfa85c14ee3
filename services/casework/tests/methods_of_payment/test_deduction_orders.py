"""Deduction orders through the running stack: made from HMRC's employer details, the employer's remittance lines
checked against the 60% protected earnings with the shortfall carried, the employee leaving (the employer's notice or
HMRC's alert), late remittances; bad input refused with nothing written."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import methods_of_payment_pb2 as mop
from cms.casework.v1 import methods_of_payment_service_pb2 as mop_api
from cms.casework.v1 import money_events_pb2 as money_ev
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import events_pb2 as hmrc_ev
from cms_devkit.testing import wait_until
from cms_platform import outbox

from ..conftest import d, error

DEO = pb.METHOD_OF_PAYMENT_FROM_DEDUCTION_FROM_EARNINGS_ORDER


def make_order(stack, case, **kw) -> mop.DeductionOrder:
    return stack.mop_call(
        "MakeDeductionOrder",
        mop_api.MakeDeductionOrderRequest(
            request_id=str(uuid.uuid4()),
            parent=case.name,
            kind=kw.pop("kind", mop.DEDUCTION_ORDER_KIND_ORDER),
            **kw,
        ),
    )


def remit(stack, clock, order: mop.DeductionOrder, pay_date, net: int, deducted: int) -> None:
    """The account context's ReceiptRecorded for an employer's remittance line (it is not in this tree: published
    here through casework's outbox, as it would be)."""
    case_id = order.name.split("/")[1]
    with stack.casework.sessions.begin() as s:
        outbox.publish(
            s,
            clock=clock,
            key="accounts/acc-1",
            subject="accounts/acc-1",
            message=money_ev.ReceiptRecorded(
                account_id="acc-1",
                case_id=case_id,
                receipt=f"accounts/acc-1/receipts/{uuid.uuid4()}",
                external_reference=str(uuid.uuid4()),
                method=money_ev.RECEIPT_METHOD_DEDUCTION_FROM_EARNINGS_ORDER,
                amount_pence=deducted,
                received_date=pay_date,
                earnings_deduction=money_ev.EarningsDeduction(
                    deduction_order=order.name,
                    employer_paye_reference=order.employer.paye_reference,
                    pay_date=pay_date,
                    net_earnings_pence=net,
                    deducted_pence=deducted,
                    admin_charge_pence=100,
                ),
            ),
        )


def pay_days(stack, order, count: int) -> mop.DeductionOrder:
    def got() -> mop.DeductionOrder | None:
        found = stack.mop_call(
            "GetDeductionOrder", mop_api.GetDeductionOrderRequest(name=order.name)
        )
        return found if len(found.pay_days) >= count else None

    return wait_until(got, timeout=120, what=f"{count} pay days recorded")


def srs(stack, case, sub_area: str) -> list[pb.ServiceRequest]:
    found = stack.call("ListServiceRequests", api.ListServiceRequestsRequest(parent=case.name))
    return [sr for sr in found.service_requests if sr.sub_area == sub_area]


def test_a_deo_where_the_protected_earnings_bind_carries_the_shortfall(stack, clock):
    case = stack.collect_and_pay_case()
    order = make_order(stack, case, pay_frequency=common.PAYMENT_FREQUENCY_WEEKLY)
    assert order.state == mop.DEDUCTION_ORDER_STATE_ACTIVE and order.employer.paye_reference
    weekly = case.latest_calculation.weekly_amount_pence
    assert order.maintenance_pence == weekly and order.collection_fee_pence > 0
    ndr = order.normal_deduction_rate_pence
    assert ndr == order.maintenance_pence + order.collection_fee_pence
    assert order.protected_earnings_basis_points == 6000
    held = stack.case_method(case, DEO)
    assert held.method_of_payment_from == DEO
    method = stack.mop_call(
        "GetMethodOfPayment", mop_api.GetMethodOfPaymentRequest(name=f"{case.name}/methodOfPayment")
    )
    assert method.method == DEO and method.arrangement == order.name

    # Net £200: 60% (£120) protected, so £80 at most of the NDR is deducted; the rest is carried.
    remit(stack, clock, order, d(2026, 4, 10), net=200_00, deducted=80_00)
    first = pay_days(stack, order, 1).pay_days[0]
    assert first.expected_deduction_pence == 80_00 < ndr
    assert first.shortfall_carried_pence == ndr - 80_00
    assert first.remittance_due_date == d(2026, 5, 19)
    # Net £500 the week after: the NDR and the shortfall carried are both due, and £300 is available.
    remit(stack, clock, order, d(2026, 4, 17), net=500_00, deducted=min(2 * ndr - 80_00, 200_00))
    second = pay_days(stack, order, 2)
    day = second.pay_days[1]
    assert day.expected_deduction_pence == min(ndr + ndr - 80_00, 200_00)
    assert day.shortfall_carried_pence == max(0, ndr + (ndr - 80_00) - day.deducted_pence)
    assert second.shortfall_carried_pence == day.shortfall_carried_pence
    # The same line again (a redelivery, or the employer sending it twice) is one pay day.
    remit(stack, clock, order, d(2026, 4, 17), net=500_00, deducted=1)
    remit(stack, clock, order, d(2026, 4, 24), net=500_00, deducted=ndr)
    third = pay_days(stack, order, 3)
    assert [p.pay_date.day for p in third.pay_days] == [10, 17, 24]
    assert third.pay_days[1].deducted_pence != 1


def test_bad_input_names_the_field_and_writes_nothing(stack, clock):
    case = stack.collect_and_pay_case()
    err = error(
        lambda: stack.mop.MakeDeductionOrder(
            mop_api.MakeDeductionOrderRequest(
                request_id=str(uuid.uuid4()),
                parent=case.name,
                kind=mop.DEDUCTION_ORDER_KIND_ORDER,
                pay_frequency=common.PAYMENT_FREQUENCY_UNSPECIFIED + 99,
            ),
            metadata=stack.creds.staff("cw-1", "caseworker"),
            timeout=20,
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "pay_frequency" in err.details()
    err = error(
        lambda: stack.mop.RecordDirectDebit(
            mop_api.RecordDirectDebitRequest(
                request_id=str(uuid.uuid4()), parent=case.name, mandate_reference="12345678"
            ),
            metadata=stack.creds.staff("cw-1", "caseworker"),
            timeout=20,
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "mandate_reference" in err.details()
    assert "12345678" not in err.details()
    method = stack.mop_call(
        "GetMethodOfPayment", mop_api.GetMethodOfPaymentRequest(name=f"{case.name}/methodOfPayment")
    )
    assert not method.arrangement and not method.reference  # nothing half-written


def test_no_live_armed_forces_employment_refuses_a_der(stack, clock):
    case = stack.collect_and_pay_case()
    err = error(
        lambda: stack.mop.MakeDeductionOrder(
            mop_api.MakeDeductionOrderRequest(
                request_id=str(uuid.uuid4()),
                parent=case.name,
                kind=mop.DEDUCTION_ORDER_KIND_REQUEST,
            ),
            metadata=stack.creds.staff("cw-1", "caseworker"),
            timeout=20,
        )
    )
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "armed forces" in err.details()


def test_a_late_notice_of_leaving_puts_the_order_under_review(stack, clock):
    case = stack.collect_and_pay_case()
    order = make_order(stack, case)
    clock.advance(dt.timedelta(days=30))
    ended = stack.mop_call(
        "ReportEmploymentEnded",
        mop_api.ReportEmploymentEndedRequest(
            request_id=str(uuid.uuid4()),
            name=order.name,
            leaving_date=d(2026, 4, 20),
            reported_date=d(2026, 5, 6),
        ),
    )
    assert ended.state == mop.DEDUCTION_ORDER_STATE_UNDER_REVIEW and ended.employer_notice_late
    [review] = srs(stack, case, "Review Method Of Payment")
    assert ended.review_service_request == review.name
    err = error(
        lambda: stack.mop.ReportEmploymentEnded(
            mop_api.ReportEmploymentEndedRequest(
                request_id=str(uuid.uuid4()),
                name=order.name,
                leaving_date=d(2026, 4, 20),
                reported_date=d(2026, 4, 25),
            ),
            metadata=stack.creds.staff("cw-1", "caseworker"),
            timeout=20,
        )
    )
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_hmrcs_employment_ended_alert_reviews_the_order_once(stack, clock):
    case = stack.collect_and_pay_case()
    order = make_order(stack, case)
    hmrc = stack.services["hmrc"]
    with hmrc.sessions.begin() as s:
        outbox.publish(
            s,
            clock=clock,
            key="interests/interest-1",
            subject="interest-1",
            message=hmrc_ev.DeoEmploymentChanged(
                interest_id="interest-1",
                case_id=case.name.removeprefix("cases/"),
                change_kind=hmrc_ev.EMPLOYMENT_CHANGE_KIND_EMPLOYMENT_ENDED,
                change_date=d(2026, 4, 30),
            ),
        )

    def reviewed() -> mop.DeductionOrder | None:
        found = stack.mop_call(
            "GetDeductionOrder", mop_api.GetDeductionOrderRequest(name=order.name)
        )
        return found if found.state == mop.DEDUCTION_ORDER_STATE_UNDER_REVIEW else None

    found = wait_until(reviewed, timeout=120, what="the order under review")
    assert found.employment_end_date == d(2026, 4, 30) and not found.employer_notice_late
    assert len(srs(stack, case, "Review Method Of Payment")) == 1
    assert srs(stack, case, "DEO Employment Change") == []  # not raised twice


def test_a_month_unremitted_by_the_19th_raises_one_late_remittance(stack, clock):
    case = stack.collect_and_pay_case()
    order = make_order(stack, case)
    remit(
        stack,
        clock,
        order,
        d(2026, 6, 26),
        net=2_000_00,
        deducted=order.normal_deduction_rate_pence,
    )
    pay_days(stack, order, 1)
    job = api.SCHEDULED_JOB_DEDUCTION_ORDER_REMITTANCE_CHECK
    on_time = stack.run_scheduled(d(2026, 6, 19), job)
    assert on_time.results[0].items_processed == 1
    assert srs(stack, case, "DEO Late Remittance") == []
    stack.run_scheduled(d(2026, 6, 20), job)
    [late] = srs(stack, case, "DEO Late Remittance")
    assert "May 2026" in late.description
    stack.run_scheduled(d(2026, 7, 25), job)  # June was remitted: still one
    assert len(srs(stack, case, "DEO Late Remittance")) == 1
