"""The liability timeline's arithmetic (docs/domain/liability.md): pure functions over dates and integer pence.

No gRPC, no SQL, no clock: the decision date is passed in.

- A segment is a weekly amount in force over [start, end): `end` is the first day it is no longer in force, None
  while it runs on.
- A rebuild from date D replaces every segment in force on or after D: a segment that started before D is cut
  short at D (carried on unchanged up to D), the rest are superseded whole; the new segments run from D.
- A new segment's days before the decision date are backdated. For them it makes an amount due (more than what was
  in force for those days before the decision) or overpaid (less). Day by day the difference is weekly amount ÷ 7;
  summed exactly over the segment's days as (weekly difference × days) and divided by 7 once, rounded to the
  nearest penny (a seventh of a whole number of pence is never exactly half a penny). A day no segment covered
  before (before the first liability) counts as nil before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ..wording import long_date, movement, pounds

DAYS_PER_WEEK = 7
T = TypeVar("T")


@dataclass(frozen=True)
class Span:
    """A weekly amount in force from `start` up to (not including) `end`; `end` None: it runs on."""

    start: dt.date
    end: dt.date | None
    weekly_pence: int

    def __post_init__(self) -> None:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"a span ends after it starts ({self.start} .. {self.end})")
        if self.weekly_pence < 0:
            raise ValueError("a weekly amount cannot be negative")


def days_in_common(
    a_start: dt.date, a_end: dt.date | None, b_start: dt.date, b_end: dt.date | None
) -> int:
    """Days in both [a_start, a_end) and [b_start, b_end) (an end of None is open); 0 when they do not meet."""
    start = max(a_start, b_start)
    ends = [e for e in (a_end, b_end) if e is not None]
    if not ends:
        raise ValueError("two open spans have no finite overlap")
    return max(0, (min(ends) - start).days)


def divide_by_week(numerator_pence_days: int) -> int:
    """pence × days ÷ 7, to the nearest penny (halves cannot occur; were they to, away from zero)."""
    sign = -1 if numerator_pence_days < 0 else 1
    return sign * ((2 * abs(numerator_pence_days) + DAYS_PER_WEEK) // (2 * DAYS_PER_WEEK))


def backdated_days(start: dt.date, end: dt.date | None, decided_on: dt.date) -> int:
    """Days of [start, end) before the decision date."""
    if decided_on <= start:
        return 0
    return days_in_common(start, end, start, decided_on)


def backdated_difference(new: Span, previous: Iterable[Span], decided_on: dt.date) -> int:
    """Pence the paying parent owes (positive) or has overpaid (negative) for the backdated days of `new`, against
    the segments in force for those days before the decision (`previous`, not overlapping one another). Days none of
    them covers were nil."""
    days = backdated_days(new.start, new.end, decided_on)
    if days == 0:
        return 0
    window_end = new.start + dt.timedelta(days=days)
    covered = 0
    numerator = 0
    for old in previous:
        shared = days_in_common(new.start, window_end, old.start, old.end)
        covered += shared
        numerator += (new.weekly_pence - old.weekly_pence) * shared
    if covered > days:
        raise ValueError("the previous segments overlap one another")
    numerator += new.weekly_pence * (days - covered)
    return divide_by_week(numerator)


def due_and_overpaid(difference_pence: int) -> tuple[int, int]:
    """(amount due, amount overpaid) for a signed difference: at most one is non-zero."""
    return max(difference_pence, 0), max(-difference_pence, 0)


@dataclass(frozen=True)
class Splice:
    """What a rebuild from `from_date` does to the segments in force: indexes of those superseded, and of those among
    them carried on up to `from_date` (they started before it)."""

    superseded: tuple[int, ...]
    carried: tuple[int, ...]


def splice(current: Sequence[Span], from_date: dt.date) -> Splice:
    """Which segments in force a rebuild from `from_date` replaces: every one still in force on or after it."""
    superseded = tuple(i for i, seg in enumerate(current) if seg.end is None or seg.end > from_date)
    carried = tuple(i for i in superseded if current[i].start < from_date)
    return Splice(superseded, carried)


def chain(starts: Sequence[dt.date], end: dt.date | None) -> list[tuple[dt.date, dt.date | None]]:
    """Back-to-back periods from the distinct start dates (sorted): each ends where the next starts, the last at
    `end` (None: runs on). Start dates on or after `end` give no period."""
    ordered = sorted({s for s in starts if end is None or s < end})
    return [
        (start, ordered[i + 1] if i + 1 < len(ordered) else end) for i, start in enumerate(ordered)
    ]


def later_starts(
    starts: Sequence[tuple[dt.date, T]], after: dt.date, *, before: dt.date | None = None
) -> list[tuple[dt.date, T]]:
    """The segment starts in force strictly after `after` (and before `before`, when given), earliest first, one per
    date (the first given for a date wins). A rebuild from `after` supersedes those segments: each must be calculated
    again from its own start, because what started it (a change of circumstances dated after `after`, say) still
    applies from that date (s.17(4) of the Child Support Act 1991; reg 18 of SI 2012/2677)."""
    out: dict[dt.date, T] = {}
    for start, what in starts:
        if start > after and (before is None or start < before):
            out.setdefault(start, what)
    return sorted(out.items(), key=lambda item: item[0])


@dataclass(frozen=True)
class RebuildPlan:
    """What a rebuild does: the splice of the segments in force, and the new segments with the difference (pence,
    positive due, negative overpaid) each makes for its backdated days. The last new segment may be a nil one with no
    decision behind it (`closure_nil`): the case closed on a date already past."""

    splice: Splice
    segments: tuple[tuple[Span, int], ...]
    closure_nil: bool


def plan_rebuild(
    current: Sequence[Span],
    decided: Sequence[tuple[dt.date, int]],
    *,
    end: dt.date | None,
    today: dt.date,
) -> RebuildPlan:
    """Rebuild the timeline `current` (the segments in force) with weekly amounts `decided` from their start dates
    (one per date; the last given for a date wins), the last running to `end` (None: on), decided on `today`. With
    an `end` before today a nil segment covers the days from it to today."""
    starts = [start for start, _ in decided]
    if not starts and end is None:
        raise ValueError("a rebuild needs a decision or an end")
    from_date = min([*starts, *([end] if end is not None else [])])
    weekly = dict(decided)
    segments: list[tuple[Span, int]] = []
    for start, stop in chain(starts, end):
        span = Span(start, stop, weekly[start])
        segments.append((span, backdated_difference(span, current, today)))
    nil = end is not None and end < today
    if nil:
        assert end is not None
        span = Span(end, today, 0)
        segments.append((span, backdated_difference(span, current, today)))
    return RebuildPlan(splice(current, from_date), tuple(segments), nil)


def rebuilt(current: Sequence[Span], plan: RebuildPlan, from_date: dt.date) -> list[Span]:
    """The segments in force after `plan`: those it leaves, those it carries on up to `from_date`, and its new ones,
    in date order."""
    kept = [s for i, s in enumerate(current) if i not in plan.splice.superseded]
    carried = [
        Span(current[i].start, from_date, current[i].weekly_pence) for i in plan.splice.carried
    ]
    made = [span for span, _ in plan.segments]
    return sorted([*kept, *carried, *made], key=lambda s: s.start)


# ---- what a segment's decision is, in words a parent can read ---------------------------------------------------

INITIAL = "Child Support Act 1991 s.11 and Sch 1"
SUPERSESSION = "Child Support Act 1991 s.17(4); SI 2012/2677 reg 18"
ANNUAL_REVIEW = "Child Support Act 1991 s.17; SI 2012/2677 regs 19-20"
REVISION = "Child Support Act 1991 s.16(3); SI 2012/2677 reg 14"
DEFAULT_DECISION = "Child Support Act 1991 s.12(1); SI 2012/2677 reg 49"
CLOSURE = "Child Support Act 1991 Sch 1 para 16"
OTHER_CASE_CLOSED = "Child Support Act 1991 s.17 and Sch 1 para 6"


@dataclass(frozen=True)
class Wording:
    """What explain() needs of a segment, as plain values (the reason as its contract name without the prefix)."""

    reason: str  # INITIAL, CHANGE_OF_CIRCUMSTANCES, ANNUAL_REVIEW, CORRECTION_REVISION, CASEWORKER_REQUEST
    start: dt.date
    weekly_pence: int
    rate: str
    changes: int = 0
    before_pence: int | None = (
        None  # in force on `start` before this decision; None: no liability before
    )
    due_pence: int = 0
    overpaid_pence: int = 0
    backdated_days: int = 0
    closure: bool = False
    # Another of the paying parent's cases closed on `start`: one calculation covered them all.
    other_case_closed: bool = False


def in_force_on(current: Sequence[Span], day: dt.date) -> int | None:
    """The weekly amount in force on `day` among `current`; None when no segment covers it."""
    for span in current:
        if span.start <= day and (span.end is None or day < span.end):
            return span.weekly_pence
    return None


def explain(w: Wording) -> tuple[str, str]:
    """(plain English, the rule cited) for the decision that puts a segment in force."""
    if w.closure:
        text = f"The case closed on {long_date(w.start)}, so no maintenance is due from that day."
        return text, CLOSURE
    before = w.before_pence if w.before_pence is not None else 0
    amount = (
        movement(w.start, before, w.weekly_pence)
        if w.before_pence is not None
        else f"From {long_date(w.start)} the weekly amount is {pounds(w.weekly_pence)}."
    )
    if w.rate == "DEFAULT":
        opening, citation = (
            "We made a default maintenance decision because the information needed for a calculation was not "
            "given in the time allowed.",
            DEFAULT_DECISION,
        )
    elif w.other_case_closed:
        opening, citation = (
            f"We recalculated because another of the paying parent's cases closed on {long_date(w.start)}. One "
            "calculation covers all the paying parent's cases and is shared between the receiving parents, so this "
            "case's share changed.",
            OTHER_CASE_CLOSED,
        )
    elif w.reason == "INITIAL":
        opening, citation = "This is the first calculation of the maintenance due.", INITIAL
    elif w.reason == "ANNUAL_REVIEW":
        opening, citation = (
            "We looked at the calculation again at its annual review, with HMRC's latest figures.",
            ANNUAL_REVIEW,
        )
    elif w.reason == "CORRECTION_REVISION":
        opening, citation = (
            "We changed the decision from the date it took effect because it was wrong (a revision).",
            REVISION,
        )
    elif w.changes:
        told = (
            "a change of circumstances"
            if w.changes == 1
            else f"{w.changes} changes of circumstances"
        )
        opening, citation = (
            f"We changed the decision because of {told} taking effect on {long_date(w.start)}.",
            SUPERSESSION,
        )
    else:
        opening, citation = "We recalculated the maintenance due.", SUPERSESSION
    parts = [opening, amount]
    if w.due_pence or w.overpaid_pence:
        days = f"{w.backdated_days} day{'s' if w.backdated_days != 1 else ''}"
        if w.due_pence:
            parts.append(f"The {days} before the decision make {pounds(w.due_pence)} more due.")
        else:
            parts.append(
                f"The {days} before the decision make {pounds(w.overpaid_pence)} less due (overpaid)."
            )
    return " ".join(parts), citation
