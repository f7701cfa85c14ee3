"""Every call the arrears context makes into the Collect & Pay account (cms_casework.accounts), in this one module, so
the account's API is adapted in one place. Thin functions over an explicit session, in the caller's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.orm import Session

from cms.casework.v1 import money_events_pb2 as money_ev
from cms_platform.clock import Clock

from ..accounts import rules as account_rules
from ..accounts import service as accounts
from . import rules

# The account's adjustment kinds: a Regulation 8 offset of an overpayment against arrears, and arrears recognised
# (a Direct Pay shortfall made recoverable on Collect & Pay).
ADJUSTMENT_KIND_REGULATION_8_OFFSET = money_ev.ADJUSTMENT_KIND_REGULATION_8_OFFSET
ADJUSTMENT_KIND_ARREARS_RECOGNISED = money_ev.ADJUSTMENT_KIND_ARREARS_RECOGNISED
ADJUSTMENT_KIND_WRITE_OFF = money_ev.ADJUSTMENT_KIND_WRITE_OFF


def overdue(db: Session, *, case_id: str, on: dt.date) -> int:
    """Pence charged with a due date on or before `on` that no payment has covered."""
    return accounts.unpaid_due_on_or_before(db, case_id=case_id, on=on)


def arrears(db: Session, *, case_id: str, as_of: dt.date) -> int:
    """The arrears on the account (unpaid past due)."""
    return accounts.balances(db, case_id=case_id, as_of=as_of).arrears


def in_credit(db: Session, *, case_id: str, as_of: dt.date) -> int:
    """What a backdated decision made overpaid and no Regulation 8 decision has dealt with yet, 0 when none (money
    paid in advance is held credit the next charges use, not an overpayment)."""
    return accounts.balances(db, case_id=case_id, as_of=as_of).overpaid


def recognise_direct_pay_shortfall(
    db: Session, *, case_id: str, amount_pence: int, on: dt.date, cause: str, clock: Clock
) -> str:
    """A reported Direct Pay shortfall becomes recoverable arrears on the account (positive: owed by the paying
    parent). `cause` names the report. Returns the adjustment's name."""
    return accounts.post_adjustment(
        db,
        case_id=case_id,
        kind=ADJUSTMENT_KIND_ARREARS_RECOGNISED,
        amount_pence=amount_pence,
        effective_date=on,
        cause=cause,
        clock=clock,
    )


def offset_overpayment(
    db: Session, *, case_id: str, amount_pence: int, on: dt.date, cause: str, clock: Clock
) -> str:
    """A Regulation 8 offset: the credit used against the arrears. Posted negative (it reduces what is owed);
    `cause` names the decision. Returns the adjustment's name."""
    return accounts.post_adjustment(
        db,
        case_id=case_id,
        kind=ADJUSTMENT_KIND_REGULATION_8_OFFSET,
        amount_pence=-amount_pence,
        effective_date=on,
        cause=cause,
        clock=clock,
    )


def owed(db: Session, *, case_id: str) -> int:
    """Everything the paying parent owes on the account (charged less covered), due or not."""
    return accounts.balances(db, case_id=case_id, as_of=dt.date.max).owed


def owed_at(db: Session, *, case_id: str, on: dt.date) -> int:
    """What the paying parent owed at the end of `on`: charges due by then less what covered them by then."""
    return accounts.owed_at(db, case_id=case_id, on=on)


def last_payment(db: Session, *, case_id: str) -> dt.date | None:
    """The date of the latest money received on the account, None when none."""
    return max(
        (
            e.effective
            for e in accounts.entries_of(db, case_id=case_id)
            if e.kind == account_rules.RECEIPT
        ),
        default=None,
    )


def due_charges(db: Session, *, case_id: str) -> list[rules.DueCharge]:
    """The account's charges (maintenance, fees, recognised arrears) with what covered each and when, for the
    compliance rule."""
    return _due(list(accounts.entries_of(db, case_id=case_id)))


def due_charges_of_cases(db: Session, case_ids: Iterable[str]) -> dict[str, list[rules.DueCharge]]:
    """`due_charges` of many cases, their ledgers read together."""
    return {
        case_id: _due(entries)
        for case_id, entries in accounts.entries_of_cases(db, case_ids).items()
    }


def _due(entries: list[account_rules.Entry]) -> list[rules.DueCharge]:
    covered: dict[int, list[tuple[dt.date, int]]] = {}
    for e in entries:
        if e.kind == account_rules.ALLOCATION and e.covers is not None:
            covered.setdefault(e.covers, []).append((e.effective, e.amount))
    return [
        rules.DueCharge(e.effective, e.amount, tuple(covered.get(e.id, ())))
        for e in entries
        if account_rules.is_debt(e)
    ]


def end_liability(db: Session, *, case_id: str, on: dt.date, clock: Clock) -> None:
    """Liability on the account ends from `on` (accounts.service.end_liability: no charges from then, charges already
    posted for days from then reversed). Idempotent, so the arrears owed at `on` can be read after it whether or not
    the accounts' own consumer of the closure ran first."""
    accounts.end_liability(db, case_id=case_id, on=on, clock=clock)


def write_off(
    db: Session, *, case_id: str, amount_pence: int, on: dt.date, cause: str, clock: Clock
) -> str:
    """Arrears written off (posted negative, covering what is owed as money would); `cause` names the decision.
    Returns the adjustment's name."""
    return accounts.post_adjustment(
        db,
        case_id=case_id,
        kind=ADJUSTMENT_KIND_WRITE_OFF,
        amount_pence=-amount_pence,
        effective_date=on,
        cause=cause,
        clock=clock,
    )
