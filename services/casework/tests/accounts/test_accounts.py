"""The Collect & Pay account through the running stack's gRPC API (AccountsService, RunScheduledWork): accounts
opened from payment plans, the charge run, receipts and their replays, suspense, payment files, the payment run,
statements for each side, and a closed case's account. Business clock: 6 April 2026; Alex pays Bethan £96 a week,
monthly: £416.00 maintenance, £83.20 fee (£499.20 due) and £16.64 off for Bethan (£399.36) on the 6th."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import grpc
import pytest
from sqlalchemy import select

from cms.casework.v1 import accounts_pb2 as apb
from cms.casework.v1 import accounts_service_pb2 as aapi
from cms.casework.v1 import accounts_service_pb2_grpc as agrpc
from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import money_events_pb2 as mev
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_casework.access.models import CaseAuditRecord
from cms_casework.accounts import flows, rules
from cms_casework.accounts import service as account_service
from cms_devkit.testing import events_on, wait_until
from cms_platform.grpc_errors import details_of, violated_fields
from cms_platform.identity import staff_caller

from ..conftest import alex_and_bethan, d, error, person

C_AND_P = pb.SERVICE_TYPE_COLLECT_AND_PAY
MONEY_TOPIC = "cms.casework.money.events.v1"
DD = mev.RECEIPT_METHOD_DIRECT_DEBIT


@dataclass
class Accounts:
    stub: agrpc.AccountsServiceStub
    stack: object

    @property
    def staff(self):
        return self.stack.creds.staff("cw-1", "caseworker")

    def of(self, case: pb.Case) -> apb.Account:
        """The case's account, once casework's accounts consumer has opened it from the plan's event."""

        def opened() -> apb.Account | None:
            found = self.stub.ListAccounts(
                aapi.ListAccountsRequest(case=case.name), metadata=self.staff, timeout=10
            ).accounts
            return found[0] if found else None

        return wait_until(opened, timeout=120, what="the account to open")

    def get(self, account: apb.Account, as_=None) -> apb.Account:
        return self.stub.GetAccount(
            aapi.GetAccountRequest(name=account.name), metadata=as_ or self.staff, timeout=10
        )

    def receive(
        self,
        account: apb.Account,
        amount: int,
        *,
        reference: str | None = None,
        on=None,
        method=DD,
        request_id: str | None = None,
    ) -> aapi.RecordReceiptResponse:
        return self.stub.RecordReceipt(
            aapi.RecordReceiptRequest(
                request_id=request_id or str(uuid.uuid4()),
                receipt=aapi.ReceiptInput(
                    payment_reference=account.payment_reference,
                    external_reference=reference or f"dd-{uuid.uuid4().hex[:12]}",
                    method=method,
                    amount_pence=amount,
                    received_date=on or d(2026, 4, 6),
                ),
            ),
            metadata=self.staff,
            timeout=10,
        )

    def statement(self, account, view, *, as_=None, since=None, printable=False):
        return self.stub.GetAccountStatement(
            aapi.GetAccountStatementRequest(
                name=account.name, since=since or d(2026, 1, 1), view=view, printable=printable
            ),
            metadata=as_ or self.staff,
            timeout=10,
        )


@pytest.fixture
def accounts(stack) -> Accounts:
    channel = grpc.insecure_channel(f"127.0.0.1:{stack.casework.server.port}")
    return Accounts(agrpc.AccountsServiceStub(channel), stack)


def money_events(stack, account_name: str, kind: str, expected: int) -> list:
    return events_on(
        stack.bootstrap,
        MONEY_TOPIC,
        f"uk.gov.cms.casework.account.{kind}.v1",
        account_name,
        expected,
    )


def chidi_and_sian() -> api.CreateCaseRequest:
    request = alex_and_bethan(service_type=C_AND_P)
    request.paying_parent.identity.CopyFrom(person("AC345678C", "Chidi", "Okafor", (1990, 6, 30)))
    request.paying_parent.ClearField("address")
    request.receiving_parent.identity.CopyFrom(
        person("AG765432A", "Siân", "Llewellyn-Price", (1983, 5, 17))
    )
    del request.qualifying_children[:]
    request.qualifying_children.add(
        name=common.PersonName(forenames="Ffion", surname="Okafor"),
        date_of_birth=d(2014, 5, 20),
        child_reference_number="AK100003C",
    )
    return request


def rebuilt_alike(stack, account: apb.Account, *days: dt.date) -> None:
    """The balances the service sums in the database are the rules' balances rebuilt from the entries read back."""
    case_id = account.payment_reference
    with stack.casework.sessions() as s:
        entries = list(account_service.entries_of(s, case_id=case_id))
        assert entries
        for day in (*days, dt.date.max):
            assert account_service.balances(s, case_id=case_id, as_of=day) == rules.balances(
                entries, as_of=day
            )
        # And what is unpaid of the charges due by a day, as the arrears check reads it.
        for day in days:
            assert account_service.unpaid_due_on_or_before(s, case_id=case_id, on=day) == sum(
                d.outstanding for d in rules.debts_of(entries) if d.due <= day
            )
        # And each view's statement (lines and running balance summed in the database) is the rules' statement.
        clock = stack.casework.clock
        for view in (
            apb.STATEMENT_VIEW_FULL,
            apb.STATEMENT_VIEW_PAYING_PARENT,
            apb.STATEMENT_VIEW_RECEIVING_PARENT,
        ):
            for since in (dt.date.min, *days):
                made = account_service.statement(
                    s,
                    name=account.name,
                    since=since,
                    view=view,
                    caller=staff_caller("cw-1", "caseworker"),
                    clock=clock,
                )
                opening, lines, closing = rules.statement(
                    entries, view=view, since=since, as_of=clock.today()
                )
                assert (made.opening_balance_pence, made.closing_balance_pence) == (
                    opening,
                    closing,
                )
                assert [
                    (int(line.entry.rsplit("/", 1)[-1]), line.amount_pence, line.balance_pence)
                    for line in made.lines
                ] == [(line.entry.id, line.amount, line.balance) for line in lines]


def charged(stack, on) -> api.ScheduledJobResult:
    return stack.run_scheduled(on, api.SCHEDULED_JOB_ACCOUNT_CHARGES).results[0]


def test_a_collect_and_pay_plan_opens_an_account_and_the_charge_run_posts_charges_with_fees(
    stack, accounts
):
    case = stack.new_live_case(alex_and_bethan(service_type=C_AND_P))
    account = accounts.of(case)
    assert account.payment_reference == case.name.removeprefix("cases/")
    assert account.state == apb.ACCOUNT_STATE_OPEN and account.service_type == C_AND_P
    assert account.balances == apb.AccountBalances()  # nothing charged before the run
    assert len(money_events(stack, account.name, "opened", 1)) == 1

    run = charged(stack, d(2026, 4, 6))
    assert (run.items_due, run.items_processed) == (1, 1)
    b = accounts.get(account).balances
    assert (b.maintenance_charged_pence, b.paying_parent_fees_pence, b.owed_pence) == (
        41600,
        8320,
        49920,
    )
    assert b.arrears_pence == 0  # due today: not yet late
    # Running again (the same date, or the job afresh after a crash) posts nothing twice.
    assert charged(stack, d(2026, 4, 6)).items_due == 0
    again = flows.run_charges(
        sessions=stack.casework.sessions, as_of=dt.date(2026, 4, 6), clock=stack.casework.clock
    )
    assert (again.due, again.items) == (0, 0)
    assert accounts.get(account).balances == b
    posted = money_events(stack, account.name, "ledger_entry_posted", 2)
    kinds = sorted(mev.LedgerEntryPosted.FromString(r.value).kind for r in posted)
    assert kinds == [
        mev.LEDGER_ENTRY_KIND_MAINTENANCE_CHARGE,
        mev.LEDGER_ENTRY_KIND_PAYING_PARENT_FEE,
    ]


def test_a_direct_pay_case_gets_an_account_but_no_charges(stack, accounts):
    case = stack.new_live_case(alex_and_bethan())
    account = accounts.of(case)
    assert account.service_type == pb.SERVICE_TYPE_DIRECT_PAY
    assert charged(stack, d(2026, 6, 30)).items_due == 0
    assert accounts.get(account).balances.maintenance_charged_pence == 0


def test_a_receipt_is_allocated_and_its_reference_replays_or_is_refused(stack, accounts, clock):
    case = stack.new_live_case(alex_and_bethan(service_type=C_AND_P))
    account = accounts.of(case)
    charged(stack, d(2026, 4, 6))
    first = accounts.receive(account, 49920, reference="DD-0001")
    assert first.name.startswith(f"{account.name}/receipts/") and not first.held_in_suspense
    b = accounts.get(account).balances
    assert (b.received_pence, b.allocated_pence, b.owed_pence, b.held_credit_pence) == (
        49920,
        49920,
        0,
        0,
    )
    assert b.payable_to_receiving_parent_pence == 39936

    # The same payment again (a new request id): the first result, nothing more.
    assert accounts.receive(account, 49920, reference="DD-0001").name == first.name
    assert accounts.get(account).balances == b
    # The same reference with another amount names the field.
    err = error(lambda: accounts.receive(account, 100, reference="DD-0001"))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "receipt.external_reference" in violated_fields(err)
    # A negative or an unknown amount or method names the field too; nothing was written.
    err = error(lambda: accounts.receive(account, -5))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "receipt.amount_pence" in violated_fields(err)
    err = error(lambda: accounts.receive(account, 500, method=99))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "receipt.method" in violated_fields(err)
    assert accounts.get(account).balances == b

    recorded = money_events(stack, account.name, "receipt_recorded", 1)
    assert len(recorded) == 1
    event = mev.ReceiptRecorded.FromString(recorded[0].value)
    assert (event.receipt, event.external_reference, event.amount_pence) == (
        first.name,
        "DD-0001",
        49920,
    )

    # Paid in advance: more than is due is held as credit, and pays the next charge when it falls due.
    err = error(lambda: accounts.receive(account, 60000, on=d(2026, 4, 20)))
    assert "receipt.received_date" in violated_fields(err)  # not received yet
    clock.advance(dt.timedelta(days=14))
    accounts.receive(account, 60000, on=d(2026, 4, 20))
    assert accounts.get(account).balances.held_credit_pence == 60000
    clock.advance(dt.timedelta(days=16))
    charged(stack, d(2026, 5, 6))
    b = accounts.get(account).balances
    assert (b.owed_pence, b.held_credit_pence) == (0, 60000 - 49920)
    rebuilt_alike(stack, account, dt.date(2026, 4, 6), dt.date(2026, 4, 7), dt.date(2026, 5, 6))


def test_an_unmatched_receipt_waits_in_suspense_until_it_is_allocated(stack, accounts):
    case = stack.new_live_case(alex_and_bethan(service_type=C_AND_P))
    account = accounts.of(case)
    charged(stack, d(2026, 4, 6))
    held = accounts.stub.RecordReceipt(
        aapi.RecordReceiptRequest(
            request_id=str(uuid.uuid4()),
            receipt=aapi.ReceiptInput(
                payment_reference="NO-SUCH-CASE",
                external_reference="SO-77",
                method=mev.RECEIPT_METHOD_STANDING_ORDER,
                amount_pence=20000,
                received_date=d(2026, 4, 6),
            ),
        ),
        metadata=accounts.staff,
        timeout=10,
    )
    assert held.held_in_suspense and held.name.startswith("suspenseItems/")
    items = accounts.stub.ListSuspenseItems(
        aapi.ListSuspenseItemsRequest(), metadata=accounts.staff, timeout=10
    ).suspense_items
    assert [(i.name, i.amount_pence, i.state) for i in items] == [
        (held.name, 20000, apb.SUSPENSE_ITEM_STATE_HELD)
    ]
    assert accounts.get(account).balances.received_pence == 0

    # The item is worked through a service request on no case, in the finance queue, for staff only.
    sr_name = items[0].service_request
    assert sr_name.startswith("serviceRequests/") and "/" not in sr_name.removeprefix(
        "serviceRequests/"
    )
    sr = stack.call("GetServiceRequest", api.GetServiceRequestRequest(name=sr_name))
    assert (sr.process, sr.area, sr.sub_area, sr.workgroup, sr.origin, sr.status) == (
        "Finance",
        "Receipts",
        "Unmatched Receipt",
        "finance",
        pb.SERVICE_REQUEST_ORIGIN_SYSTEM,
        pb.SERVICE_REQUEST_STATUS_OPEN,
    )
    assert held.name in sr.description and "NO-SUCH-CASE" not in sr.description
    queue = stack.call(
        "ListServiceRequests", api.ListServiceRequestsRequest(parent="cases/-", workgroup="finance")
    )
    assert [s.name for s in queue.service_requests] == [sr_name]
    assert sr_name not in [
        s.name
        for s in stack.call(
            "ListServiceRequests", api.ListServiceRequestsRequest(parent=case.name)
        ).service_requests
    ]
    bethan = stack.creds.client(case.receiving_parent.name.removeprefix("clients/"))
    hidden = error(
        lambda: stack.stub.GetServiceRequest(
            api.GetServiceRequestRequest(name=sr_name), metadata=bethan, timeout=10
        )
    )
    assert hidden.code() == grpc.StatusCode.NOT_FOUND and "Bethan" not in (hidden.details() or "")
    err = error(
        lambda: stack.stub.ListServiceRequests(
            api.ListServiceRequestsRequest(parent="cases/-"), metadata=bethan, timeout=10
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    # It is on no case: named under one it does not exist.
    elsewhere = error(
        lambda: stack.call(
            "GetServiceRequest",
            api.GetServiceRequestRequest(
                name=f"{case.name}/serviceRequests/{sr_name.removeprefix('serviceRequests/')}"
            ),
        )
    )
    assert elsewhere.code() == grpc.StatusCode.NOT_FOUND
    # Worked like any other: a caseworker takes it and starts on it.
    taken = stack.call(
        "AssignServiceRequest",
        api.AssignServiceRequestRequest(request_id=str(uuid.uuid4()), name=sr_name, owner="cw-1"),
    )
    assert (taken.owner, taken.workgroup) == ("cw-1", "finance")
    started = stack.call(
        "UpdateServiceRequestStatus",
        api.UpdateServiceRequestStatusRequest(
            request_id=str(uuid.uuid4()),
            name=sr_name,
            status=pb.SERVICE_REQUEST_STATUS_IN_PROGRESS,
        ),
    )
    assert started.status == pb.SERVICE_REQUEST_STATUS_IN_PROGRESS
    with stack.casework.sessions() as s:
        audited = s.scalars(
            select(CaseAuditRecord.permitted).where(CaseAuditRecord.resource == sr_name)
        ).all()
    # Get, assign, start (permitted) and the client's refused read.
    assert sorted(audited) == [False, True, True, True]

    item = accounts.stub.AllocateSuspenseItem(
        aapi.AllocateSuspenseItemRequest(
            request_id=str(uuid.uuid4()), name=held.name, account=account.name
        ),
        metadata=accounts.staff,
        timeout=10,
    )
    assert item.state == apb.SUSPENSE_ITEM_STATE_ALLOCATED and item.account == account.name
    assert item.receipt.startswith(f"{account.name}/receipts/")
    assert item.service_request == sr_name
    done = stack.call("GetServiceRequest", api.GetServiceRequestRequest(name=sr_name))
    assert (done.status, done.sub_status, done.resolution_code) == (
        pb.SERVICE_REQUEST_STATUS_CLOSED,
        pb.SERVICE_REQUEST_SUB_STATUS_COMPLETE,
        pb.SERVICE_REQUEST_RESOLUTION_CODE_ACCEPTED,
    )
    assert done.notes[-1] == f"allocated to {account.name}"
    assert not stack.call(
        "ListServiceRequests",
        api.ListServiceRequestsRequest(
            parent="cases/-", workgroup="finance", status=pb.SERVICE_REQUEST_STATUS_IN_PROGRESS
        ),
    ).service_requests
    b = accounts.get(account).balances
    assert (b.received_pence, b.owed_pence) == (20000, 29920)
    err = error(
        lambda: accounts.stub.AllocateSuspenseItem(
            aapi.AllocateSuspenseItemRequest(
                request_id=str(uuid.uuid4()), name=held.name, account=account.name
            ),
            metadata=accounts.staff,
            timeout=10,
        )
    )
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert not accounts.stub.ListSuspenseItems(
        aapi.ListSuspenseItemsRequest(), metadata=accounts.staff, timeout=10
    ).suspense_items
    assert len(money_events(stack, account.name, "receipt_recorded", 1)) == 1


def _file(source, reference, lines, **kw) -> aapi.ImportPaymentFileRequest:
    return aapi.ImportPaymentFileRequest(
        request_id=str(uuid.uuid4()),
        source=source,
        file_reference=reference,
        received_date=d(2026, 4, 7),
        lines=lines,
        **kw,
    )


def test_a_days_bank_employer_and_dwp_files_are_recorded_whole(stack, accounts, clock):
    alex = accounts.of(stack.new_live_case(alex_and_bethan(service_type=C_AND_P)))
    chidi = accounts.of(stack.new_live_case(chidi_and_sian()))
    charged(stack, d(2026, 4, 6))
    clock.advance(dt.timedelta(days=1))  # the files of 7 April
    team_leader = stack.team_leader()

    def send(request):
        return accounts.stub.ImportPaymentFile(request, metadata=team_leader, timeout=30)

    dd = send(
        _file(
            aapi.PAYMENT_FILE_SOURCE_DIRECT_DEBIT_COLLECTIONS,
            "BACS-0407",
            [aapi.PaymentFileLine(payment_reference=alex.payment_reference, amount_pence=10000)],
        )
    )
    so = send(
        _file(
            aapi.PAYMENT_FILE_SOURCE_STANDING_ORDERS,
            "SO-0407",
            [aapi.PaymentFileLine(payment_reference=chidi.payment_reference, amount_pence=5000)],
        )
    )
    assert (dd.recorded, so.recorded) == (1, 1)

    def employee(account, deducted, payroll):
        return aapi.PaymentFileLine(
            payment_reference=account.payment_reference,
            external_reference=f"REM-APR/{payroll}",
            amount_pence=deducted,
            earnings_deduction=mev.EarningsDeduction(
                deduction_order=f"deductionOrders/{payroll}",
                employer_paye_reference="247/A1987CB",
                pay_date=d(2026, 3, 31),
                net_earnings_pence=150000,
                deducted_pence=deducted,
                admin_charge_pence=100,
            ),
        )

    remittance = _file(
        aapi.PAYMENT_FILE_SOURCE_EMPLOYER_REMITTANCE,
        "REM-APR",
        [employee(alex, 15000, "P1"), employee(chidi, 12000, "P2"), employee(alex, 0, "P3")],
    )
    # A bad line (nothing deducted is no receipt) refuses the whole file, naming the line; nothing was written.
    err = error(lambda: send(remittance))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "lines[2].amount_pence" in violated_fields(err)
    assert accounts.get(alex).balances.received_pence == 10000
    del remittance.lines[2]
    remittance.request_id = str(uuid.uuid4())
    remittance.lines.append(aapi.PaymentFileLine(payment_reference="UNKNOWN-REF", amount_pence=900))
    done = send(remittance)
    assert (done.recorded, done.held_in_suspense) == (2, 1)
    assert done.lines[2].name.startswith("suspenseItems/")
    dwp = send(
        _file(
            aapi.PAYMENT_FILE_SOURCE_DWP_DEDUCTION_SCHEDULE,
            "DWP-2026-04",
            [aapi.PaymentFileLine(payment_reference=chidi.payment_reference, amount_pence=3640)],
        )
    )
    assert dwp.recorded == 1
    assert accounts.get(alex).balances.received_pence == 25000
    assert accounts.get(chidi).balances.received_pence == 5000 + 12000 + 3640

    events = [
        mev.ReceiptRecorded.FromString(r.value)
        for r in money_events(stack, alex.name, "receipt_recorded", 2)
    ]
    by_method = {e.method: e for e in events}
    assert set(by_method) == {
        mev.RECEIPT_METHOD_DIRECT_DEBIT,
        mev.RECEIPT_METHOD_DEDUCTION_FROM_EARNINGS_ORDER,
    }
    deo = by_method[mev.RECEIPT_METHOD_DEDUCTION_FROM_EARNINGS_ORDER]
    assert deo.earnings_deduction.deduction_order == "deductionOrders/P1"
    assert deo.earnings_deduction.deducted_pence == 15000
    assert not by_method[mev.RECEIPT_METHOD_DIRECT_DEBIT].HasField("earnings_deduction")
    # A caseworker may not import files.
    err = error(
        lambda: accounts.stub.ImportPaymentFile(
            _file(aapi.PAYMENT_FILE_SOURCE_STANDING_ORDERS, "SO-X", remittance.lines),
            metadata=accounts.staff,
            timeout=10,
        )
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED


def test_the_payment_run_pays_the_receiving_parent_net_of_fee_once_a_day(stack, accounts, clock):
    case = stack.new_live_case(alex_and_bethan(service_type=C_AND_P))
    account = accounts.of(case)
    charged(stack, d(2026, 4, 6))
    accounts.receive(account, 49920)
    run = stack.run_scheduled(d(2026, 4, 6), api.SCHEDULED_JOB_PAYMENT_RUN).results[0]
    assert (run.items_due, run.items_processed) == (1, 1)
    b = accounts.get(account).balances
    assert (
        b.paid_out_pence,
        b.receiving_parent_fees_pence,
        b.payable_to_receiving_parent_pence,
    ) == (
        39936,
        1664,
        0,
    )
    # More money the same day waits for tomorrow's run: one payment a receiving parent a day, however often the
    # run is repeated (the job again, or the run afresh after a crash).
    accounts.receive(account, 10000, on=d(2026, 4, 6))
    assert (
        stack.run_scheduled(d(2026, 4, 6), api.SCHEDULED_JOB_PAYMENT_RUN).results[0].items_due == 0
    )
    again = flows.run_payments(
        sessions=stack.casework.sessions, on=dt.date(2026, 4, 6), clock=stack.casework.clock
    )
    assert (again.due, again.items) == (0, 0)
    assert accounts.get(account).balances.paid_out_pence == 39936
    clock.advance(dt.timedelta(days=1))
    stack.run_scheduled(d(2026, 4, 7), api.SCHEDULED_JOB_PAYMENT_RUN)
    # £100 received after the charge was paid is held as credit, not paid on: nothing more was collected.
    assert accounts.get(account).balances.paid_out_pence == 39936
    payments = [
        mev.PaymentToReceivingParentMade.FromString(r.value)
        for r in money_events(stack, account.name, "payment_to_receiving_parent_made", 1)
    ]
    assert [(p.amount_pence, p.receiving_parent, p.payment_date) for p in payments] == [
        (39936, account.receiving_parent, d(2026, 4, 6))
    ]
    assert [(part.account_id, part.amount_pence) for part in payments[0].parts] == [
        (account.name.removeprefix("accounts/"), 39936)
    ]


def test_each_parent_sees_only_their_own_side_and_staff_the_full_breakdown(stack, accounts):
    case = stack.new_live_case(alex_and_bethan(service_type=C_AND_P))
    account = accounts.of(case)
    charged(stack, d(2026, 4, 6))
    accounts.receive(account, 30000)
    stack.run_scheduled(d(2026, 4, 6), api.SCHEDULED_JOB_PAYMENT_RUN)
    alex = stack.creds.client(account.paying_parent.removeprefix("clients/"))
    bethan = stack.creds.client(account.receiving_parent.removeprefix("clients/"))

    paying = accounts.statement(account, apb.STATEMENT_VIEW_PAYING_PARENT, as_=alex)
    assert {line.kind for line in paying.lines} == {
        mev.LEDGER_ENTRY_KIND_MAINTENANCE_CHARGE,
        mev.LEDGER_ENTRY_KIND_PAYING_PARENT_FEE,
        mev.LEDGER_ENTRY_KIND_RECEIPT,
        mev.LEDGER_ENTRY_KIND_ALLOCATION,
    }
    assert paying.closing_balance_pence == 49920 - 30000 == paying.balances.owed_pence
    assert paying.balances.paid_out_pence == 0 and paying.balances.receiving_parent_fees_pence == 0

    receiving = accounts.statement(account, apb.STATEMENT_VIEW_RECEIVING_PARENT, as_=bethan)
    kinds = {line.kind for line in receiving.lines}
    assert mev.LEDGER_ENTRY_KIND_PAYING_PARENT_FEE not in kinds
    assert mev.LEDGER_ENTRY_KIND_RECEIPT not in kinds
    assert {mev.LEDGER_ENTRY_KIND_RECEIVING_PARENT_FEE, mev.LEDGER_ENTRY_KIND_PAYMENT_OUT} <= kinds
    assert receiving.balances.paid_out_pence == 30000 - 1200  # £300 collected, 4% off
    assert (
        receiving.balances.received_pence == 0 and receiving.balances.paying_parent_fees_pence == 0
    )
    assert receiving.closing_balance_pence == 0
    assert (
        accounts.get(account, as_=bethan).balances.owed_pence == 0
    )  # the other side's figures are 0

    # A parent asking for the other side, or the full breakdown, is refused; so is a stranger.
    for who, view in (
        (alex, apb.STATEMENT_VIEW_RECEIVING_PARENT),
        (bethan, apb.STATEMENT_VIEW_FULL),
    ):
        err = error(lambda who=who, view=view: accounts.statement(account, view, as_=who))
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    stranger = stack.creds.client(str(uuid.uuid4()))
    err = error(lambda: accounts.statement(account, apb.STATEMENT_VIEW_PAYING_PARENT, as_=stranger))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert [
        a.name
        for a in accounts.stub.ListAccounts(aapi.ListAccountsRequest(), metadata=bethan).accounts
    ] == [account.name]
    assert not accounts.stub.ListAccounts(aapi.ListAccountsRequest(), metadata=stranger).accounts

    full = accounts.statement(account, apb.STATEMENT_VIEW_FULL, printable=True)
    assert {line.kind for line in full.lines} >= kinds | {mev.LEDGER_ENTRY_KIND_RECEIPT}
    assert full.document.startswith(b"%PDF-1.4") and full.document.rstrip().endswith(b"%%EOF")
    assert b"Closing balance" in full.document
    assert not paying.document  # only when asked for
    # Reads are audited on the case.
    audit = stack.call(
        "ListAuditEntries", api.ListAuditEntriesRequest(parent=case.name), as_=stack.team_leader()
    ).audit_entries
    assert any(e.method.endswith("GetAccountStatement") and not e.permitted for e in audit)


def test_a_case_closed_with_arrears_keeps_its_account_until_they_are_cleared(
    stack, accounts, clock
):
    case = stack.new_live_case(alex_and_bethan(service_type=C_AND_P))
    account = accounts.of(case)
    charged(stack, d(2026, 4, 6))
    accounts.receive(account, 20000)
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
        lambda: accounts.get(account).HasField("case_closed_date"),
        timeout=120,
        what="the account to learn of the closure",
    )
    assert accounts.get(account).case_closed_date == d(2026, 4, 26)
    clock.advance(dt.timedelta(days=40))  # 5 June: May's and June's due dates have passed
    assert charged(stack, d(2026, 6, 5)).items_due == 0
    b = accounts.get(account).balances
    assert (b.maintenance_charged_pence, b.arrears_pence) == (41600, 29920)
    assert accounts.get(account).state == apb.ACCOUNT_STATE_OPEN

    accounts.receive(account, 29920, on=d(2026, 6, 5))
    assert accounts.get(account).state == apb.ACCOUNT_STATE_OPEN  # still payable to Bethan
    stack.run_scheduled(d(2026, 6, 5), api.SCHEDULED_JOB_PAYMENT_RUN)
    closed = accounts.get(account)
    assert closed.state == apb.ACCOUNT_STATE_CLOSED and closed.balances.arrears_pence == 0
    assert len(money_events(stack, account.name, "closed", 1)) == 1
    rebuilt_alike(stack, account, dt.date(2026, 4, 6), dt.date(2026, 4, 7), dt.date(2026, 6, 5))
    err = error(lambda: accounts.receive(account, 1000, on=d(2026, 6, 5)))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    failure = details_of(err)["PreconditionFailure"]
    assert [v.subject for v in failure.violations] == ["receipt.payment_reference"]


def test_adjustments_write_off_refund_and_recognise_arrears_with_their_signs(
    stack, accounts, clock
):
    case = stack.new_live_case(alex_and_bethan(service_type=C_AND_P))
    account = accounts.of(case)
    charged(stack, d(2026, 4, 6))
    leader = stack.team_leader()

    def adjust(kind, amount, cause="Agreed by the team leader"):
        return accounts.stub.PostAdjustment(
            aapi.PostAdjustmentRequest(
                request_id=str(uuid.uuid4()),
                account=account.name,
                kind=kind,
                amount_pence=amount,
                effective_date=d(2026, 4, 6),
                cause=cause,
            ),
            metadata=leader,
            timeout=10,
        )

    # A write-off lowers what is owed: a positive one names the amount; more than is owed is refused.
    err = error(lambda: adjust(mev.ADJUSTMENT_KIND_WRITE_OFF, 500))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "amount_pence" in violated_fields(err)
    err = error(lambda: adjust(mev.ADJUSTMENT_KIND_WRITE_OFF, -49921))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    entry = adjust(mev.ADJUSTMENT_KIND_WRITE_OFF, -920)
    assert entry.kind == mev.LEDGER_ENTRY_KIND_ADJUSTMENT and entry.amount_pence == -920
    assert entry.name.startswith(f"{account.name}/entries/")
    b = accounts.get(account).balances
    assert (b.owed_pence, b.adjusted_pence, b.received_pence) == (49000, 920, 0)

    # Recognised arrears are a charge; a refund pays back only credit held.
    adjust(mev.ADJUSTMENT_KIND_ARREARS_RECOGNISED, 3000, "Direct Pay shortfall reported")
    assert accounts.get(account).balances.owed_pence == 52000
    err = error(lambda: adjust(mev.ADJUSTMENT_KIND_REFUND, -100))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    accounts.receive(account, 53000)
    assert accounts.get(account).balances.held_credit_pence == 1000
    adjust(mev.ADJUSTMENT_KIND_REFUND, -1000, "Overpayment returned")
    b = accounts.get(account).balances
    assert (b.owed_pence, b.held_credit_pence) == (0, 0)
    # Bethan is paid what was collected as maintenance, net of her fee on it: the write-off covered £9.20 of the
    # maintenance (the allocation order's first), and recognised arrears carry no fee.
    assert b.payable_to_receiving_parent_pence == (41600 - 920) - rules.fee(41600 - 920, 400) + 3000
    rebuilt_alike(stack, account, dt.date(2026, 4, 6))
    # A caseworker may not post adjustments.
    err = error(
        lambda: accounts.stub.PostAdjustment(
            aapi.PostAdjustmentRequest(
                request_id=str(uuid.uuid4()),
                account=account.name,
                kind=mev.ADJUSTMENT_KIND_WRITE_OFF,
                amount_pence=-1,
                effective_date=d(2026, 4, 6),
                cause="x",
            ),
            metadata=accounts.staff,
            timeout=10,
        )
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
