"""`make bench-money`: the Collect & Pay account's bulk runs and statements on PostgreSQL.

Starts casework as its own process, as bench-rpc does (no broker: events wait in the outbox, as they would for a
relay that is behind), on a fresh database `cms_bench_money_casework` of the server CMS_POSTGRES_URL names (or the
local one); this process works on the same database through the service layer and bulk inserts:

1. builds N accounts (default 10,000) by bulk inserts, each with one monthly schedule row due on the run date;
2. times the charge run (accounts.flows.run_charges: the maintenance charge and the paying parent's fee per account,
   with their LedgerEntryPosted events, a chunk of accounts per transaction), in accounts per second;
3. gives every account a receipt covering the charge and its fee (bulk-inserted receipt, allocations and the
   receiving parent's fee, as record_receipt posts them) and times the payment run (accounts.flows.run_payments:
   one payment per receiving parent with its entries and events), in accounts per second;
4. builds one case with ten years of weekly charges, receipts, allocations and payments through the service
   functions, then times GetAccountStatement (the full breakdown, since the start) through gRPC: p50 and p99.

Targets: both runs >= 1,000 accounts/s (300,000 Collect & Pay paying parents in five minutes), a statement's
p99 <= 50 ms. A benchmark, not a test: it prints numbers next to the targets and exits 0 unless it could not run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import grpc
from sqlalchemy import insert, select

from cms.casework.v1 import accounts_pb2 as apb
from cms.casework.v1 import accounts_service_pb2 as aapi
from cms.casework.v1 import accounts_service_pb2_grpc as agrpc
from cms.casework.v1 import money_events_pb2 as mev
from cms.casework.v1 import resources_pb2 as pb
from cms_casework.accounts import flows, rules
from cms_casework.accounts import service as accounts
from cms_casework.accounts.models import AccountRecord, EntryRecord, ReceiptRecord, ScheduleRow
from cms_casework.case_records.models import CaseRecord
from cms_devkit import infra
from cms_devkit.bench import fmt, met, print_summary
from cms_devkit.testing import Credentials
from cms_platform.clock import ManualClock
from cms_platform.convert import pb_date
from cms_platform.db import make_engine, make_sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_rpc  # noqa: E402 - tools/ is not a package; the same stack as bench-rpc

TARGET_ACCOUNTS_PER_S = 1000.0
TARGET_P99_MS = 50.0
RUN_DAY = dt.date(2026, 4, 6)
C_AND_P = pb.ServiceType.Name(pb.SERVICE_TYPE_COLLECT_AND_PAY)
MAINTENANCE = 41600  # £96 a week, monthly


def _now(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)


def build_accounts(sessions, n: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    now = _now(RUN_DAY)
    with sessions.begin() as s:
        s.execute(
            insert(AccountRecord),
            [
                {
                    "id": a,
                    "case_id": str(uuid.uuid4()),
                    "paying_parent_client_id": str(uuid.uuid4()),
                    "receiving_parent_client_id": str(uuid.uuid4()),
                    "service_type": C_AND_P,
                    "state": accounts.OPEN,
                    "case_closed_on": None,
                    "opened_at": now,
                    "closed_at": None,
                }
                for a in ids
            ],
        )
        s.execute(
            insert(ScheduleRow),
            [
                {
                    "account_id": a,
                    "payment_plan": f"cases/x/paymentPlans/{a}",
                    "due_date": RUN_DAY,
                    "covers_start": RUN_DAY,
                    "covers_end": RUN_DAY + dt.timedelta(days=29),
                    "maintenance_pence": MAINTENANCE,
                    "state": accounts.DUE,
                }
                for a in ids
            ],
        )
    return ids


def pay_everyone(sessions, ids: list[str]) -> None:
    """Each account's charge and fee paid in full, posted as record_receipt posts it (bulk, untimed)."""
    now = _now(RUN_DAY)
    fee = rules.fee(MAINTENANCE, 2000)
    rp_fee = rules.fee(MAINTENANCE, 400)
    with sessions.begin() as s:
        charges = dict(
            s.execute(
                select(EntryRecord.account_id, EntryRecord.id).where(
                    EntryRecord.kind == mev.LedgerEntryKind.Name(rules.MAINTENANCE)
                )
            ).all()
        )
        fees = dict(
            s.execute(
                select(EntryRecord.account_id, EntryRecord.id).where(
                    EntryRecord.kind == mev.LedgerEntryKind.Name(rules.PAYING_PARENT_FEE)
                )
            ).all()
        )
        receipts, entries = [], []
        base = {
            "effective_date": RUN_DAY,
            "posted_on": RUN_DAY,
            "posted_at": now,
            "allocation_target": "",
            "covers": None,
            "covers_due": None,
            "covers_kind": "",
            "source": "",
            "adjustment_kind": "",
            "receiving_parent_fee_pence": 0,
        }
        for a in ids:
            r = str(uuid.uuid4())
            receipts.append(
                {
                    "id": r,
                    "account_id": a,
                    "external_reference": f"bench-{r}",
                    "method": "RECEIPT_METHOD_DIRECT_DEBIT",
                    "amount_pence": MAINTENANCE + fee,
                    "received_on": RUN_DAY,
                    "recorded_at": now,
                    "earnings_deduction": b"",
                }
            )
            kinds = mev.LedgerEntryKind
            entries += [
                base
                | {
                    "account_id": a,
                    "key": f"receipt:{r}",
                    "kind": kinds.Name(rules.RECEIPT),
                    "amount_pence": MAINTENANCE + fee,
                    "cause": "Direct debit received",
                    "receipt_id": r,
                },
                base
                | {
                    "account_id": a,
                    "key": f"receipt:{r}:0",
                    "kind": kinds.Name(rules.ALLOCATION),
                    "amount_pence": MAINTENANCE,
                    "cause": "Direct debit received",
                    "allocation_target": "ALLOCATION_TARGET_CURRENT_MAINTENANCE",
                    "covers": charges[a],
                    "covers_due": RUN_DAY,
                    "covers_kind": kinds.Name(rules.MAINTENANCE),
                    "source": rules.FROM_RECEIPT,
                    "receipt_id": r,
                },
                base
                | {
                    "account_id": a,
                    "key": f"receipt:{r}:0:fee",
                    "kind": kinds.Name(rules.RECEIVING_PARENT_FEE),
                    "amount_pence": rp_fee,
                    "cause": "Collection fee",
                    "receipt_id": "",
                },
                base
                | {
                    "account_id": a,
                    "key": f"receipt:{r}:1",
                    "kind": kinds.Name(rules.ALLOCATION),
                    "amount_pence": fee,
                    "cause": "Direct debit received",
                    "allocation_target": "ALLOCATION_TARGET_COLLECTION_FEES",
                    "covers": fees[a],
                    "covers_due": RUN_DAY,
                    "covers_kind": kinds.Name(rules.PAYING_PARENT_FEE),
                    "source": rules.FROM_RECEIPT,
                    "receipt_id": r,
                },
            ]
        s.execute(insert(ReceiptRecord), receipts)
        s.execute(insert(EntryRecord), entries)


def ten_years(sessions, weeks: int) -> str:
    """One live case whose account has `weeks` of weekly charges, receipts (allocated) and payments out, posted
    week by week through the service functions. Returns the account's name."""
    case_id = str(uuid.uuid4())
    start = RUN_DAY - dt.timedelta(weeks=weeks)
    clock = ManualClock(_now(start))
    with sessions.begin() as s:
        s.add(
            CaseRecord(
                id=case_id,
                state=pb.CaseState.Name(pb.CASE_STATE_LIVE),
                paying_parent_nino="AA123456A",
                paying_parent_client_id=str(uuid.uuid4()),
                receiving_parent_client_id=str(uuid.uuid4()),
                document=pb.Case(name=f"cases/{case_id}").SerializeToString(),
                version=1,
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
        account = accounts.open_account(
            s, case_id=case_id, service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY, clock=clock
        )
        account_id = account.id
        for w in range(weeks):
            due = start + dt.timedelta(weeks=w)
            s.add(
                ScheduleRow(
                    account_id=account_id,
                    payment_plan=f"cases/{case_id}/paymentPlans/bench",
                    due_date=due,
                    covers_start=due,
                    covers_end=due + dt.timedelta(days=6),
                    maintenance_pence=9600,
                    state=accounts.DUE,
                )
            )
    for w in range(weeks):
        due = start + dt.timedelta(weeks=w)
        clock = ManualClock(_now(due))
        with sessions.begin() as s:
            accounts.post_due_charges(s, account_ids=[account_id], as_of=due, clock=clock)
            accounts.record_receipt(
                s,
                payment_reference=case_id,
                amount_pence=9600 + 1920,
                method=mev.RECEIPT_METHOD_STANDING_ORDER,
                external_reference=f"bench-so-{case_id}-{w}",
                received_on=due,
                clock=clock,
            )
        with sessions.begin() as s:
            row = s.get(AccountRecord, account_id)
            assert row is not None
            accounts.pay_receiving_parents(
                s, receiving_parent_ids=[row.receiving_parent_client_id], on=due, clock=clock
            )
    return accounts.account_name(account_id)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument(
        "--weeks", type=int, default=520, help="the statement case's weeks of history"
    )
    parser.add_argument(
        "--statements", type=int, default=200, help="GetAccountStatement calls timed"
    )
    args = parser.parse_args()

    server = os.environ.get("CMS_POSTGRES_URL") or infra.postgres_server_url()
    if not server:
        print("bench-money needs PostgreSQL (CMS_POSTGRES_URL, or a server on 127.0.0.1:5432)")
        return 1
    bench = bench_rpc.Bench(Path(tempfile.mkdtemp(prefix="bench-money-")))
    try:
        bench_rpc.start_stack(
            bench, server, "cms_bench_money_", services=("casework",), broker=False
        )
        assert bench.stack is not None
        engine = make_engine(bench.stack.database_url("casework") or "")
        sessions = make_sessionmaker(engine)
        clock = ManualClock(_now(RUN_DAY))
        ids = build_accounts(sessions, args.accounts)

        t = time.perf_counter()
        charges = flows.run_charges(sessions=sessions, as_of=RUN_DAY, clock=clock)
        charge_s = time.perf_counter() - t
        charge_rate = charges.done / charge_s

        pay_everyone(sessions, ids)
        t = time.perf_counter()
        payments = flows.run_payments(sessions=sessions, on=RUN_DAY, clock=clock)
        pay_s = time.perf_counter() - t
        pay_rate = payments.items / pay_s

        t = time.perf_counter()
        account = ten_years(sessions, args.weeks)
        build_s = time.perf_counter() - t

        creds = Credentials(bench.issuer())
        staff = creds.staff("bench", "caseworker")
        shapes = {
            "full breakdown, ten years": aapi.GetAccountStatementRequest(
                name=account,
                since=pb_date(RUN_DAY - dt.timedelta(weeks=args.weeks + 1)),
                view=apb.STATEMENT_VIEW_FULL,
            ),
            "paying parent, last 12 months": aapi.GetAccountStatementRequest(
                name=account,
                since=pb_date(RUN_DAY - dt.timedelta(days=365)),
                view=apb.STATEMENT_VIEW_PAYING_PARENT,
            ),
        }
        timings: dict[str, tuple[int, float, float]] = {}
        with grpc.insecure_channel(bench.addresses["casework"]) as channel:
            stub = agrpc.AccountsServiceStub(channel)
            for shape, request in shapes.items():
                first = stub.GetAccountStatement(request, metadata=staff, timeout=30)
                latencies = []
                for _ in range(args.statements):
                    t = time.perf_counter()
                    stub.GetAccountStatement(request, metadata=staff, timeout=30)
                    latencies.append((time.perf_counter() - t) * 1000)
                timings[shape] = (
                    len(first.lines),
                    percentile(latencies, 50),
                    percentile(latencies, 99),
                )

        print(
            f"\nbench-money on PostgreSQL, {os.cpu_count()} CPUs: {args.accounts:,} accounts; "
            f"charge run {charges.items:,} schedule rows in {charge_s:.2f} s; payment run {payments.items:,} "
            f"payments in {pay_s:.2f} s; statement case: {args.weeks} weeks of entries (built in "
            f"{build_s:.1f} s), {args.statements} calls of each statement, casework in its own process; "
            f"load average at the end {os.getloadavg()[0]:.1f} (other work on the machine slows every figure)\n"
        )
        print_summary(
            [
                (
                    "charge run (accounts/s)",
                    fmt(charge_rate),
                    f">= {TARGET_ACCOUNTS_PER_S:,.0f}",
                    met(charge_rate >= TARGET_ACCOUNTS_PER_S),
                ),
                (
                    "payment run (accounts/s)",
                    fmt(pay_rate),
                    f">= {TARGET_ACCOUNTS_PER_S:,.0f}",
                    met(pay_rate >= TARGET_ACCOUNTS_PER_S),
                ),
            ]
            + [
                row
                for shape, (lines, p50, p99) in timings.items()
                for row in (
                    (f"statement p50 (ms): {shape} ({lines:,} lines)", fmt(p50, ".1f"), "", ""),
                    (
                        f"statement p99 (ms): {shape}",
                        fmt(p99, ".1f"),
                        f"<= {TARGET_P99_MS:.0f}",
                        met(p99 <= TARGET_P99_MS),
                    ),
                )
            ],
            name_width=62,
        )
        return 0
    finally:
        bench_rpc.close_stack(bench, keep=False)


if __name__ == "__main__":
    sys.exit(main())
