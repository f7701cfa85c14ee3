"""The Collect & Pay account over its tables (docs/domain/money.md, "The account"): opening from payment plans, the
charge schedule, receipts and their allocation, suspense, adjustments, the bulk charge and payment runs, and the
accounts and statements as callers see them. Keyword-only functions over an explicit session; every ledger entry is
written with its LedgerEntryPosted event in the same transaction, and an account's postings lock its row first, so
two postings never allocate the same charge twice.

The rest of casework is reached only through its service functions (case_records, payment_plans); the money
contexts call record_receipt, unpaid_due_on_or_before, post_adjustment and balances; the enforcement context also
post_enforcement_charge and waive_enforcement_charge."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from google.protobuf.message import Message
from google.type import date_pb2
from sqlalchemy import BigInteger, case, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from cms.casework.v1 import accounts_pb2 as apb
from cms.casework.v1 import money_events_pb2 as money_ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import day_of, pb_date
from cms_platform.db import insert_with_ids
from cms_platform.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    PreconditionViolation,
    ViolationCollector,
)
from cms_platform.identity import Caller, CallerKind

from ..access import service as access
from ..access.rules import client_id_of
from ..access.rules import visible as visible_to
from ..case_records import service as case_records
from ..names import id_from, last_id, new_id
from ..service_requests import service as srs
from . import rules
from .document import render_statement
from .models import (
    AccountRecord,
    EntryRecord,
    PaymentOutRecord,
    ReceiptRecord,
    ScheduleRow,
    SuspenseRecord,
)

K = money_ev.LedgerEntryKind
T = money_ev.AllocationTarget
A = money_ev.AdjustmentKind
M = money_ev.ReceiptMethod
OPEN = apb.AccountState.Name(apb.ACCOUNT_STATE_OPEN)
CLOSED = apb.AccountState.Name(apb.ACCOUNT_STATE_CLOSED)
# An unmatched receipt's service request, in the finance workgroup's queue (docs/domain/money.md, "The account").
SUSPENSE_WORKGROUP = "finance"
UNMATCHED_RECEIPT = ("Finance", "Receipts", "Unmatched Receipt")
HELD = apb.SuspenseItemState.Name(apb.SUSPENSE_ITEM_STATE_HELD)
ALLOCATED = apb.SuspenseItemState.Name(apb.SUSPENSE_ITEM_STATE_ALLOCATED)
COLLECT_AND_PAY = pb.ServiceType.Name(pb.SERVICE_TYPE_COLLECT_AND_PAY)
DUE, CHARGED, SUPERSEDED, ENDED = "DUE", "CHARGED", "SUPERSEDED", "ENDED"
MAX_REFERENCE = 200

# -- configuration ------------------------------------------------------------------------------------------------

_policy = rules.Policy()
# Whether the paying parent is compliant on a date (the reform's 2% / 20% fee): the arrears context provides it.
Compliance = Callable[[Session, str, dt.date], bool]


def _always_compliant(db: Session, case_id: str, on: dt.date) -> bool:
    return True


_compliance: Compliance = _always_compliant


# The Regulation 9 reductions of the amount payable decided for cases (MPA Regs 2009 reg 9), each as (first due date,
# reduction per period), oldest first: the arrears context provides them, the charge run applies them.
Reductions = Callable[[Session, Sequence[str]], dict[str, list[tuple[dt.date, int]]]]


def _no_reductions(db: Session, case_ids: Sequence[str]) -> dict[str, list[tuple[dt.date, int]]]:
    return {}


_reductions: Reductions = _no_reductions


def configure(policy: rules.Policy) -> None:
    """The process's account settings (CASEWORK_ALLOCATION_ORDER, the collection fee parameters)."""
    global _policy
    _policy = policy


def policy() -> rules.Policy:
    return _policy


def set_compliance_check(check: Compliance | None) -> None:
    """How a paying parent's compliance is decided (None: everyone is compliant)."""
    global _compliance
    _compliance = check or _always_compliant


def set_reductions(reductions: Reductions | None) -> None:
    """Where the charge run finds the Regulation 9 reductions decided for cases (None: there are none)."""
    global _reductions
    _reductions = reductions or _no_reductions


# -- names and rows -----------------------------------------------------------------------------------------------


def account_name(account_id: str) -> str:
    return f"accounts/{account_id}"


def entry_name(account_id: str, entry_id: int) -> str:
    return f"accounts/{account_id}/entries/{entry_id}"


def receipt_name(account_id: str, receipt_id: str) -> str:
    return f"accounts/{account_id}/receipts/{receipt_id}"


def suspense_name(item_id: str) -> str:
    return f"suspenseItems/{item_id}"


def account_of_case(db: Session, case_id: str, *, lock: bool = False) -> AccountRecord | None:
    q = select(AccountRecord).where(AccountRecord.case_id == case_id)
    return db.scalars(q.with_for_update() if lock else q).first()


def _account(db: Session, name: str, field: str, *, lock: bool = False) -> AccountRecord:
    account_id = id_from(name, "accounts", field)
    row = db.get(AccountRecord, account_id, with_for_update=lock)
    if row is None:
        raise NotFound("account", name)
    return row


_KIND = {name: value for name, value in K.items()}
_TARGET = {name: value for name, value in T.items()} | {"": money_ev.ALLOCATION_TARGET_UNSPECIFIED}
_ADJUSTMENT = {name: value for name, value in A.items()} | {
    "": money_ev.ADJUSTMENT_KIND_UNSPECIFIED
}


def _statement_rows(
    db: Session, account_id: str, *, since: dt.date, as_of: dt.date
) -> Sequence[Any]:
    """The columns a statement shows of the entries effective from `since` to `as_of`, in its order, as Core tuples."""
    return (
        db.connection()
        .execute(
            select(
                EntryRecord.id,
                EntryRecord.kind,
                EntryRecord.amount_pence,
                EntryRecord.effective_date,
                EntryRecord.allocation_target,
                EntryRecord.source,
                EntryRecord.adjustment_kind,
                EntryRecord.cause,
            )
            .where(
                EntryRecord.account_id == account_id,
                EntryRecord.effective_date >= since,
                EntryRecord.effective_date <= as_of,
            )
            .order_by(EntryRecord.effective_date, EntryRecord.id)
        )
        .all()
    )


_ENTRY_COLUMNS = (
    EntryRecord.id,
    EntryRecord.kind,
    EntryRecord.amount_pence,
    EntryRecord.effective_date,
    EntryRecord.allocation_target,
    EntryRecord.covers,
    EntryRecord.source,
    EntryRecord.adjustment_kind,
    EntryRecord.receipt_id,
)


def _entry(row: Any) -> rules.Entry:
    entry_id, kind, amount, effective, target, covers, source, adjustment, receipt = row
    return rules.Entry(
        entry_id,
        _KIND[kind],
        amount,
        effective,
        _TARGET[target],
        covers,
        source,
        _ADJUSTMENT[adjustment],
        receipt,
    )


def _entries(db: Session, account_id: str) -> list[rules.Entry]:
    """The account's ledger as the rules see it: the columns alone, read as tuples (ten years of weekly entries are
    thousands)."""
    rows = db.connection().execute(  # Core rows: no ORM loading for thousands of tuples
        select(*_ENTRY_COLUMNS)
        .where(EntryRecord.account_id == account_id)
        .order_by(EntryRecord.effective_date, EntryRecord.id)
    )
    return [_entry(row) for row in rows]


_ARREARS_KINDS = [K.Name(k) for k in rules.ARREARS_KINDS]
_FEE_KIND = K.Name(rules.PAYING_PARENT_FEE)
_ENFORCEMENT_KIND = K.Name(rules.ENFORCEMENT_CHARGE)


def _becomes_arrears(row: type[EntryRecord]) -> Any:
    """rules.becomes_arrears as SQL."""
    return row.kind.in_(_ARREARS_KINDS) | (
        (row.kind == K.Name(rules.ADJUSTMENT))
        & (row.adjustment_kind == A.Name(rules.ARREARS_RECOGNISED))
    )


def _unpaid(
    db: Session, account_id: str, *, due_before: dt.date, paid_by: dt.date | None
) -> tuple[int, int]:
    """(all, maintenance only): what was charged with a due date before `due_before` less what allocations covered of
    it (those effective by `paid_by`; all when None), summed in the database."""
    due = db.execute(
        select(EntryRecord.kind, func.sum(EntryRecord.amount_pence))
        .where(
            EntryRecord.account_id == account_id,
            EntryRecord.effective_date < due_before,
            _becomes_arrears(EntryRecord),
        )
        .group_by(EntryRecord.kind)
    ).all()
    paid = select(EntryRecord.covers_kind, func.sum(EntryRecord.amount_pence)).where(
        EntryRecord.account_id == account_id,
        EntryRecord.kind == K.Name(rules.ALLOCATION),
        EntryRecord.covers_due < due_before,
        # Enforcement charges are never arrears (docs/domain/money.md, "Enforcement").
        EntryRecord.covers_kind != K.Name(rules.ENFORCEMENT_CHARGE),
    )
    if paid_by is not None:
        paid = paid.where(EntryRecord.effective_date <= paid_by)
    covered = db.execute(paid.group_by(EntryRecord.covers_kind)).all()
    by_fee: dict[bool, int] = defaultdict(int)
    for kind, total in due:
        by_fee[kind == _FEE_KIND] += int(total or 0)
    for kind, total in covered:
        by_fee[kind == _FEE_KIND] -= int(total or 0)
    return by_fee[True] + by_fee[False], by_fee[False]


def _balances(db: Session, account_id: str, *, as_of: dt.date) -> rules.Balances:
    """rules.balances, summed in the database rather than over every entry read back."""
    return _summary(db, account_id, as_of=as_of)[0]


def _summary(
    db: Session, account_id: str, *, as_of: dt.date, before: dt.date | None = None
) -> tuple[rules.Balances, list[tuple[rules.Group, int]]]:
    """(the balances as of `as_of`, the entries before `before` summed by group): what _balances and _sums give, in
    one pass over the account's entries rather than four (a statement's fixed cost on a ten-year ledger)."""
    amount = EntryRecord.amount_pence
    effective = EntryRecord.effective_date
    is_allocation = EntryRecord.kind == K.Name(rules.ALLOCATION)
    zero = literal(0, BigInteger)
    q = (
        select(
            EntryRecord.kind,
            EntryRecord.allocation_target,
            EntryRecord.source,
            EntryRecord.adjustment_kind,
            EntryRecord.covers_kind,
            func.sum(amount),
            func.sum(case((effective < (before or dt.date.min), amount), else_=zero)),
            func.sum(case((effective < as_of, amount), else_=zero)),
            func.sum(case((is_allocation & (EntryRecord.covers_due < as_of), amount), else_=zero)),
        )
        .where(EntryRecord.account_id == account_id, effective <= as_of)
        .group_by(
            EntryRecord.kind,
            EntryRecord.allocation_target,
            EntryRecord.source,
            EntryRecord.adjustment_kind,
            EntryRecord.covers_kind,
        )
    )
    totals: dict[rules.Group, int] = defaultdict(int)
    opening: dict[rules.Group, int] = defaultdict(int)
    unpaid: dict[bool, int] = defaultdict(int)  # by "is a paying parent's fee"
    for kind, target, source, adjustment, covers_kind, total, earlier, due, covered in db.execute(
        q
    ):
        group = rules.Group(_KIND[kind], _TARGET[target], source, _ADJUSTMENT[adjustment])
        totals[group] += int(total or 0)
        if before is not None:
            opening[group] += int(earlier or 0)
        if rules.becomes_arrears(group):
            unpaid[kind == _FEE_KIND] += int(due or 0)
        if covers_kind != _ENFORCEMENT_KIND:
            unpaid[covers_kind == _FEE_KIND] -= int(covered or 0)
    balances = rules.totals(
        list(totals.items()),
        arrears=unpaid[True] + unpaid[False],
        maintenance_arrears=unpaid[False],
    )
    return balances, list(opening.items())


def _posted(account: AccountRecord, row: EntryRecord) -> money_ev.LedgerEntryPosted:
    return money_ev.LedgerEntryPosted(
        account_id=account.id,
        case_id=account.case_id,
        entry=entry_name(account.id, row.id),
        kind=K.Value(row.kind),
        amount_pence=row.amount_pence,
        effective_date=pb_date(row.effective_date),
        posting_date=pb_date(row.posted_on),
        allocation_target=(
            T.Value(row.allocation_target)
            if row.allocation_target
            else money_ev.ALLOCATION_TARGET_UNSPECIFIED
        ),
        covers=entry_name(account.id, row.covers) if row.covers is not None else "",
        receipt=receipt_name(account.id, row.receipt_id) if row.receipt_id else "",
        adjustment_kind=(
            A.Value(row.adjustment_kind)
            if row.adjustment_kind
            else money_ev.ADJUSTMENT_KIND_UNSPECIFIED
        ),
    )


def _publish(db: Session, account: AccountRecord, message: Message, clock: Clock) -> None:
    name = account_name(account.id)
    outbox.publish(db, clock=clock, key=name, subject=name, message=message)


def _post(
    db: Session,
    account: AccountRecord,
    *,
    key: str,
    kind: rules.Kind,
    amount: int,
    effective: dt.date,
    cause: str,
    clock: Clock,
    target: rules.Target = money_ev.ALLOCATION_TARGET_UNSPECIFIED,
    covers: rules.Debt | None = None,
    source: str = "",
    adjustment: rules.Adjustment = money_ev.ADJUSTMENT_KIND_UNSPECIFIED,
    receipt_id: str = "",
    receiving_parent_fee: int = 0,
) -> EntryRecord:
    """Append one entry and its LedgerEntryPosted event. An allocation keeps the due date and kind of the charge it
    covers beside its id (fixed, like the entry): arrears are then sums over the account's own rows."""
    row = EntryRecord(
        account_id=account.id,
        key=key,
        kind=K.Name(kind),
        amount_pence=amount,
        effective_date=effective,
        posted_on=clock.today(),
        posted_at=clock.now(),
        cause=cause[:200],
        allocation_target=T.Name(target) if target else "",
        covers=covers.entry_id if covers is not None else None,
        covers_due=covers.due if covers is not None else None,
        covers_kind=K.Name(covers.kind) if covers is not None else "",
        source=source,
        adjustment_kind=A.Name(adjustment) if adjustment else "",
        receipt_id=receipt_id,
        receiving_parent_fee_pence=receiving_parent_fee,
    )
    db.add(row)
    db.flush()
    _publish(db, account, _posted(account, row), clock)
    return row


# -- opening, schedules and closing (from casework's events) ---------------------------------------------------------


def _collects(account: AccountRecord) -> bool:
    return account.service_type == COLLECT_AND_PAY


def open_account(
    db: Session, *, case_id: str, service_type: pb.ServiceType.ValueType, clock: Clock
) -> AccountRecord:
    """The case's account, opened (AccountOpened) if it has none; its service type follows the case's latest plan."""
    account = account_of_case(db, case_id, lock=True)
    if account is not None:
        account.service_type = pb.ServiceType.Name(service_type)
        return account
    case_row = case_records.case_row(db, case_id)
    account = AccountRecord(
        id=new_id(),
        case_id=case_id,
        paying_parent_client_id=case_row.paying_parent_client_id,
        receiving_parent_client_id=case_row.receiving_parent_client_id,
        service_type=pb.ServiceType.Name(service_type),
        state=OPEN,
        opened_at=clock.now(),
    )
    db.add(account)
    db.flush()
    _publish(
        db,
        account,
        money_ev.AccountOpened(
            account_id=account.id,
            case_id=case_id,
            collect_and_pay=service_type == pb.SERVICE_TYPE_COLLECT_AND_PAY,
        ),
        clock,
    )
    return account


def record_plan(db: Session, *, case_id: str, plan: pb.PaymentPlan, clock: Clock) -> None:
    """A payment plan was issued: the account opens if it has none, and on Collect & Pay the plan's payments become
    its charge schedule from the plan's first period (superseding the rows of earlier plans due from then), and its
    backdated amounts are booked: what was made due as a backdated charge due at once, what was overpaid as a
    credit adjustment (the account is then overpaid by it). Idempotent per plan."""
    account = open_account(db, case_id=case_id, service_type=plan.service_type, clock=clock)
    if not _collects(account) or account.state == CLOSED:
        return  # Direct Pay: the parents pay each other, nothing is charged here
    plan_name = plan.name
    if (
        db.scalars(
            select(ScheduleRow.id).where(
                ScheduleRow.account_id == account.id, ScheduleRow.payment_plan == plan_name
            )
        ).first()
        is not None
        or db.scalars(
            select(EntryRecord.id).where(
                EntryRecord.account_id == account.id,
                EntryRecord.key.like(f"plan:{last_id(plan_name)}:%"),
            )
        ).first()
        is not None
    ):
        return  # recorded already (a redelivered event)
    start = day_of(plan.period.start_date) or clock.today()
    db.execute(
        update(ScheduleRow)
        .where(
            ScheduleRow.account_id == account.id,
            ScheduleRow.state == DUE,
            ScheduleRow.due_date >= start,
        )
        .values(state=SUPERSEDED)
    )
    closed_on = account.case_closed_on
    for payment in plan.payments:
        due = day_of(payment.due_date)
        if due is None or (closed_on is not None and due >= closed_on):
            continue
        db.add(
            ScheduleRow(
                account_id=account.id,
                payment_plan=plan_name,
                due_date=due,
                covers_start=day_of(payment.covers.start_date) or due,
                covers_end=day_of(payment.covers.end_date) or due,
                maintenance_pence=payment.maintenance_pence,
                state=DUE,
            )
        )
    today = clock.today()
    plan_id = last_id(plan_name)
    if plan.backdated_amount_due_pence > 0:
        _charge(
            db,
            account,
            key=f"plan:{plan_id}:backdated",
            kind=rules.BACKDATED,
            amount=plan.backdated_amount_due_pence,
            due=today,
            cause="Backdated maintenance (the decision's past days)",
            clock=clock,
        )
    if plan.backdated_amount_overpaid_pence > 0:
        _post(
            db,
            account,
            key=f"plan:{plan_id}:overpaid",
            kind=rules.ADJUSTMENT,
            amount=-plan.backdated_amount_overpaid_pence,
            effective=today,
            cause="Backdated maintenance overpaid (the decision's past days)",
            clock=clock,
            adjustment=rules.BACKDATED_OVERPAYMENT,
        )
    _apply_credit(db, account, on=today, clock=clock)


def _fees(account: AccountRecord, db: Session, due: dt.date, amount: int) -> tuple[int, int]:
    fees = _policy.fees
    compliant = (
        True
        if fees.reform_date is None or due < fees.reform_date
        else _compliance(db, account.case_id, due)
    )
    paying_bp, receiving_bp = fees.rates(due, compliant=compliant)
    return rules.fee(amount, paying_bp), rules.fee(amount, receiving_bp)


def _charge(
    db: Session,
    account: AccountRecord,
    *,
    key: str,
    kind: rules.Kind,
    amount: int,
    due: dt.date,
    cause: str,
    clock: Clock,
) -> None:
    """One maintenance charge and the paying parent's fee on it (the receiving parent's is kept on the charge and
    taken as it is collected)."""
    paying_fee, receiving_fee = _fees(account, db, due, amount)
    _post(
        db,
        account,
        key=key,
        kind=kind,
        amount=amount,
        effective=due,
        cause=cause,
        clock=clock,
        receiving_parent_fee=receiving_fee,
    )
    if paying_fee:
        _post(
            db,
            account,
            key=f"{key}:fee",
            kind=rules.PAYING_PARENT_FEE,
            amount=paying_fee,
            effective=due,
            cause="Collection fee",
            clock=clock,
        )


def case_closed(db: Session, *, case_id: str, closed_on: dt.date, clock: Clock) -> None:
    """The case closed: no charges for periods from the closure date (a period it splits is charged pro rata by
    days, half-up); the account stays open while anything is owed, held or payable."""
    account = account_of_case(db, case_id, lock=True)
    if account is None:
        return
    account.case_closed_on = closed_on
    for row in db.scalars(
        select(ScheduleRow).where(
            ScheduleRow.account_id == account.id,
            ScheduleRow.state == DUE,
            ScheduleRow.covers_end >= closed_on,
        )
    ):
        if row.covers_start >= closed_on:
            row.state = ENDED
            continue
        days = (row.covers_end - row.covers_start).days + 1
        kept = (closed_on - row.covers_start).days
        row.maintenance_pence = rules.half_up(row.maintenance_pence * kept, days)
        row.covers_end = closed_on - dt.timedelta(days=1)
    close_if_settled(db, account=account, clock=clock)


def end_liability(db: Session, *, case_id: str, on: dt.date, clock: Clock) -> None:
    """Liability ended from `on` (a paying parent's death, reported however late: docs/domain/money.md, "Write-offs,
    deaths and compliance"): the case's closure as case_closed makes it, and the charges already posted for days from
    `on` reversed. Idempotent (case_closed is; each charge is reversed once), so the arrears context may call it
    whether or not the accounts' own consumer of the closure has run."""
    case_closed(db, case_id=case_id, closed_on=on, clock=clock)
    account = account_of_case(db, case_id, lock=True)
    if account is None or account.state == CLOSED:
        return
    _reverse_charged_from(db, account, closed_on=on, clock=clock)
    close_if_settled(db, account=account, clock=clock)


def _reverse_charged_from(
    db: Session, account: AccountRecord, *, closed_on: dt.date, clock: Clock
) -> None:
    """Charges the charge run already posted for days from the closure date (a closure reported late, e.g. a paying
    parent's death: liability ends from the date of death) are reversed as of that date: each charge's share for
    those days (pro rata by days, half-up, as case_closed cuts a period it splits), its fee's with it. What of that
    share is unpaid is covered by a CHARGE_REVERSED adjustment; what was paid becomes a BACKDATED_OVERPAYMENT.
    Once per charge (the entries' keys), so a redelivered closure reverses nothing twice."""
    rows = {
        f"schedule:{r.id}": r
        for r in db.scalars(
            select(ScheduleRow).where(
                ScheduleRow.account_id == account.id,
                ScheduleRow.state == CHARGED,
                ScheduleRow.covers_end >= closed_on,
            )
        )
    }
    if not rows:
        return
    keys = [*rows, *(f"{k}:fee" for k in rows)]
    charges = db.execute(
        select(EntryRecord.id, EntryRecord.key, EntryRecord.amount_pence)
        .where(EntryRecord.account_id == account.id, EntryRecord.key.in_(keys))
        .order_by(EntryRecord.id)
    ).all()
    done = set(
        db.scalars(
            select(EntryRecord.key).where(
                EntryRecord.account_id == account.id, EntryRecord.key.like("closure:%")
            )
        )
    )
    entries = _entries(db, account.id)
    debt_of = {d.entry_id: d for d in rules.debts_of(entries)}
    for entry_id, key, amount in charges:
        base = f"closure:{entry_id}"
        if base in done or f"{base}:paid" in done:
            continue
        row = rows[key.removesuffix(":fee")]
        days = (row.covers_end - row.covers_start).days + 1
        kept = min(max(0, (closed_on - row.covers_start).days), days)
        share = amount - rules.half_up(amount * kept, days)
        debt = debt_of.get(entry_id)
        if share <= 0 or debt is None:
            continue
        unpaid = min(share, max(debt.outstanding, 0))
        cause = f"Liability ended {closed_on:%d/%m/%Y}: charge for days from then reversed"
        if unpaid:
            _post(
                db,
                account,
                key=base,
                kind=rules.ADJUSTMENT,
                amount=-unpaid,
                effective=closed_on,
                cause=cause,
                clock=clock,
                adjustment=rules.CHARGE_REVERSED,
            )
            _post(
                db,
                account,
                key=f"{base}:0",
                kind=rules.ALLOCATION,
                amount=unpaid,
                effective=closed_on,
                cause=cause,
                clock=clock,
                target=rules.FEES if debt.is_fee else rules.ARREARS,
                covers=debt,
                source=rules.FROM_ADJUSTMENT,
            )
        if share > unpaid:
            _post(
                db,
                account,
                key=f"{base}:paid",
                kind=rules.ADJUSTMENT,
                amount=-(share - unpaid),
                effective=closed_on,
                cause=f"{cause} (already paid)",
                clock=clock,
                adjustment=rules.BACKDATED_OVERPAYMENT,
            )


def close_if_settled(db: Session, *, account: AccountRecord, clock: Clock) -> bool:
    """A closed case's account closes (AccountClosed) once nothing is owed, held, payable or still to charge."""
    if account.state == CLOSED or account.case_closed_on is None:
        return False
    if (
        db.scalars(
            select(ScheduleRow.id).where(
                ScheduleRow.account_id == account.id, ScheduleRow.state == DUE
            )
        ).first()
        is not None
    ):
        return False
    if not _balances(db, account.id, as_of=dt.date.max).nil:
        return False
    account.state, account.closed_at = CLOSED, clock.now()
    _publish(
        db,
        account,
        money_ev.AccountClosed(account_id=account.id, case_id=account.case_id),
        clock,
    )
    return True


# -- allocation ---------------------------------------------------------------------------------------------------


def _collected(entries: Sequence[rules.Entry]) -> dict[int, int]:
    """Money (a receipt's or credit) allocated to each charge so far."""
    out: dict[int, int] = defaultdict(int)
    for e in entries:
        if e.kind == rules.ALLOCATION and e.covers is not None and e.source in rules.CASH:
            out[e.covers] += e.amount
    return out


def _allocate(
    db: Session,
    account: AccountRecord,
    *,
    amount: int,
    on: dt.date,
    source: str,
    key: str,
    cause: str,
    clock: Clock,
    receipt_id: str = "",
    credit_left: bool = True,
) -> int:
    """Money applied to what is due in the configured order (the rest held as credit, when `credit_left`); each
    allocation to maintenance takes its share of the receiving parent's fee. Returns what went to arrears (charges
    due before `on`)."""
    entries = _entries(db, account.id)
    by_id = {e.id: e for e in entries}
    debts = rules.debts_of(entries)
    debt_of = {d.entry_id: d for d in debts}
    allocations = rules.allocate(amount, debts, on=on, order=_policy.allocation_order)
    if not credit_left:
        allocations = [a for a in allocations if a.target != rules.CREDIT]
    collected = _collected(entries)
    covered = [a.covers for a in allocations if a.covers is not None]
    fees: dict[int, int] = (
        {
            entry_id: fee
            for entry_id, fee in db.execute(
                select(EntryRecord.id, EntryRecord.receiving_parent_fee_pence).where(
                    EntryRecord.id.in_(covered)
                )
            )
        }
        if covered
        else {}
    )
    for n, a in enumerate(allocations):
        _post(
            db,
            account,
            key=f"{key}:{n}",
            kind=rules.ALLOCATION,
            amount=a.amount,
            effective=on,
            cause=cause,
            clock=clock,
            target=a.target,
            covers=debt_of[a.covers] if a.covers is not None else None,
            source=source,
            receipt_id=receipt_id,
        )
        charge = by_id.get(a.covers) if a.covers is not None else None
        if charge is None or charge.kind == rules.PAYING_PARENT_FEE:
            continue
        fee = rules.receiving_parent_fee_taken(
            charge_pence=charge.amount,
            fee_pence=fees.get(charge.id, 0),
            collected_before=collected[charge.id],
            collected_now=a.amount,
        )
        collected[charge.id] += a.amount
        if fee:
            _post(
                db,
                account,
                key=f"{key}:{n}:fee",
                kind=rules.RECEIVING_PARENT_FEE,
                amount=fee,
                effective=on,
                cause="Collection fee",
                clock=clock,
            )
    if source == rules.FROM_CREDIT:
        spent = sum(a.amount for a in allocations)
        if spent:
            _post(
                db,
                account,
                key=f"{key}:credit",
                kind=rules.ALLOCATION,
                amount=-spent,
                effective=on,
                cause="Credit applied",
                clock=clock,
                target=rules.CREDIT,
                source=rules.FROM_CREDIT,
            )
    return rules.arrears_allocated(allocations, debts, on=on)


def _held_credit(db: Session, account_id: str) -> int:
    return int(
        db.scalar(
            select(func.coalesce(func.sum(EntryRecord.amount_pence), 0)).where(
                EntryRecord.account_id == account_id,
                or_(
                    EntryRecord.allocation_target == T.Name(rules.CREDIT),
                    EntryRecord.adjustment_kind == A.Name(rules.REFUND),
                ),
            )
        )
        or 0
    )


def _apply_credit(db: Session, account: AccountRecord, *, on: dt.date, clock: Clock) -> None:
    """Credit held on the account pays what has fallen due since (new charges, recognised arrears)."""
    credit = _held_credit(db, account.id)
    if credit <= 0:
        return
    _allocate(
        db,
        account,
        amount=credit,
        on=on,
        source=rules.FROM_CREDIT,
        key=f"credit:{new_id()}",
        cause="Credit applied",
        clock=clock,
        credit_left=False,
    )


# -- receipts -----------------------------------------------------------------------------------------------------


def _method_name(method: int) -> str:
    return (
        M.Name(M.ValueType(method)).removeprefix("RECEIPT_METHOD_").replace("_", " ").capitalize()
    )


def _check_receipt(
    v: ViolationCollector,
    prefix: str,
    *,
    payment_reference: str,
    amount_pence: int,
    method: int,
    external_reference: str,
) -> None:
    if not payment_reference.strip():
        v.add(f"{prefix}payment_reference", "is required and must not be empty")
    if not external_reference.strip():
        v.add(f"{prefix}external_reference", "is required and must not be empty")
    elif len(external_reference) > MAX_REFERENCE:
        v.add(f"{prefix}external_reference", f"must be at most {MAX_REFERENCE} characters")
    if amount_pence <= 0:
        v.add(f"{prefix}amount_pence", "must be more than 0")
    if method not in M.values() or method == money_ev.RECEIPT_METHOD_UNSPECIFIED:
        v.add(f"{prefix}method", "must be a known receipt method")


def _replayed(db: Session, *, external_reference: str, amount_pence: int, field: str) -> str | None:
    """The first result for an external reference already recorded (same amount); INVALID_ARGUMENT for another."""
    held = db.scalars(
        select(SuspenseRecord).where(SuspenseRecord.external_reference == external_reference)
    ).first()
    if held is not None:
        if held.amount_pence != amount_pence:
            raise InvalidArgument.field(field, "was already recorded with another amount")
        return suspense_name(held.id)
    seen = db.scalars(
        select(ReceiptRecord).where(ReceiptRecord.external_reference == external_reference)
    ).first()
    if seen is not None:
        if seen.amount_pence != amount_pence:
            raise InvalidArgument.field(field, "was already recorded with another amount")
        return receipt_name(seen.account_id, seen.id)
    return None


def record_receipt(
    db: Session,
    *,
    payment_reference: str,
    amount_pence: int,
    method: int,
    external_reference: str,
    received_on: dt.date,
    clock: Clock,
    earnings_deduction: money_ev.EarningsDeduction | None = None,
    field_prefix: str = "",
) -> str:
    """Records and allocates a receipt (or holds it in suspense when the reference matches no account); returns the
    receipt's (or suspense item's) resource name. Idempotent by external_reference (same amount: the first result;
    different amount: InvalidArgument on external_reference). Publishes ReceiptRecorded (ReceiptHeldInSuspense for
    suspense; ReceiptRecorded follows when the item is allocated). `field_prefix` places the fields named in errors
    within the caller's request (e.g. `receipt.`)."""
    v = ViolationCollector()
    _check_receipt(
        v,
        field_prefix,
        payment_reference=payment_reference,
        amount_pence=amount_pence,
        method=method,
        external_reference=external_reference,
    )
    if received_on > clock.today():
        v.add(f"{field_prefix}received_date", "must not be after today")
    v.raise_if_any()
    previous = _replayed(
        db,
        external_reference=external_reference,
        amount_pence=amount_pence,
        field=f"{field_prefix}external_reference",
    )
    if previous is not None:
        return previous
    deduction = earnings_deduction.SerializeToString() if earnings_deduction is not None else b""
    account = account_of_case(db, payment_reference.strip(), lock=True)
    if account is None:
        process, area, sub_area = UNMATCHED_RECEIPT
        item_id = new_id()
        item = SuspenseRecord(
            id=item_id,
            payment_reference=payment_reference[:MAX_REFERENCE],
            external_reference=external_reference,
            method=M.Name(M.ValueType(method)),
            amount_pence=amount_pence,
            received_on=received_on,
            state=HELD,
            earnings_deduction=deduction,
            created_at=clock.now(),
            # Names only the item and the method: the reference quoted may be anything, personal data included.
            service_request=srs.raise_caseless(
                db,
                process=process,
                area=area,
                sub_area=sub_area,
                description=f"{_method_name(method)} matched no account: find the account and allocate "
                f"{suspense_name(item_id)}",
                workgroup=SUSPENSE_WORKGROUP,
                clock=clock,
            ),
        )
        db.add(item)
        name = suspense_name(item.id)
        outbox.publish(
            db,
            clock=clock,
            key=name,
            subject=name,
            message=money_ev.ReceiptHeldInSuspense(
                suspense_item=name,
                external_reference=external_reference,
                method=M.ValueType(method),
                amount_pence=amount_pence,
                received_date=pb_date(received_on),
            ),
        )
        return name
    if account.state == CLOSED:
        raise FailedPrecondition(
            PreconditionViolation(
                "ACCOUNT_CLOSED", f"{field_prefix}payment_reference", "the account is closed"
            ),
            reason="ACCOUNT_CLOSED",
        )
    return _receive(
        db,
        account,
        external_reference=external_reference,
        method=method,
        amount_pence=amount_pence,
        received_on=received_on,
        deduction=earnings_deduction,
        clock=clock,
    )


def _receive(
    db: Session,
    account: AccountRecord,
    *,
    external_reference: str,
    method: int,
    amount_pence: int,
    received_on: dt.date,
    deduction: money_ev.EarningsDeduction | None,
    clock: Clock,
) -> str:
    receipt = ReceiptRecord(
        id=new_id(),
        account_id=account.id,
        external_reference=external_reference,
        method=M.Name(M.ValueType(method)),
        amount_pence=amount_pence,
        received_on=received_on,
        recorded_at=clock.now(),
        earnings_deduction=deduction.SerializeToString() if deduction is not None else b"",
    )
    db.add(receipt)
    cause = f"{_method_name(method)} received"
    _post(
        db,
        account,
        key=f"receipt:{receipt.id}",
        kind=rules.RECEIPT,
        amount=amount_pence,
        effective=received_on,
        cause=cause,
        clock=clock,
        receipt_id=receipt.id,
    )
    to_arrears = _allocate(
        db,
        account,
        amount=amount_pence,
        on=received_on,
        source=rules.FROM_RECEIPT,
        key=f"receipt:{receipt.id}",
        cause=cause,
        clock=clock,
        receipt_id=receipt.id,
    )
    name = receipt_name(account.id, receipt.id)
    with_deduction = method in (
        money_ev.RECEIPT_METHOD_DEDUCTION_FROM_EARNINGS_ORDER,
        money_ev.RECEIPT_METHOD_DEDUCTION_FROM_EARNINGS_REQUEST,
    )
    _publish(
        db,
        account,
        money_ev.ReceiptRecorded(
            account_id=account.id,
            case_id=account.case_id,
            receipt=name,
            external_reference=external_reference,
            method=M.ValueType(method),
            amount_pence=amount_pence,
            received_date=pb_date(received_on),
            earnings_deduction=deduction if with_deduction else None,
            arrears_allocated_pence=to_arrears,
        ),
        clock,
    )
    close_if_settled(db, account=account, clock=clock)
    return name


def suspense_item(row: SuspenseRecord) -> apb.SuspenseItem:
    item = apb.SuspenseItem(
        name=suspense_name(row.id),
        payment_reference=row.payment_reference,
        external_reference=row.external_reference,
        method=M.Value(row.method),
        amount_pence=row.amount_pence,
        received_date=pb_date(row.received_on),
        state=apb.SuspenseItemState.Value(row.state),
        account=account_name(row.account_id) if row.account_id else "",
        receipt=receipt_name(row.account_id, row.receipt_id) if row.receipt_id else "",
        service_request=row.service_request,
    )
    item.create_time.FromDatetime(row.created_at)
    return item


def list_suspense(
    db: Session, *, include_allocated: bool, size: int, offset: int
) -> tuple[list[apb.SuspenseItem], bool]:
    q = select(SuspenseRecord)
    if not include_allocated:
        q = q.where(SuspenseRecord.state == HELD)
    rows = db.scalars(
        q.order_by(SuspenseRecord.created_at, SuspenseRecord.id).offset(offset).limit(size + 1)
    ).all()
    return [suspense_item(r) for r in rows[:size]], len(rows) > size


def allocate_suspense_item(
    db: Session, *, name: str, account: str, clock: Clock
) -> apb.SuspenseItem:
    """A held item becomes a receipt on the account it belongs to, allocated as any other."""
    item_id = id_from(name, "suspenseItems", "name")
    row = db.get(SuspenseRecord, item_id, with_for_update=True)
    if row is None:
        raise NotFound("suspense item", name)
    target = _account(db, account, "account", lock=True)
    if row.state != HELD:
        raise FailedPrecondition(
            PreconditionViolation(
                "SUSPENSE_ITEM_ALLOCATED", "name", "the item is already allocated"
            ),
            reason="SUSPENSE_ITEM_ALLOCATED",
        )
    if target.state == CLOSED:
        raise FailedPrecondition(
            PreconditionViolation("ACCOUNT_CLOSED", "account", "the account is closed"),
            reason="ACCOUNT_CLOSED",
        )
    deduction = (
        money_ev.EarningsDeduction.FromString(row.earnings_deduction)
        if row.earnings_deduction
        else None
    )
    receipt = _receive(
        db,
        target,
        external_reference=row.external_reference,
        method=M.Value(row.method),
        amount_pence=row.amount_pence,
        received_on=row.received_on,
        deduction=deduction,
        clock=clock,
    )
    row.state, row.account_id, row.receipt_id = ALLOCATED, target.id, last_id(receipt)
    if row.service_request:
        srs.complete(
            db,
            name=row.service_request,
            clock=clock,
            note=f"allocated to {account_name(target.id)}",
        )
    return suspense_item(row)


# -- the shared API of the money contexts ---------------------------------------------------------------------------


def unpaid_due_on_or_before(db: Session, *, case_id: str, on: dt.date) -> int:
    """Pence charged to the paying parent with a due date on or before `on` that no allocation has covered."""
    account = account_of_case(db, case_id)
    if account is None:
        return 0
    return _unpaid(db, account.id, due_before=on + dt.timedelta(days=1), paid_by=None)[0]


def owed_at(db: Session, *, case_id: str, on: dt.date) -> int:
    """Pence charged with a due date on or before `on` less what allocations effective by `on` covered of it: what
    the paying parent owed at the end of that day (e.g. the date of death). Read-only."""
    account = account_of_case(db, case_id)
    if account is None:
        return 0
    return _unpaid(db, account.id, due_before=on + dt.timedelta(days=1), paid_by=on)[0]


def post_adjustment(
    db: Session,
    *,
    case_id: str,
    kind: int,
    amount_pence: int,
    effective_date: dt.date,
    cause: str,
    clock: Clock,
) -> str:
    """Posts an adjustment (signed amount, as AdjustmentKind says): a Regulation 8 offset or a write-off covers what
    is owed as money would; a refund pays back held credit; recognised arrears (e.g. a Direct Pay shortfall) are a
    charge due on the effective date. Returns the adjustment entry's name."""
    v = ViolationCollector()
    adjustment = A.ValueType(kind)
    if adjustment not in rules.ADJUSTMENT_SIGN:
        v.add("kind", "must be a known adjustment kind")
    elif amount_pence == 0 or (amount_pence > 0) != (rules.ADJUSTMENT_SIGN[adjustment] > 0):
        sign = "positive" if rules.ADJUSTMENT_SIGN[adjustment] > 0 else "negative"
        v.add("amount_pence", f"must be {sign} for {A.Name(adjustment)}")
    if not cause.strip():
        v.add("cause", "is required and must not be empty")
    v.raise_if_any()
    account = account_of_case(db, case_id, lock=True)
    if account is None:
        raise NotFound("account", f"cases/{case_id}")
    if account.state == CLOSED:
        raise FailedPrecondition(
            PreconditionViolation("ACCOUNT_CLOSED", "account", "the account is closed"),
            reason="ACCOUNT_CLOSED",
        )
    entries = _entries(db, account.id)
    b = rules.balances(entries, as_of=dt.date.max)
    debts = rules.debts_of(entries)
    if adjustment in rules.COVERING and -amount_pence > rules.coverable(debts):
        raise FailedPrecondition(
            PreconditionViolation(
                "MORE_THAN_OWED", "amount_pence", "the adjustment is more than is owed"
            ),
            reason="MORE_THAN_OWED",
        )
    covering: list[rules.Allocation] = []
    if adjustment == rules.REG8:
        try:
            covering = rules.offset_against_arrears(-amount_pence, debts, on=effective_date)
        except ValueError:
            raise FailedPrecondition(
                PreconditionViolation(
                    "MORE_THAN_ARREARS", "amount_pence", "the offset is more than the arrears"
                ),
                reason="MORE_THAN_ARREARS",
            ) from None
    elif adjustment in rules.COVERING:
        covering = rules.cover(-amount_pence, debts, order=_policy.allocation_order)
    if adjustment == rules.REFUND and -amount_pence > b.held_credit:
        raise FailedPrecondition(
            PreconditionViolation(
                "MORE_THAN_HELD", "amount_pence", "the refund is more than the credit held"
            ),
            reason="MORE_THAN_HELD",
        )
    key = f"adjustment:{new_id()}"
    row = _post(
        db,
        account,
        key=key,
        kind=rules.ADJUSTMENT,
        amount=amount_pence,
        effective=effective_date,
        cause=cause,
        clock=clock,
        adjustment=adjustment,
    )
    if covering:
        debt_of = {d.entry_id: d for d in debts}
        for n, a in enumerate(covering):
            _post(
                db,
                account,
                key=f"{key}:{n}",
                kind=rules.ALLOCATION,
                amount=a.amount,
                effective=effective_date,
                cause=cause,
                clock=clock,
                target=a.target,
                covers=debt_of[a.covers] if a.covers is not None else None,
                source=rules.FROM_ADJUSTMENT,
            )
    if adjustment == rules.ARREARS_RECOGNISED:
        _apply_credit(db, account, on=max(effective_date, clock.today()), clock=clock)
    close_if_settled(db, account=account, clock=clock)
    return entry_name(account.id, row.id)


def _open_account(db: Session, case_id: str) -> AccountRecord:
    account = account_of_case(db, case_id, lock=True)
    if account is None:
        raise NotFound("account", f"cases/{case_id}")
    if account.state == CLOSED:
        raise FailedPrecondition(
            PreconditionViolation("ACCOUNT_CLOSED", "account", "the account is closed"),
            reason="ACCOUNT_CLOSED",
        )
    return account


def post_enforcement_charge(
    db: Session, *, case_id: str, amount_pence: int, due: dt.date, cause: str, clock: Clock
) -> str:
    """An enforcement charge (Fees Regs 2014 reg 10) on the case's account, due on `due`; credit held pays it (last,
    after anything else due). Returns the charge entry's name."""
    if amount_pence <= 0:
        raise ValueError("an enforcement charge is more than 0")
    account = _open_account(db, case_id)
    row = _post(
        db,
        account,
        key=f"enforcement:{new_id()}",
        kind=rules.ENFORCEMENT_CHARGE,
        amount=amount_pence,
        effective=due,
        cause=cause,
        clock=clock,
    )
    _apply_credit(db, account, on=max(due, clock.today()), clock=clock)
    return entry_name(account.id, row.id)


def enforcement_charge_outstanding(db: Session, *, charge: str) -> int:
    """What is still owed of an enforcement charge (its entry's name)."""
    entry_id = int(last_id(charge))
    row = db.get(EntryRecord, entry_id)
    if row is None or row.kind != K.Name(rules.ENFORCEMENT_CHARGE):
        raise NotFound("enforcement charge", charge)
    entries = _entries(db, row.account_id)
    debt = next(d for d in rules.debts_of(entries) if d.entry_id == entry_id)
    return debt.outstanding


def waive_enforcement_charge(
    db: Session, *, case_id: str, charge: str, effective_date: dt.date, cause: str, clock: Clock
) -> tuple[str, int]:
    """Waives what is outstanding of an enforcement charge (Fees Regs 2014 reg 12): an adjustment covering it.
    Returns (the adjustment entry's name, the pence waived); FAILED_PRECONDITION when nothing of it is owed."""
    account = _open_account(db, case_id)
    entry_id = int(last_id(charge))
    entries = _entries(db, account.id)
    debt = next((d for d in rules.debts_of(entries) if d.entry_id == entry_id), None)
    if debt is None or not debt.is_enforcement:
        raise NotFound("enforcement charge", charge)
    try:
        covering = rules.enforcement_waiver(debt)
    except ValueError:
        raise FailedPrecondition(
            PreconditionViolation("CHARGE_PAID", "charge", "nothing of the charge is owed"),
            reason="CHARGE_PAID",
        ) from None
    key = f"adjustment:{new_id()}"
    row = _post(
        db,
        account,
        key=key,
        kind=rules.ADJUSTMENT,
        amount=-debt.outstanding,
        effective=effective_date,
        cause=cause,
        clock=clock,
        adjustment=rules.CHARGE_WAIVER,
    )
    for n, a in enumerate(covering):
        _post(
            db,
            account,
            key=f"{key}:{n}",
            kind=rules.ALLOCATION,
            amount=a.amount,
            effective=effective_date,
            cause=cause,
            clock=clock,
            target=a.target,
            covers=debt,
            source=rules.FROM_ADJUSTMENT,
        )
    close_if_settled(db, account=account, clock=clock)
    return entry_name(account.id, row.id), debt.outstanding


def balances(db: Session, *, case_id: str, as_of: dt.date) -> rules.Balances:
    """The case's account balances at the end of `as_of` (all nil when the case has no account)."""
    account = account_of_case(db, case_id)
    if account is None:
        return rules.Balances()
    return _balances(db, account.id, as_of=as_of)


# -- the charge run and the payment run (bulk, a chunk of accounts per transaction) -----------------------------------


def accounts_with_charges_due(db: Session, *, as_of: dt.date) -> list[str]:
    """Accounts with schedule rows due by `as_of` and not charged yet, in id order."""
    return list(
        db.scalars(
            select(ScheduleRow.account_id)
            .where(ScheduleRow.state == DUE, ScheduleRow.due_date <= as_of)
            .distinct()
            .order_by(ScheduleRow.account_id)
        )
    )


def _insert_entries(
    db: Session, accounts: dict[str, AccountRecord], values: list[dict], clock: Clock
) -> None:
    """Bulk-append entries (their ids drawn first, then one executemany) and their LedgerEntryPosted events."""
    if not values:
        return
    ids = insert_with_ids(db, EntryRecord, values)
    posted = []
    for entry_id, v in zip(ids, values, strict=True):
        account = accounts[v["account_id"]]
        name = account_name(account.id)
        posted.append(
            (
                name,
                name,
                money_ev.LedgerEntryPosted(
                    account_id=account.id,
                    case_id=account.case_id,
                    entry=entry_name(account.id, entry_id),
                    kind=K.Value(v["kind"]),
                    amount_pence=v["amount_pence"],
                    effective_date=pb_date(v["effective_date"]),
                    posting_date=pb_date(v["posted_on"]),
                    adjustment_kind=(
                        A.Value(v["adjustment_kind"])
                        if v["adjustment_kind"]
                        else money_ev.ADJUSTMENT_KIND_UNSPECIFIED
                    ),
                ),
            )
        )
    outbox.publish_many(db, clock=clock, events_=posted)


def _entry_values(
    account_id: str,
    *,
    key: str,
    kind: rules.Kind,
    amount: int,
    effective: dt.date,
    cause: str,
    clock: Clock,
    receiving_parent_fee: int = 0,
) -> dict:
    return {
        "account_id": account_id,
        "key": key,
        "kind": K.Name(kind),
        "amount_pence": amount,
        "effective_date": effective,
        "posted_on": clock.today(),
        "posted_at": clock.now(),
        "cause": cause,
        "allocation_target": "",
        "covers": None,
        "covers_due": None,
        "covers_kind": "",
        "source": "",
        "adjustment_kind": "",
        "receipt_id": "",
        "receiving_parent_fee_pence": receiving_parent_fee,
    }


def post_due_charges(
    db: Session, *, account_ids: Sequence[str], as_of: dt.date, clock: Clock
) -> int:
    """The charge run for a chunk of accounts, in one transaction: each schedule row due by `as_of` and not charged
    becomes a maintenance charge and the paying parent's fee (per the fee rules in force on its due date); then held
    credit pays the new charges. Re-running posts nothing twice (rows move to CHARGED; entry keys are unique).
    Returns the rows charged."""
    accounts = {
        a.id: a
        for a in db.scalars(
            select(AccountRecord)
            .where(AccountRecord.id.in_(account_ids))
            .order_by(AccountRecord.id)
            .with_for_update()
        )
    }
    rows = db.execute(
        select(
            ScheduleRow.id,
            ScheduleRow.account_id,
            ScheduleRow.due_date,
            ScheduleRow.covers_start,
            ScheduleRow.covers_end,
            ScheduleRow.maintenance_pence,
        )
        .where(
            ScheduleRow.account_id.in_(list(accounts)),
            ScheduleRow.state == DUE,
            ScheduleRow.due_date <= as_of,
        )
        .order_by(ScheduleRow.account_id, ScheduleRow.due_date)
    ).all()
    values: list[dict] = []
    for row_id, account_id, due, start, end, maintenance in rows:
        account = accounts[account_id]
        paying_fee, receiving_fee = _fees(account, db, due, maintenance)
        key = f"schedule:{row_id}"
        values.append(
            _entry_values(
                account_id,
                key=key,
                kind=rules.MAINTENANCE,
                amount=maintenance,
                effective=due,
                cause=f"Maintenance {start:%d/%m/%Y} to {end:%d/%m/%Y}",
                clock=clock,
                receiving_parent_fee=receiving_fee,
            )
        )
        if paying_fee:
            values.append(
                _entry_values(
                    account_id,
                    key=f"{key}:fee",
                    kind=rules.PAYING_PARENT_FEE,
                    amount=paying_fee,
                    effective=due,
                    cause="Collection fee",
                    clock=clock,
                )
            )
    _insert_entries(db, accounts, values, clock)
    if rows:
        db.execute(
            update(ScheduleRow)
            .where(ScheduleRow.id.in_([r[0] for r in rows]))
            .values(state=CHARGED)
        )
        _reduce_charged(db, accounts, rows, clock=clock)
    credit = db.execute(
        select(EntryRecord.account_id, func.sum(EntryRecord.amount_pence))
        .where(
            EntryRecord.account_id.in_(list(accounts)),
            or_(
                EntryRecord.allocation_target == T.Name(rules.CREDIT),
                EntryRecord.adjustment_kind == A.Name(rules.REFUND),
            ),
        )
        .group_by(EntryRecord.account_id)
    ).all()
    for account_id, held in credit:
        if held and held > 0:
            _apply_credit(db, accounts[account_id], on=as_of, clock=clock)
    return len(rows)


def _reduce_charged(
    db: Session, accounts: dict[str, AccountRecord], rows: Sequence[Any], *, clock: Clock
) -> None:
    """The Regulation 9 reductions (MPA Regs 2009 reg 9) on the maintenance charges just posted: each charge due on or
    after a decision's first date is reduced by the latest such decision's amount, capped at the charge and at the
    overpayment still to recover; the reduction (ADJUSTMENT_KIND_REGULATION_9_REDUCTION) covers that charge and draws
    the overpayment down by the same amount. Keyed by the charge, so a re-run posts nothing twice."""
    by_case = _reductions(db, sorted({accounts[r[1]].case_id for r in rows}))
    if not by_case:
        return
    left: dict[str, int] = {}
    for row_id, account_id, due, _start, _end, maintenance in rows:
        account = accounts[account_id]
        decided = [per for start, per in by_case.get(account.case_id, []) if start <= due]
        if not decided:
            continue
        if account_id not in left:
            left[account_id] = _balances(db, account_id, as_of=dt.date.max).overpaid
        amount = rules.regulation_9_reduction(
            maintenance_pence=maintenance,
            reduction_pence=decided[-1],
            overpaid_pence=left[account_id],
        )
        if amount <= 0:
            continue
        left[account_id] -= amount
        key = f"schedule:{row_id}"
        charge_id = db.scalar(
            select(EntryRecord.id).where(
                EntryRecord.account_id == account_id, EntryRecord.key == key
            )
        )
        if charge_id is None:
            continue
        cause = "Amount payable reduced to recover an overpayment (MPA Regs 2009 reg 9)"
        _post(
            db,
            account,
            key=f"{key}:reg9",
            kind=rules.ADJUSTMENT,
            amount=-amount,
            effective=due,
            cause=cause,
            clock=clock,
            adjustment=rules.REG9,
        )
        _post(
            db,
            account,
            key=f"{key}:reg9:0",
            kind=rules.ALLOCATION,
            amount=amount,
            effective=due,
            cause=cause,
            clock=clock,
            target=rules.CURRENT,
            covers=rules.Debt(charge_id, rules.MAINTENANCE, due, maintenance),
            source=rules.FROM_ADJUSTMENT,
        )


_PAYABLE = case(
    (
        (EntryRecord.kind == K.Name(rules.ALLOCATION))
        & EntryRecord.source.in_(rules.CASH)
        & EntryRecord.allocation_target.in_([T.Name(rules.CURRENT), T.Name(rules.ARREARS)]),
        EntryRecord.amount_pence,
    ),
    (
        EntryRecord.kind.in_([K.Name(rules.RECEIVING_PARENT_FEE), K.Name(rules.PAYMENT_OUT)]),
        -EntryRecord.amount_pence,
    ),
    else_=0,
)


def receiving_parents_to_pay(db: Session, *, on: dt.date) -> list[str]:
    """Receiving parents with money collected for them by `on` and not yet paid, who were not paid on `on`."""
    payable = (
        select(EntryRecord.account_id, func.sum(_PAYABLE).label("payable"))
        .where(
            EntryRecord.effective_date <= on,
            EntryRecord.kind.in_(
                [
                    K.Name(rules.ALLOCATION),
                    K.Name(rules.RECEIVING_PARENT_FEE),
                    K.Name(rules.PAYMENT_OUT),
                ]
            ),
        )
        .group_by(EntryRecord.account_id)
        .subquery()
    )
    paid_today = select(PaymentOutRecord.receiving_parent_client_id).where(
        PaymentOutRecord.paid_on == on
    )
    return list(
        db.scalars(
            select(AccountRecord.receiving_parent_client_id)
            .join(payable, payable.c.account_id == AccountRecord.id)
            .where(
                payable.c.payable > 0, AccountRecord.receiving_parent_client_id.not_in(paid_today)
            )
            .distinct()
            .order_by(AccountRecord.receiving_parent_client_id)
        )
    )


def pay_receiving_parents(
    db: Session, *, receiving_parent_ids: Sequence[str], on: dt.date, clock: Clock
) -> int:
    """The payment run for a chunk of receiving parents, in one transaction: each is paid once for `on` what was
    collected for them on all their accounts, net of their fee (PaymentToReceivingParentMade, and a PAYMENT_OUT
    entry per account). A receiving parent already paid on `on` is left alone. Returns the payments made."""
    accounts = {
        a.id: a
        for a in db.scalars(
            select(AccountRecord)
            .where(AccountRecord.receiving_parent_client_id.in_(receiving_parent_ids))
            .order_by(AccountRecord.id)
            .with_for_update()
        )
    }
    already = set(
        db.scalars(
            select(PaymentOutRecord.receiving_parent_client_id).where(
                PaymentOutRecord.receiving_parent_client_id.in_(receiving_parent_ids),
                PaymentOutRecord.paid_on == on,
            )
        )
    )
    amounts = db.execute(
        select(EntryRecord.account_id, func.sum(_PAYABLE))
        .where(EntryRecord.account_id.in_(list(accounts)), EntryRecord.effective_date <= on)
        .group_by(EntryRecord.account_id)
    ).all()
    parts: dict[str, list[tuple[AccountRecord, int]]] = defaultdict(list)
    for account_id, amount in sorted(amounts):
        account = accounts[account_id]
        if amount and amount > 0 and account.receiving_parent_client_id not in already:
            parts[account.receiving_parent_client_id].append((account, int(amount)))
    payments, values = [], []
    for client_id, owed in sorted(parts.items()):
        payment = PaymentOutRecord(
            id=new_id(),
            receiving_parent_client_id=client_id,
            paid_on=on,
            amount_pence=sum(a for _, a in owed),
            created_at=clock.now(),
        )
        payments.append((payment, owed))
        for account, amount in owed:
            values.append(
                _entry_values(
                    account.id,
                    key=f"payment:{payment.id}",
                    kind=rules.PAYMENT_OUT,
                    amount=amount,
                    effective=on,
                    cause="Paid to the receiving parent",
                    clock=clock,
                )
            )
    if payments:
        db.execute(
            insert(PaymentOutRecord),
            [
                {
                    "id": p.id,
                    "receiving_parent_client_id": p.receiving_parent_client_id,
                    "paid_on": p.paid_on,
                    "amount_pence": p.amount_pence,
                    "created_at": p.created_at,
                }
                for p, _ in payments
            ],
        )
    _insert_entries(db, accounts, values, clock)
    # One statement for the chunk's events: published one by one, each was an ORM row flushed at commit. Before the
    # settled accounts close, so each account's payment event comes first.
    events = []
    for payment, owed in payments:
        first = account_name(owed[0][0].id)
        event = money_ev.PaymentToReceivingParentMade(
            payment=f"paymentsOut/{payment.id}",
            receiving_parent=f"clients/{payment.receiving_parent_client_id}",
            payment_date=pb_date(on),
            amount_pence=payment.amount_pence,
            parts=[
                money_ev.PaymentPart(account_id=a.id, case_id=a.case_id, amount_pence=n)
                for a, n in owed
            ],
        )
        events.append((first, first, event))
    outbox.publish_many(db, clock=clock, events_=events)
    for _, owed in payments:
        for account, _ in owed:
            if account.case_closed_on is not None:
                close_if_settled(db, account=account, clock=clock)
    return len(payments)


# -- for a caller ---------------------------------------------------------------------------------------------------


def _side(caller: Caller, account: AccountRecord) -> rules.View:
    """The statement view a caller's own side is: a client's, or FULL for staff and services."""
    if caller.kind != CallerKind.CLIENT:
        return apb.STATEMENT_VIEW_FULL
    client_id = client_id_of(caller)
    if client_id == account.paying_parent_client_id:
        return apb.STATEMENT_VIEW_PAYING_PARENT
    return apb.STATEMENT_VIEW_RECEIVING_PARENT


def _visible(db: Session, *, name: str, caller: Caller, field: str = "name") -> AccountRecord:
    """The account if the caller may see its case (a client: one they are a parent on); else NOT_FOUND."""
    account = _account(db, name, field)
    case_records.visible_case(db, name=f"cases/{account.case_id}", caller=caller)
    return account


def case_of_account(db: Session, name: str) -> str:
    """The case id of `accounts/{id}` ("" when there is none), for auditing a refusal."""
    try:
        account = db.get(AccountRecord, id_from(name, "accounts", "name"))
    except InvalidArgument:
        return ""
    return account.case_id if account else ""


def account_proto(account: AccountRecord, b: rules.Balances, view: rules.View) -> apb.Account:
    out = apb.Account(
        name=account_name(account.id),
        case=f"cases/{account.case_id}",
        paying_parent=f"clients/{account.paying_parent_client_id}",
        receiving_parent=f"clients/{account.receiving_parent_client_id}",
        payment_reference=account.case_id,
        service_type=pb.ServiceType.Value(account.service_type),
        state=apb.AccountState.Value(account.state),
        balances=rules.balances_proto(b, view),
    )
    if account.case_closed_on is not None:
        out.case_closed_date.CopyFrom(pb_date(account.case_closed_on))
    out.open_time.FromDatetime(account.opened_at)
    if account.closed_at is not None:
        out.close_time.FromDatetime(account.closed_at)
    return out


def _as_seen(db: Session, account: AccountRecord, caller: Caller, clock: Clock) -> apb.Account:
    return account_proto(
        account, _balances(db, account.id, as_of=clock.today()), _side(caller, account)
    )


def get(db: Session, *, name: str, caller: Caller, clock: Clock) -> apb.Account:
    account = _visible(db, name=name, caller=caller)
    access.audit(db, clock=clock, caller=caller, case_id=account.case_id, resource=name)
    return _as_seen(db, account, caller, clock)


def list_accounts(
    db: Session, *, case_name: str, caller: Caller, clock: Clock, size: int, offset: int
) -> tuple[list[apb.Account], bool]:
    """A case's account (`case_name`), or a client's own accounts; staff and services must name the case."""
    if case_name:
        row = case_records.visible_case(db, name=case_name, caller=caller, field="case")
        access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=case_name)
        found = [a for a in [account_of_case(db, row.id)] if a is not None]
    elif caller.kind == CallerKind.CLIENT:
        client_id = client_id_of(caller)
        found = list(
            db.scalars(
                select(AccountRecord)
                .where(
                    or_(
                        AccountRecord.paying_parent_client_id == client_id,
                        AccountRecord.receiving_parent_client_id == client_id,
                    )
                )
                .order_by(AccountRecord.opened_at, AccountRecord.id)
            )
        )
        seen: list[AccountRecord] = []
        for account in found:
            row = case_records.case_row(db, account.case_id)
            if visible_to(caller, row):
                access.audit(
                    db,
                    clock=clock,
                    caller=caller,
                    case_id=row.id,
                    resource=account_name(account.id),
                )
                seen.append(account)
        found = seen
    else:
        raise InvalidArgument.field("case", "is required for staff and services")
    page = found[offset : offset + size]
    return [_as_seen(db, a, caller, clock) for a in page], len(found) > offset + size


def statement(
    db: Session,
    *,
    name: str,
    since: dt.date,
    view: rules.View,
    caller: Caller,
    clock: Clock,
    printable: bool = False,
) -> apb.AccountStatement:
    """The statement of one side (or, for staff, both) of an account since a date, with the balance. A parent may
    ask only for their own side."""
    account = _visible(db, name=name, caller=caller)
    own = _side(caller, account)
    if own != apb.STATEMENT_VIEW_FULL and view != own:
        raise PermissionDenied(
            "a parent sees only their own side of an account", reason="OTHER_SIDE"
        )
    access.audit(db, clock=clock, caller=caller, case_id=account.case_id, resource=name)
    as_of = clock.today()
    # The opening balance and the balances are summed in the database; only the statement's own lines are read.
    balances, before = _summary(db, account.id, as_of=as_of, before=since)
    opening = rules.view_total(before, view)
    out = apb.AccountStatement(
        account=account_name(account.id),
        view=view,
        since=pb_date(since),
        as_of=pb_date(as_of),
        opening_balance_pence=opening,
        balances=rules.balances_proto(balances, view),
    )
    # rules.statement, folded here over the rows as read: a ten-year statement has thousands of lines, and building
    # an Entry, a Group and a Line for each was most of its time. Each group's effect (rules.coefficient) is worked
    # out once; the accounts tests hold the result to rules.statement.
    effects: dict[tuple[str, str, str, str], int | None] = {}
    dates: dict[dt.date, date_pb2.Date] = {}
    prefix = f"accounts/{account.id}/entries/"
    balance = opening
    for entry_id, kind, amount, effective, target, source, adjustment, cause in _statement_rows(
        db, account.id, since=since, as_of=as_of
    ):
        group = (kind, target, source, adjustment)
        if group not in effects:
            effects[group] = rules.coefficient(
                rules.Group(_KIND[kind], _TARGET[target], source, _ADJUSTMENT[adjustment]), view
            )
        c = effects[group]
        if c is None:
            continue
        balance += c * amount
        if effective not in dates:
            dates[effective] = pb_date(effective)
        added = out.lines.add(
            entry=f"{prefix}{entry_id}",
            kind=_KIND[kind],
            description=cause,
            amount_pence=c * amount,
            balance_pence=balance,
        )
        added.effective_date.CopyFrom(dates[effective])
    out.closing_balance_pence = balance
    if printable:
        out.document = render_statement(out, payment_reference=account.case_id)
    return out


def entry_proto(db: Session, *, account_id: str, name: str) -> apb.LedgerEntry:
    row = db.get(EntryRecord, int(last_id(name)))
    if row is None or row.account_id != account_id:
        raise NotFound("ledger entry", name)
    return apb.LedgerEntry(
        name=name,
        kind=K.Value(row.kind),
        amount_pence=row.amount_pence,
        effective_date=pb_date(row.effective_date),
        posting_date=pb_date(row.posted_on),
        cause=row.cause,
        allocation_target=(
            T.Value(row.allocation_target)
            if row.allocation_target
            else money_ev.ALLOCATION_TARGET_UNSPECIFIED
        ),
        covers=entry_name(account_id, row.covers) if row.covers is not None else "",
        receipt=receipt_name(account_id, row.receipt_id) if row.receipt_id else "",
        adjustment_kind=(
            A.Value(row.adjustment_kind)
            if row.adjustment_kind
            else money_ev.ADJUSTMENT_KIND_UNSPECIFIED
        ),
    )


def entries_of(db: Session, *, case_id: str) -> Iterable[rules.Entry]:
    """The case's ledger as the rules see it (checks and tests rebuild balances from it)."""
    account = account_of_case(db, case_id)
    return [] if account is None else _entries(db, account.id)


def entries_of_cases(db: Session, case_ids: Iterable[str]) -> dict[str, list[rules.Entry]]:
    """Each case's ledger as `entries_of` reads it, for many cases in two queries (a national run reads a page of
    cases at a time); a case without an account has an empty ledger."""
    wanted = list(dict.fromkeys(case_ids))
    out: dict[str, list[rules.Entry]] = {case_id: [] for case_id in wanted}
    if not wanted:
        return out
    account_case: dict[str, str] = {
        account_id: case_id
        for account_id, case_id in db.execute(
            select(AccountRecord.id, AccountRecord.case_id).where(AccountRecord.case_id.in_(wanted))
        )
    }
    if account_case:
        rows = db.connection().execute(
            select(EntryRecord.account_id, *_ENTRY_COLUMNS)
            .where(EntryRecord.account_id.in_(list(account_case)))
            .order_by(EntryRecord.account_id, EntryRecord.effective_date, EntryRecord.id)
        )
        for account_id, *entry in rows:
            out[account_case[account_id]].append(_entry(entry))
    return out
