"""A backdated change that overpays, through the running stack: charges posted and paid, then an income fall from
11 May reported and applied on 1 June (£96 a week to £67 for the 21 days before the decision: £87.00 overpaid, the
new plan's backdated overpaid amount). The account shows it overpaid, the arrears check raises "Overpayment
Decision", and DecideOverpayment either offsets it against the arrears (MPA Regs 2009 reg 8) or reduces the amount
payable (reg 9), which the charge run applies to each period's maintenance until the overpayment is recovered."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc

from cms.casework.v1 import accounts_pb2 as apb
from cms.casework.v1 import accounts_service_pb2 as aapi
from cms.casework.v1 import arrears_pb2 as arrears_pb
from cms.casework.v1 import arrears_service_pb2 as arrears_api
from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import money_events_pb2 as mev
from cms.casework.v1 import resources_pb2 as pb
from cms_devkit.testing import wait_until

from ..conftest import alex_and_bethan, d
from .conftest import grpc_error

DECISION_DAY = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
OVERPAID = 87_00  # (£96 - £67) x 21 / 7


def receive(stack, account, amount: int, on) -> None:
    stack.account_call(
        "RecordReceipt",
        aapi.RecordReceiptRequest(
            request_id=str(uuid.uuid4()),
            receipt=aapi.ReceiptInput(
                payment_reference=account.payment_reference,
                external_reference=f"DD-{uuid.uuid4().hex[:10]}",
                method=mev.RECEIPT_METHOD_DIRECT_DEBIT,
                amount_pence=amount,
                received_date=on,
            ),
        ),
    )


def applied(stack, case) -> bool:
    try:
        stack.apply(case)
    except grpc.RpcError as err:
        if err.code() != grpc.StatusCode.ABORTED:
            raise
        return False
    return True


def overpaid_by_a_backdated_income_fall(
    stack, clock, *, may_paid: int
) -> tuple[pb.Case, apb.Account]:
    """April paid in full, `may_paid` of May's £499.20, then the income fall from 11 May applied on 1 June."""
    case = stack.new_live_case(alex_and_bethan(service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY))
    account = stack.account_of(case)
    stack.charge(d(2026, 4, 6))
    receive(stack, account, 499_20, d(2026, 4, 6))
    clock.set(dt.datetime(2026, 5, 6, 9, 0, tzinfo=dt.UTC))
    stack.charge(d(2026, 5, 6))
    receive(stack, account, may_paid, d(2026, 5, 6))
    clock.set(DECISION_DAY)
    change = stack.report(
        case,
        pb.ChangeOfCircumstances(
            type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_INCOME,
            effective_date=d(2026, 5, 11),
            income_change=pb.IncomeChange(
                current_gross_weekly_income_pence=418_85, source=pb.INCOME_SOURCE_PAYSLIPS
            ),
        ),
    )
    stack.verify(change)
    wait_until(lambda: applied(stack, case), timeout=120, what="the change to be applied")
    wait_until(
        lambda: stack.balances(account).overpaid_pence == OVERPAID,
        timeout=120,
        what="the new plan's backdated overpayment on the account",
    )
    return stack.call("GetCase", api.GetCaseRequest(name=case.name)), account


def posted_entries(stack, account) -> list[mev.LedgerEntryPosted]:
    return [
        mev.LedgerEntryPosted.FromString(r.value)
        for r in stack.money_events(account.name, "account.ledger_entry_posted", 1)
    ]


def decide(stack, case, outcome, **kw) -> arrears_pb.OverpaymentDecision:
    return stack.arrears_call(
        "DecideOverpayment",
        arrears_api.DecideOverpaymentRequest(
            request_id=str(uuid.uuid4()),
            parent=case.name,
            outcome=outcome,
            reason="backdated pay cut",
            **kw,
        ),
    )


def test_a_backdated_overpayment_is_offset_against_the_arrears(stack, clock):
    case, account = overpaid_by_a_backdated_income_fall(stack, clock, may_paid=400_00)
    check = stack.run_scheduled(d(2026, 6, 1), api.SCHEDULED_JOB_ARREARS_CHECK).results[0]
    assert check.items_failed == 0, check.failures
    (sr,) = stack.srs(case, "Overpayment Decision")
    assert "£87.00" in sr.description
    assert stack.srs(case, "Missed Payment")  # May's £99.20 short
    before = stack.balances(account)
    assert (before.overpaid_pence, before.arrears_pence) == (OVERPAID, 99_20)

    decision = decide(stack, case, arrears_pb.OVERPAYMENT_OUTCOME_ADJUST_ARREARS)
    assert (decision.overpaid_pence, decision.arrears_pence, decision.offset_pence) == (
        OVERPAID,
        99_20,
        OVERPAID,
    )
    assert decision.service_request == sr.name
    after = stack.balances(account)
    assert (after.overpaid_pence, after.arrears_pence) == (0, 99_20 - OVERPAID)
    adjustments = [
        (e.adjustment_kind, e.amount_pence)
        for e in posted_entries(stack, account)
        if e.kind == mev.LEDGER_ENTRY_KIND_ADJUSTMENT
    ]
    assert adjustments == [
        (mev.ADJUSTMENT_KIND_BACKDATED_OVERPAYMENT, -OVERPAID),
        (mev.ADJUSTMENT_KIND_REGULATION_8_OFFSET, -OVERPAID),
    ]
    # The paying parent's statement shows the offset lowering what they owe.
    paying = stack.statement(account, apb.STATEMENT_VIEW_PAYING_PARENT)
    assert -OVERPAID in [
        line.amount_pence for line in paying.lines if line.kind == mev.LEDGER_ENTRY_KIND_ADJUSTMENT
    ]
    # Nothing more to decide: a second decision is refused.
    refused = grpc_error(
        lambda: stack.arrears.DecideOverpayment(
            arrears_api.DecideOverpaymentRequest(
                request_id=str(uuid.uuid4()),
                parent=case.name,
                outcome=arrears_pb.OVERPAYMENT_OUTCOME_ADJUST_ARREARS,
                reason="again",
            ),
            metadata=stack.creds.staff("cw-1", "caseworker"),
            timeout=20,
        )
    )
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_a_reduced_amount_payable_is_applied_by_the_charge_run_until_recovered(stack, clock):
    case, account = overpaid_by_a_backdated_income_fall(stack, clock, may_paid=499_20)
    stack.run_scheduled(d(2026, 6, 1), api.SCHEDULED_JOB_ARREARS_CHECK)
    assert stack.srs(case, "Overpayment Decision")
    plan = stack.call("GetPaymentPlan", api.GetPaymentPlanRequest(name=case.current_payment_plan))
    july, august, september = plan.payments[1], plan.payments[2], plan.payments[3]
    monthly = july.maintenance_pence
    decision = decide(
        stack,
        case,
        arrears_pb.OVERPAYMENT_OUTCOME_REDUCE_AMOUNT_PAYABLE,
        reduction_per_period_pence=50_00,
        reduction_start_date=july.due_date,
    )
    assert (decision.reduction_periods, decision.final_reduction_pence) == (2, OVERPAID - 50_00)

    # June's charge is before the reduction's first date: charged in full.
    stack.charge(d(2026, 6, 1))
    assert stack.balances(account).overpaid_pence == OVERPAID
    clock.set(dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC))
    stack.charge(july.due_date)
    b = stack.balances(account)
    assert b.overpaid_pence == OVERPAID - 50_00
    # August takes what is left; September is charged in full.
    clock.set(dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC))
    stack.charge(september.due_date)
    assert stack.charge(september.due_date).items_due == 0  # a re-run reduces nothing twice
    b = stack.balances(account)
    assert b.overpaid_pence == 0 and b.adjusted_pence == OVERPAID
    # Each reduction is a ledger entry of its own kind, announced, on its period's due date.
    reductions = [
        (e.effective_date.month, e.amount_pence)
        for e in posted_entries(stack, account)
        if e.adjustment_kind == mev.ADJUSTMENT_KIND_REGULATION_9_REDUCTION
    ]
    assert reductions == [
        (july.due_date.month, -50_00),
        (august.due_date.month, -(OVERPAID - 50_00)),
    ]
    charged = plan.payments[0].maintenance_pence + 3 * monthly
    assert b.maintenance_charged_pence == 416_00 * 2 + charged
    # What is owed is the maintenance less the reductions (fees are on the charges as made).
    assert (
        b.owed_pence
        == b.maintenance_charged_pence + b.paying_parent_fees_pence - b.allocated_pence - OVERPAID
    )
