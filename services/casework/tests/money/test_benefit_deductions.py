"""A deduction from benefit through each of dwp-gateway's routes (interface, non-automated, automated) ending in an
active deduction that is the case's method of payment, then DWP's schedule of deductions (ImportPaymentFile) paying
the account: the receipts recorded by the method and allocated to what is due."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from cms.casework.v1 import accounts_service_pb2 as aapi
from cms.casework.v1 import methods_of_payment_pb2 as mop
from cms.casework.v1 import methods_of_payment_service_pb2 as mop_api
from cms.casework.v1 import money_events_pb2 as mev
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_service_pb2 as dwp_api
from cms.dwp.v1 import resources_pb2 as dwp_pb
from cms_devkit.testing import wait_until

from ..conftest import d

DFB = pb.METHOD_OF_PAYMENT_FROM_DEDUCTION_FROM_BENEFIT
ACTIVE = mop.BENEFIT_DEDUCTION_STATE_ACTIVE


def method_of(stack, case) -> mop.MethodOfPayment:
    return stack.mop_call(
        "GetMethodOfPayment", mop_api.GetMethodOfPaymentRequest(name=f"{case.name}/methodOfPayment")
    )


def deduction(stack, name: str) -> mop.BenefitDeduction:
    return stack.mop_call("GetBenefitDeduction", mop_api.GetBenefitDeductionRequest(name=name))


def reaches(stack, name: str, state: int) -> mop.BenefitDeduction:
    def got() -> mop.BenefitDeduction | None:
        found = deduction(stack, name)
        return found if found.state == state else None

    return wait_until(
        got, timeout=120, what=f"the deduction {mop.BenefitDeductionState.Name(state)}"
    )


def set_up(stack, case, benefit: str) -> mop.BenefitDeduction:
    return stack.mop_call(
        "SetUpBenefitDeduction",
        mop_api.SetUpBenefitDeductionRequest(
            request_id=str(uuid.uuid4()),
            parent=case.name,
            benefit=benefit,
            deduction_type=mop.BENEFIT_DEDUCTION_TYPE_STANDARD_FLAT_RATE,
        ),
    )


def by_interface(stack, case) -> mop.BenefitDeduction:
    stack.award(dwp_pb.BENEFIT_TYPE_PENSION_CREDIT)
    asked = set_up(stack, case, "PENSION_CREDIT")
    sent = reaches(stack, asked.name, mop.BENEFIT_DEDUCTION_STATE_AWAITING_DECISION)
    assert sent.route == mop.BENEFIT_DEDUCTION_ROUTE_INTERFACE

    def decided() -> mop.BenefitDeduction | None:
        stack.run_jcp_batches()
        found = deduction(stack, asked.name)
        return found if found.state == ACTIVE else None

    return wait_until(decided, timeout=120, interval=0.3, what="JCP's decision")


def by_non_automated(stack, case) -> mop.BenefitDeduction:
    stack.award(dwp_pb.BENEFIT_TYPE_STATE_PENSION)
    asked = set_up(stack, case, "STATE_PENSION")
    sent = reaches(stack, asked.name, mop.BENEFIT_DEDUCTION_STATE_AWAITING_CLERICAL_DECISION)
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
                start_date=d(2026, 4, 6),
                decision_date=d(2026, 4, 6),
                decided_by="Pension Centre",
            ),
            metadata=caseworker,
            timeout=10,
        )
    finally:
        channel.close()
    return reaches(stack, asked.name, ACTIVE)


def by_automation(stack, case) -> mop.BenefitDeduction:
    stack.award_jsa()  # income-based JSA: the flat rate, which dwp-gateway picks up itself
    stack.recalculated(case)

    def decided() -> mop.MethodOfPayment | None:
        stack.run_jcp_batches()
        found = method_of(stack, case)
        return found if found.method == DFB else None

    method = wait_until(
        decided, timeout=120, interval=0.5, what="the automated deduction's decision"
    )
    found = deduction(stack, method.arrangement)
    assert found.route == mop.BENEFIT_DEDUCTION_ROUTE_AUTOMATED
    return found


@pytest.mark.parametrize("route", [by_interface, by_non_automated, by_automation])
def test_a_deduction_from_benefit_on_each_route_pays_the_account_from_dwps_schedule(
    stack, clock, route
):
    case = stack.collect_and_pay_case()
    account = stack.account_of(case)
    active = route(stack, case)
    assert active.state == ACTIVE and active.deduction_id
    assert method_of(stack, case).arrangement == active.name
    stack.case_method(case, DFB)
    stack.charge(d(2026, 4, 6))
    charged = stack.balances(account)
    assert charged.owed_pence > 0

    # DWP's schedule of deductions: two weeks taken from the benefit, paid to the CMS on 20 April.
    clock.advance(dt.timedelta(days=14))
    weekly = active.deduction_amount.amount_pence or 840
    done = stack.import_file(
        aapi.PAYMENT_FILE_SOURCE_DWP_DEDUCTION_SCHEDULE,
        f"DWP-{uuid.uuid4().hex[:8]}",
        d(2026, 4, 20),
        [
            aapi.PaymentFileLine(payment_reference=account.payment_reference, amount_pence=weekly),
            aapi.PaymentFileLine(payment_reference=account.payment_reference, amount_pence=weekly),
        ],
    )
    assert (done.recorded, done.held_in_suspense) == (2, 0)
    b = stack.balances(account)
    paid = min(2 * weekly, charged.owed_pence)
    assert (b.received_pence, b.allocated_pence) == (2 * weekly, paid)
    assert b.owed_pence == charged.owed_pence - paid
    events = [
        mev.ReceiptRecorded.FromString(r.value)
        for r in stack.money_events(account.name, "account.receipt_recorded", 2)
    ]
    assert [(e.method, e.amount_pence) for e in events] == [
        (mev.RECEIPT_METHOD_DEDUCTION_FROM_BENEFIT, weekly)
    ] * 2
