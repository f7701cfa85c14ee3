"""When the CMS must ask a paying parent for current income, how long they have, and from when a calculation
replaces a default maintenance decision (no I/O).

- When HMRC holds no income for the tax year (reg 34(1)(b),(c) of SI 2012/2677 then calls for current income) and
  the CMS holds none either, the paying parent is asked for it.
- The time allowed, `TIME_ALLOWED`: 14 days from the request, the period the Child Support Information Regulations
  2008 give a person asked for information (reg 4 of SI 2008/2551) (a documented default; docs/domain/calculation.md
  §7).
- When none comes in time, the CMS makes a default maintenance decision (s.12(1) of the Child Support Act 1991) from
  the initial effective date, at the rule set's default rate.
- Once the information arrives, a calculation replaces the default decision: by default from the date the default
  decision took effect (a revision, s.16(3) of the 1991 Act; `REPLACED_FROM` = DEFAULT_DECISION_EFFECTIVE_DATE), or
  from the date the information arrived (INFORMATION_RECEIVED, a supersession), the documented alternative."""

from __future__ import annotations

import datetime as dt
import enum


class State(enum.StrEnum):
    """AWAITING: asked, the time allowed still running. DEFAULT_DECISION_MADE: the time ran out and a default
    decision is in force. ANSWERED: the income came in time and the first calculation was made from it.
    REPLACED: the income came after the default decision, which a calculation replaced. ENDED: overtaken, the case
    closed or a calculation from income that came another way (a change) settled it."""

    AWAITING = "AWAITING"
    DEFAULT_DECISION_MADE = "DEFAULT_DECISION_MADE"
    ANSWERED = "ANSWERED"
    REPLACED = "REPLACED"
    ENDED = "ENDED"


OPEN = (State.AWAITING, State.DEFAULT_DECISION_MADE)


class ReplacedFrom(enum.StrEnum):
    DEFAULT_DECISION_EFFECTIVE_DATE = "DEFAULT_DECISION_EFFECTIVE_DATE"
    INFORMATION_RECEIVED = "INFORMATION_RECEIVED"


TIME_ALLOWED = dt.timedelta(days=14)
REPLACED_FROM = ReplacedFrom.DEFAULT_DECISION_EFFECTIVE_DATE


def needs_current_income(*, hmrc_income_held: bool, current_income_held: bool) -> bool:
    """No income to calculate on: HMRC holds none and the CMS holds no current income (from the paying parent, RTI
    or other evidence)."""
    return not hmrc_income_held and not current_income_held


def due_date(requested_on: dt.date, allowed: dt.timedelta = TIME_ALLOWED) -> dt.date:
    """The last day the paying parent has to answer: the default decision may be made the day after."""
    return requested_on + allowed


def default_decision_due(due: dt.date, as_of: dt.date) -> bool:
    return as_of > due


def calculation_effective_date(
    *,
    state: State,
    initial_effective_date: dt.date,
    default_effective_date: dt.date | None,
    received_on: dt.date,
    replaced_from: ReplacedFrom = REPLACED_FROM,
) -> dt.date:
    """The effective date of the calculation made from the information: the initial effective date while no
    decision has been made; after a default decision, as `replaced_from` says (never before the default decision's
    own date)."""
    if state != State.DEFAULT_DECISION_MADE or default_effective_date is None:
        return initial_effective_date
    if replaced_from == ReplacedFrom.INFORMATION_RECEIVED:
        return max(received_on, default_effective_date)
    return default_effective_date


def overtaken(*, state: State, case_open: bool, latest_rate: str) -> bool:
    """Whether a request still open no longer waits for anything: its case closed, or (after a default decision)
    the decision in force is a calculation from income that came another way (a reported change of income)."""
    if not case_open:
        return True
    return state == State.DEFAULT_DECISION_MADE and latest_rate not in ("", "DEFAULT")
