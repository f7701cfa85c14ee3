"""The money contexts together through the running stack's gRPC APIs alone: a deduction from earnings order paid
through the employer's remittance file (the receipt on the account and the order's pay day with the 60% protected
earnings binding and the shortfall carried), an unmatched receipt through suspense, and a case closed with arrears.
Business clock: 6 April 2026; Alex pays Bethan £96 a week, monthly: £416.00 maintenance and £83.20 fee (£499.20)
due on the 6th."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc

from cms.casework.v1 import accounts_pb2 as apb
from cms.casework.v1 import accounts_service_pb2 as aapi
from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import methods_of_payment_pb2 as mop
from cms.casework.v1 import methods_of_payment_service_pb2 as mop_api
from cms.casework.v1 import money_events_pb2 as mev
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_devkit.testing import wait_until

from ..conftest import alex_and_bethan, d
from .conftest import chidi_and_sian, grpc_error

C_AND_P = pb.SERVICE_TYPE_COLLECT_AND_PAY
REMITTANCE = aapi.PAYMENT_FILE_SOURCE_EMPLOYER_REMITTANCE


def remittance_line(account, order_name: str, paye: str, pay_date, net: int, deducted: int):
    return aapi.PaymentFileLine(
        payment_reference=account.payment_reference,
        external_reference=f"{paye}/{order_name}/{pay_date.month}-{pay_date.day}",
        amount_pence=deducted,
        earnings_deduction=mev.EarningsDeduction(
            deduction_order=order_name,
            employer_paye_reference=paye,
            pay_date=pay_date,
            net_earnings_pence=net,
            deducted_pence=deducted,
            admin_charge_pence=100,
        ),
    )


def pay_days(stack, order, count: int) -> mop.DeductionOrder:
    def got() -> mop.DeductionOrder | None:
        found = stack.mop_call(
            "GetDeductionOrder", mop_api.GetDeductionOrderRequest(name=order.name)
        )
        return found if len(found.pay_days) >= count else None

    return wait_until(got, timeout=120, what=f"{count} pay days recorded")


def test_a_deo_remittance_pays_the_account_and_carries_the_protected_earnings_shortfall(
    stack, clock
):
    alex_case = stack.new_live_case(alex_and_bethan(service_type=C_AND_P))
    chidi_case = stack.new_live_case(chidi_and_sian())
    alex, chidi = stack.account_of(alex_case), stack.account_of(chidi_case)
    assert stack.charge(d(2026, 4, 6)).items_processed == 2
    order = stack.mop_call(
        "MakeDeductionOrder",
        mop_api.MakeDeductionOrderRequest(
            request_id=str(uuid.uuid4()),
            parent=alex_case.name,
            kind=mop.DEDUCTION_ORDER_KIND_ORDER,
            pay_frequency=common.PAYMENT_FREQUENCY_WEEKLY,
            arrears_per_pay_day_pence=20_00,
        ),
    )
    ndr = order.normal_deduction_rate_pence
    assert (
        ndr == 96_00 + 19_20 + 20_00 > 120_00
    )  # maintenance, the 20% fee and the arrears component
    paye = order.employer.paye_reference

    # Friday 10 April: net £300, so £180 is protected (60%) and £120 at most can be deducted; the employer's file of
    # 14 April lists Alex and another case's employee.
    clock.advance(dt.timedelta(days=8))
    first_file = stack.import_file(
        REMITTANCE,
        "REM-0414",
        d(2026, 4, 14),
        [
            remittance_line(alex, order.name, paye, d(2026, 4, 10), 300_00, 120_00),
            remittance_line(
                chidi,
                f"{chidi_case.name}/deductionOrders/none",
                paye,
                d(2026, 4, 10),
                400_00,
                50_00,
            ),
        ],
    )
    assert (first_file.recorded, first_file.held_in_suspense) == (2, 0)
    assert first_file.lines[0].name.startswith(f"{alex.name}/receipts/")
    b = stack.balances(alex)
    assert (b.received_pence, b.owed_pence) == (120_00, 499_20 - 120_00)
    assert stack.balances(chidi).received_pence == 50_00
    day = pay_days(stack, order, 1).pay_days[0]
    assert (day.net_earnings_pence, day.expected_deduction_pence, day.deducted_pence) == (
        300_00,
        120_00,
        120_00,
    )
    assert day.shortfall_carried_pence == ndr - 120_00
    assert day.receipt == first_file.lines[0].name

    # Friday 17 April: net £500, £200 available; the NDR and the shortfall carried are both due and paid.
    clock.advance(dt.timedelta(days=7))
    due = ndr + (ndr - 120_00)
    assert due <= 200_00
    stack.import_file(
        REMITTANCE,
        "REM-0421",
        d(2026, 4, 21),
        [remittance_line(alex, order.name, paye, d(2026, 4, 17), 500_00, due)],
    )
    held = pay_days(stack, order, 2)
    second = held.pay_days[1]
    assert (second.expected_deduction_pence, second.deducted_pence) == (due, due)
    assert second.shortfall_carried_pence == 0 == held.shortfall_carried_pence

    statement = stack.statement(alex, apb.STATEMENT_VIEW_PAYING_PARENT)
    receipts = [
        line.amount_pence for line in statement.lines if line.kind == mev.LEDGER_ENTRY_KIND_RECEIPT
    ]
    assert receipts == [-120_00, -due]  # each line's effect: a receipt lowers what is owed
    assert statement.balances.owed_pence == 499_20 - 120_00 - due == statement.closing_balance_pence
    # The receiving parent sees the maintenance collected for her (never the paying parent's receipts).
    bethan = stack.creds.client(alex.receiving_parent.removeprefix("clients/"))
    receiving = stack.statement(alex, apb.STATEMENT_VIEW_RECEIVING_PARENT, as_=bethan)
    assert mev.LEDGER_ENTRY_KIND_RECEIPT not in {line.kind for line in receiving.lines}
    assert receiving.balances.payable_to_receiving_parent_pence > 0


def test_an_unmatched_receipt_waits_in_suspense_until_a_caseworker_allocates_it(stack, clock):
    case = stack.new_live_case(alex_and_bethan(service_type=C_AND_P))
    account = stack.account_of(case)
    stack.charge(d(2026, 4, 6))
    clock.advance(dt.timedelta(days=1))
    # The bank's standing orders of 7 April: Alex quoted his reference with a typing slip.
    done = stack.import_file(
        aapi.PAYMENT_FILE_SOURCE_STANDING_ORDERS,
        "SO-0407",
        d(2026, 4, 7),
        [
            aapi.PaymentFileLine(
                payment_reference=account.payment_reference + "X", amount_pence=200_00
            )
        ],
    )
    assert (done.recorded, done.held_in_suspense) == (0, 1)
    item_name = done.lines[0].name
    assert item_name.startswith("suspenseItems/")
    assert stack.balances(account).received_pence == 0
    items = stack.account_call("ListSuspenseItems", aapi.ListSuspenseItemsRequest()).suspense_items
    assert [(i.name, i.amount_pence) for i in items] == [(item_name, 200_00)]
    assert stack.money_events(item_name, "account.receipt_held_in_suspense")

    item = stack.account_call(
        "AllocateSuspenseItem",
        aapi.AllocateSuspenseItemRequest(
            request_id=str(uuid.uuid4()), name=item_name, account=account.name
        ),
    )
    assert item.state == apb.SUSPENSE_ITEM_STATE_ALLOCATED and item.receipt
    b = stack.balances(account)
    assert (b.received_pence, b.allocated_pence, b.owed_pence) == (200_00, 200_00, 299_20)
    (recorded,) = stack.money_events(account.name, "account.receipt_recorded")
    event = mev.ReceiptRecorded.FromString(recorded.value)
    assert (event.receipt, event.amount_pence, event.case_id) == (
        item.receipt,
        200_00,
        account.payment_reference,
    )
    assert not stack.account_call(
        "ListSuspenseItems", aapi.ListSuspenseItemsRequest()
    ).suspense_items
    err = grpc_error(
        lambda: stack.accounts.AllocateSuspenseItem(
            aapi.AllocateSuspenseItemRequest(
                request_id=str(uuid.uuid4()), name=item_name, account=account.name
            ),
            metadata=stack.creds.staff("cw-1", "caseworker"),
            timeout=10,
        )
    )
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_a_case_closed_with_arrears_charges_no_more_but_keeps_them_until_paid(stack, clock):
    case = stack.new_live_case(alex_and_bethan(service_type=C_AND_P))
    account = stack.account_of(case)
    stack.charge(d(2026, 4, 6))
    stack.account_call(
        "RecordReceipt",
        aapi.RecordReceiptRequest(
            request_id=str(uuid.uuid4()),
            receipt=aapi.ReceiptInput(
                payment_reference=account.payment_reference,
                external_reference="DD-APR",
                method=mev.RECEIPT_METHOD_DIRECT_DEBIT,
                amount_pence=200_00,
                received_date=d(2026, 4, 6),
            ),
        ),
    )
    clock.advance(dt.timedelta(days=20))  # 26 April
    stack.call(
        "CloseCase",
        api.CloseCaseRequest(
            request_id=str(uuid.uuid4()),
            name=case.name,
            reason=pb.CASE_CLOSURE_REASON_APPLICANT_REQUEST,
            effective_date=d(2026, 4, 26),
        ),
    )
    wait_until(
        lambda: stack.account_call(
            "GetAccount", aapi.GetAccountRequest(name=account.name)
        ).HasField("case_closed_date"),
        timeout=120,
        what="the account to learn of the closure",
    )
    clock.advance(dt.timedelta(days=40))  # 5 June: May's and June's due dates have passed
    assert stack.charge(d(2026, 6, 5)).items_due == 0
    b = stack.balances(account)
    assert (b.maintenance_charged_pence, b.arrears_pence) == (416_00, 299_20)
    # Both parents see the arrears: the paying parent owes them, the receiving parent's maintenance is in arrears.
    alex = stack.creds.client(account.paying_parent.removeprefix("clients/"))
    bethan = stack.creds.client(account.receiving_parent.removeprefix("clients/"))
    paying = stack.statement(account, apb.STATEMENT_VIEW_PAYING_PARENT, as_=alex)
    assert (paying.balances.arrears_pence, paying.closing_balance_pence) == (299_20, 299_20)
    receiving = stack.statement(account, apb.STATEMENT_VIEW_RECEIVING_PARENT, as_=bethan)
    assert receiving.balances.maintenance_arrears_pence == 416_00 - 200_00 > 0
    assert receiving.balances.arrears_pence == 0  # the paying parent's own figure (fees included)
    got = stack.account_call("GetAccount", aapi.GetAccountRequest(name=account.name))
    assert got.state == apb.ACCOUNT_STATE_OPEN

    stack.account_call(
        "RecordReceipt",
        aapi.RecordReceiptRequest(
            request_id=str(uuid.uuid4()),
            receipt=aapi.ReceiptInput(
                payment_reference=account.payment_reference,
                external_reference="DD-JUN",
                method=mev.RECEIPT_METHOD_DIRECT_DEBIT,
                amount_pence=299_20,
                received_date=d(2026, 6, 5),
            ),
        ),
    )
    stack.run_scheduled(d(2026, 6, 5), api.SCHEDULED_JOB_PAYMENT_RUN)
    closed = stack.account_call("GetAccount", aapi.GetAccountRequest(name=account.name))
    assert closed.state == apb.ACCOUNT_STATE_CLOSED
    assert (closed.balances.arrears_pence, closed.balances.owed_pence) == (0, 0)
    assert stack.money_events(account.name, "account.closed")
