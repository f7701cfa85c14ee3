"""The pure rules of the feeds: when each is due and what counts as news (docs/domain/external-systems.md §1.3–§1.7).

An interest remembers what its feed last reported (its feed state, a JSON object whose shape is set here per
interest type), so that a change is reported once: these functions take that state and what HMRC reports now,
and return the state to keep and what to publish. Registering an interest sets the baseline and reports nothing
(except a deduction from earnings, whose employer details are sent at once: flows.py).

- Annual income and unearned income updates: due 30 days before each anniversary of the case's review date
  (reg 35(2)); an anniversary already due when the interest starts is the case's own business.
- RTI current income: the weekly average over the RTI window, against the baseline the case gave (a change of the
  threshold or more, 25% by default: reg 23) or, with no baseline, against what was last reported (any change).
- Deduction-from-earnings employment changes (a DEO only): an employment starting, ending, becoming potentially
  ceased, or its employer's or payroll details changing.
- Child Benefit end dates: a watched child's end date appearing or changing.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cms_platform.convert import years_after

from ..port import ChildBenefitStatus, EmploymentView

DUE_DAYS_BEFORE_ANNIVERSARY = 30  # reg 35(2)
DEFAULT_RTI_THRESHOLD_BP = 2500  # reg 23: 25%

FeedState = dict[str, Any]  # an interest's feed state, as stored (JSON)

# -- annual updates ------------------------------------------------------------------------------------------------


def due_anniversary(review: dt.date, on: dt.date) -> dt.date | None:
    """The latest anniversary of the review date whose update is due (30 days before it) by `on`."""
    due = None
    years = 0
    while True:
        anniversary = years_after(review, years)  # 29 February falls back to the 28th
        if anniversary - dt.timedelta(days=DUE_DAYS_BEFORE_ANNIVERSARY) > on:
            return due
        due = anniversary
        years += 1


def anniversary_to_report(
    review: dt.date | None, on: dt.date, state: Mapping[str, Any]
) -> dt.date | None:
    """The anniversary whose update is due by `on` and not yet reported (state "reported_for"), if any."""
    due = due_anniversary(review, on) if review else None
    if due is None or state.get("reported_for") == due.isoformat():
        return None
    return due


# -- RTI current income ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RtiChange:
    current_weekly_income_pence: int
    previous_weekly_income_pence: int
    change_basis_points: int


def change_basis_points(current: int, previous: int) -> int:
    """The change from `previous` in basis points (rounded down); from nil, any pay counts as +100%."""
    if previous:
        return (current - previous) * 10_000 // previous
    return 10_000 if current > 0 else 0


def rti_change(
    state: Mapping[str, Any],
    *,
    current: int,
    baseline: int,
    threshold_bp: int,
    registering: bool,
) -> tuple[FeedState, RtiChange | None]:
    """The RTI feed's state after seeing `current` (weekly pence) and the change to report, if any.

    State: "previous" (the figure changes are measured from, without a baseline), "reported" (the figure last
    reported, never reported twice)."""
    out = dict(state)
    previous = baseline or out.get("previous", current if registering else 0)
    if registering and not baseline:
        out["previous"] = current
        return out, None
    change = change_basis_points(current, previous)
    threshold = threshold_bp or DEFAULT_RTI_THRESHOLD_BP
    moved = abs(change) >= threshold if baseline else current != previous
    if not moved or out.get("reported") == current:
        return out, None
    out.update(reported=current, previous=out.get("previous", 0) if baseline else current)
    return out, RtiChange(current, previous, change)


# -- deduction from earnings -------------------------------------------------------------------------------------


class EmploymentChange(enum.StrEnum):
    """Named as the contract's EmploymentChangeKind members."""

    EMPLOYMENT_STARTED = "EMPLOYMENT_STARTED"
    EMPLOYMENT_ENDED = "EMPLOYMENT_ENDED"
    POTENTIALLY_CEASED = "POTENTIALLY_CEASED"
    EMPLOYER_DETAILS_CHANGED = "EMPLOYER_DETAILS_CHANGED"
    PAYROLL_DETAILS_CHANGED = "PAYROLL_DETAILS_CHANGED"


@dataclass(frozen=True)
class DeoChange:
    change: EmploymentChange
    change_date: dt.date
    employment: EmploymentView


def employment_snapshot(view: EmploymentView) -> dict[str, Any]:
    """What a DEO watches of an employment, as kept in the feed state ("employments", by employment id)."""
    e = view.employment
    return {
        "live": view.live,
        "ceased": view.potentially_ceased,
        "employer": [
            e.employer.name,
            list(e.employer.address.lines),
            e.employer.address.postcode,
            e.employer.telephone_number,
        ],
        "payroll": [e.payroll_id, str(e.pay_frequency)],
    }


def employment_change(
    was: Mapping[str, Any] | None, now: Mapping[str, Any]
) -> EmploymentChange | None:
    """What changed between two snapshots of one employment (the most telling change only)."""
    if was is None:
        return EmploymentChange.EMPLOYMENT_STARTED if now["live"] else None
    if was["live"] and not now["live"]:
        return EmploymentChange.EMPLOYMENT_ENDED
    if now["ceased"] and not was["ceased"]:
        return EmploymentChange.POTENTIALLY_CEASED
    if now["employer"] != was["employer"]:
        return EmploymentChange.EMPLOYER_DETAILS_CHANGED
    if now["payroll"] != was["payroll"]:
        return EmploymentChange.PAYROLL_DETAILS_CHANGED
    return None


def deo_changes(
    state: Mapping[str, Any], views: Sequence[EmploymentView], on: dt.date
) -> tuple[FeedState, list[DeoChange]]:
    """The employments HMRC reports on `on` against the last snapshot: the new state and the changes, each dated
    when it happened where HMRC says (a start or end date), else `on`."""
    by_id = {v.employment.employment_id: v for v in views}
    snapshot = {eid: employment_snapshot(v) for eid, v in by_id.items()}
    before = state.get("employments", {})
    changes = []
    for eid, now in snapshot.items():
        change = employment_change(before.get(eid), now)
        if change is None:
            continue
        e = by_id[eid].employment
        when = {
            EmploymentChange.EMPLOYMENT_STARTED: e.start_date,
            EmploymentChange.EMPLOYMENT_ENDED: e.end_date or on,
        }.get(change, on)
        changes.append(DeoChange(change, when, by_id[eid]))
    return {**state, "employments": snapshot}, changes


def deductible(views: Sequence[EmploymentView]) -> list[EmploymentView]:
    """The employments a deduction can go to: live and not potentially ceased (one per employment id)."""
    by_id = {v.employment.employment_id: v for v in views}
    return [v for v in by_id.values() if v.live and not v.potentially_ceased]


# -- Child Benefit end dates ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndDateNotice:
    status: ChildBenefitStatus
    previous_end_date: dt.date | None


def end_date_notices(
    state: Mapping[str, Any], statuses: Sequence[ChildBenefitStatus], *, registering: bool
) -> tuple[FeedState, list[EndDateNotice]]:
    """The watched children's end dates now (state "end_dates", by CRN) and those to notify: one that appeared or
    changed since last seen, not at registration and not when it went away."""
    known = dict(state.get("end_dates", {}))
    notices = []
    for status in statuses:
        if status.found is None:
            continue
        crn = status.found.child_reference_number
        end = status.end_date.isoformat() if status.end_date else ""
        previous = known.get(crn, "")
        if previous == end:
            continue
        known[crn] = end
        if registering or not end:
            continue
        notices.append(EndDateNotice(status, dt.date.fromisoformat(previous) if previous else None))
    return {**state, "end_dates": known}, notices
