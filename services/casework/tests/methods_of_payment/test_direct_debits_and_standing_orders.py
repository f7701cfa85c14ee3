"""Direct debits and standing orders through the running stack: the default standing order on a Collect & Pay case
whose paying parent chose no method, a direct debit mandate replacing it (its reference only), and who may read the
method of payment."""

from __future__ import annotations

import uuid

import grpc

from cms.casework.v1 import methods_of_payment_service_pb2 as mop_api
from cms.casework.v1 import resources_pb2 as pb
from cms_devkit.testing import events_on, wait_until
from cms_platform.models import ProcessedEvent

from ..conftest import alex_and_bethan, error

DEFAULT_SO = pb.METHOD_OF_PAYMENT_FROM_STANDING_ORDER_DEFAULT
DD = pb.METHOD_OF_PAYMENT_FROM_DIRECT_DEBIT
PLAN_ISSUED = "uk.gov.cms.casework.case.payment_plan_issued.v1"
METHOD_CHANGED = "uk.gov.cms.casework.method_of_payment.changed.v1"


def method_of(stack, case, *, as_=None):
    return stack.mop_call(
        "GetMethodOfPayment",
        mop_api.GetMethodOfPaymentRequest(name=f"{case.name}/methodOfPayment"),
        as_=as_,
        attempts=1,
    )


def changes_on_topic(stack, case, expected: int) -> list:
    return events_on(
        stack.bootstrap, "cms.casework.money.events.v1", METHOD_CHANGED, case.name, expected
    )


def test_a_paying_parent_who_chose_no_method_gets_a_default_standing_order(stack, clock):
    case = stack.collect_and_pay_case()
    held = stack.case_method(case, DEFAULT_SO)
    assert held.method_of_payment_from == DEFAULT_SO
    method = method_of(stack, case)
    assert method.method == DEFAULT_SO and method.defaulted

    chosen = stack.mop_call(
        "RecordDirectDebit",
        mop_api.RecordDirectDebitRequest(
            request_id=str(uuid.uuid4()), parent=case.name, mandate_reference="CMS-DD/0042"
        ),
    )
    assert chosen.method == DD and chosen.reference == "CMS-DD/0042" and not chosen.defaulted
    stack.case_method(case, DD)
    events = changes_on_topic(stack, case, expected=2)
    assert len(events) == 2  # the default, then the direct debit
    assert all(b"CMS-DD" not in r.value for r in events)  # events carry no reference or bank detail


def test_a_direct_pay_case_gets_no_default(stack, clock):
    case = stack.new_live_case(alex_and_bethan(service_type=pb.SERVICE_TYPE_DIRECT_PAY))
    [plan_issued] = events_on(stack.bootstrap, "cms.casework.events.v1", PLAN_ISSUED, case.name)
    event_id = dict(plan_issued.headers)["ce_id"].decode()
    group = stack.casework.settings.methods_of_payment_consumer_group

    def handled() -> bool:
        with stack.casework.sessions() as s:
            return s.get(ProcessedEvent, (group, event_id)) is not None

    wait_until(handled, timeout=120, what="methods of payment to handle the plan")
    assert method_of(stack, case).method == pb.METHOD_OF_PAYMENT_FROM_UNSPECIFIED


def test_a_voluntary_standing_order_and_who_may_read_it(stack, clock):
    case = stack.collect_and_pay_case()
    stack.mop_call(
        "RecordStandingOrder",
        mop_api.RecordStandingOrderRequest(
            request_id=str(uuid.uuid4()), parent=case.name, reference="AT 2026"
        ),
    )
    stack.case_method(case, pb.METHOD_OF_PAYMENT_FROM_STANDING_ORDER_VOLUNTARY)
    paying = stack.creds.client(case.paying_parent.name.removeprefix("clients/"))
    assert method_of(stack, case, as_=paying).reference == "AT 2026"
    receiving = stack.creds.client(case.receiving_parent.name.removeprefix("clients/"))
    err = error(lambda: method_of(stack, case, as_=receiving))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    err = error(
        lambda: stack.mop_call(
            "RecordStandingOrder",
            mop_api.RecordStandingOrderRequest(
                request_id=str(uuid.uuid4()), parent=case.name, reference="x"
            ),
            as_=paying,
            attempts=1,
        )
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
