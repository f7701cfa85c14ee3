"""Small helpers for the arrears stack tests, and the set-up they share on the real Collect & Pay account
(cms_casework.accounts): the account opened from the case's plan, the charge run, receipts, and arrears or an
overpayment made by the account's own adjustments."""

from __future__ import annotations

import datetime as dt
import uuid

from cms.casework.v1 import accounts_pb2 as accounts_pb
from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import money_events_pb2 as money_ev
from cms.casework.v1 import resources_pb2 as pb
from cms_casework.accounts import rules as account_rules
from cms_casework.accounts import service as accounts
from cms_devkit.testing import wait_until
from cms_platform.convert import day_of, pb_date

from ..conftest import alex_and_bethan
from .conftest import case_id

# Alex pays Bethan £96 a week, monthly from 6 April 2026: £416.00 maintenance and the £83.20 collection fee a month.
MONTHLY_DUE = 416_00 + 83_20


def live_case(stack, service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY) -> pb.Case:
    return stack.new_live_case(alex_and_bethan(service_type=service_type))


def srs_of(stack, case: pb.Case, sub_area: str) -> list[pb.ServiceRequest]:
    found = stack.call(
        "ListServiceRequests", api.ListServiceRequestsRequest(parent=case.name)
    ).service_requests
    return [sr for sr in found if sr.sub_area == sub_area]


def letters_of(stack, case: pb.Case, kind) -> list[pb.Correspondence]:
    found = stack.call(
        "ListCorrespondence", api.ListCorrespondenceRequest(parent=case.name, page_size=200)
    ).correspondence
    return [c for c in found if c.kind == kind]


def opened(stack, case: pb.Case) -> str:
    """The case's account name, once casework's accounts consumer has opened it from the plan's event."""

    def account() -> str | None:
        with stack.casework.sessions() as s:
            row = accounts.account_of_case(s, case_id(case))
            return None if row is None else accounts.account_name(row.id)

    return wait_until(account, timeout=120, what="the account to open from the plan")


def live_case_with_account(stack, service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY) -> pb.Case:
    case = live_case(stack, service_type)
    opened(stack, case)
    return case


def charge(stack, on: dt.date) -> None:
    """The charge run for `on`: the schedule's payments due by then become charges."""
    result = stack.run_scheduled(pb_date(on), api.SCHEDULED_JOB_ACCOUNT_CHARGES).results[0]
    assert result.items_failed == 0, result.failures


def recognise_arrears(stack, clock, case: pb.Case, pence: int, *, due: dt.date) -> str:
    """Arrears recognised on the account (a charge due on `due`): arrears from the day after."""
    with stack.casework.sessions.begin() as s:
        return accounts.post_adjustment(
            s,
            case_id=case_id(case),
            kind=money_ev.ADJUSTMENT_KIND_ARREARS_RECOGNISED,
            amount_pence=pence,
            effective_date=due,
            cause="Direct Pay shortfall before the move",
            clock=clock,
        )


def overpay(stack, clock, case: pb.Case, pence: int) -> str:
    """A backdated decision made the account `pence` overpaid today."""
    with stack.casework.sessions.begin() as s:
        return accounts.post_adjustment(
            s,
            case_id=case_id(case),
            kind=money_ev.ADJUSTMENT_KIND_BACKDATED_OVERPAYMENT,
            amount_pence=-pence,
            effective_date=clock.today(),
            cause="Backdated decision: maintenance overpaid",
            clock=clock,
        )


def receive(stack, clock, case: pb.Case, pence: int, *, on: dt.date | None = None) -> str:
    """A one-off payment from the paying parent quoting the case's payment reference (ReceiptRecorded follows)."""
    with stack.casework.sessions.begin() as s:
        return accounts.record_receipt(
            s,
            payment_reference=case_id(case),
            amount_pence=pence,
            method=money_ev.RECEIPT_METHOD_ONE_OFF,
            external_reference=f"one-off-{uuid.uuid4().hex[:12]}",
            received_on=on or clock.today(),
            clock=clock,
        )


def balances(stack, case: pb.Case, as_of: dt.date) -> account_rules.Balances:
    with stack.casework.sessions() as s:
        return accounts.balances(s, case_id=case_id(case), as_of=as_of)


def ledger(stack, case: pb.Case) -> list[accounts_pb.LedgerEntry]:
    """Every entry on the account, in posting order."""
    with stack.casework.sessions() as s:
        account = accounts.account_of_case(s, case_id(case))
        assert account is not None
        ids = sorted(e.id for e in accounts.entries_of(s, case_id=case_id(case)))
        return [
            accounts.entry_proto(s, account_id=account.id, name=accounts.entry_name(account.id, i))
            for i in ids
        ]


def adjustments(stack, case: pb.Case) -> list[tuple[int, int, dt.date, str]]:
    """The account's adjustments, in posting order: (adjustment kind, signed pence, effective date, cause)."""
    return [
        (e.adjustment_kind, e.amount_pence, day_of(e.effective_date), e.cause)
        for e in ledger(stack, case)
        if e.kind == money_ev.LEDGER_ENTRY_KIND_ADJUSTMENT
    ]
