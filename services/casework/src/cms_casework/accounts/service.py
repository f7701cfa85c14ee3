"""STUB of the accounts API the arrears context codes against (the integrator drops this file for the real one)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from cms_platform.clock import Clock


@dataclass(frozen=True)
class Balances:
    arrears_pence: int
    held_credit_pence: int


def record_receipt(
    db: Session,
    *,
    payment_reference: str,
    amount_pence: int,
    method: int,
    external_reference: str,
    received_on: dt.date,
    clock: Clock,
    earnings_deduction: Any = None,
) -> str:
    raise NotImplementedError("accounts is built in parallel")


def unpaid_due_on_or_before(db: Session, *, case_id: str, on: dt.date) -> int:
    """Pence charged to the paying parent with a due date on or before `on` that no allocation has covered."""
    raise NotImplementedError("accounts is built in parallel")


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
    raise NotImplementedError("accounts is built in parallel")


def balances(db: Session, *, case_id: str, as_of: dt.date) -> Balances:
    raise NotImplementedError("accounts is built in parallel")
