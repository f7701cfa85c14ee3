"""Every call the arrears context makes into the Collect & Pay account (cms_casework.accounts), in this one module, so
the account's API is adapted in one place. Thin functions over an explicit session, in the caller's transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from cms.casework.v1 import money_events_pb2 as money_ev
from cms_platform.clock import Clock

from ..accounts import service as accounts

# The account's adjustment kinds: a Regulation 8 offset of an overpayment against arrears, and arrears recognised
# (a Direct Pay shortfall made recoverable on Collect & Pay).
ADJUSTMENT_KIND_REGULATION_8_OFFSET = money_ev.ADJUSTMENT_KIND_REGULATION_8_OFFSET
ADJUSTMENT_KIND_ARREARS_RECOGNISED = money_ev.ADJUSTMENT_KIND_ARREARS_RECOGNISED


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
