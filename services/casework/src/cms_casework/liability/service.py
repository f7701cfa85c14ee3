"""The liability timeline's store: rebuilding part of a case's timeline from a date (the segments in force from then
superseded, one that started earlier carried on up to it, the new ones added with what their backdated days make due
or overpaid, and the rebuild announced through the outbox), ending it when the case closes, and reading it behind the
case's visibility. Keyword-only functions over an explicit session; the arithmetic is in liability.rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.calculation.v1 import resources_pb2 as calc_pb
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import day_of, pb_date

from ..names import new_id
from . import rules
from .models import LiabilitySegmentRecord

CURRENT = pb.LiabilitySegmentState.Name(pb.LIABILITY_SEGMENT_STATE_CURRENT)
SUPERSEDED = pb.LiabilitySegmentState.Name(pb.LIABILITY_SEGMENT_STATE_SUPERSEDED)


@dataclass(frozen=True)
class Decision:
    """One calculation in force from `start` (the next decision's start, or the timeline's end, ends it), this case's
    weekly share of it, and the changes whose effective date is `start`."""

    start: dt.date
    calculation: calc_pb.Calculation
    weekly_pence: int
    reason: pb.CalculationReason.ValueType
    changes: Sequence[str] = ()
    # Made because another of the paying parent's cases closed on `start`.
    other_case_closed: bool = False


@dataclass
class Rebuilt:
    """What a rebuild did: its id, the segments it put in force, what they made due and overpaid."""

    rebuild: str
    segments: list[pb.LiabilitySegment] = field(default_factory=list)
    amount_due_pence: int = 0
    amount_overpaid_pence: int = 0

    @property
    def backdated(self) -> bool:
        return bool(self.amount_due_pence or self.amount_overpaid_pence)


def _document(row: LiabilitySegmentRecord) -> pb.LiabilitySegment:
    return pb.LiabilitySegment.FromString(row.document)


def _span(segment: pb.LiabilitySegment) -> rules.Span:
    start = day_of(segment.start_date)
    assert start is not None
    return rules.Span(start, day_of(segment.end_date), segment.weekly_amount_pence)


def _current_rows(db: Session, case_id: str, *, lock: bool = False) -> list[LiabilitySegmentRecord]:
    query = (
        select(LiabilitySegmentRecord)
        .where(LiabilitySegmentRecord.case_id == case_id, LiabilitySegmentRecord.state == CURRENT)
        .order_by(LiabilitySegmentRecord.start_date, LiabilitySegmentRecord.created_at)
    )
    if lock:
        query = query.with_for_update()
    return list(db.scalars(query))


@dataclass(frozen=True)
class Start:
    """A segment in force that a calculation started: its start date, the changes that started it, and why it was
    calculated."""

    start: dt.date
    changes: list[str]
    reason: pb.CalculationReason.ValueType


def current_starts(db: Session, *, case_id: str) -> list[Start]:
    """The segments in force that a calculation started, earliest first."""
    out = []
    for row in _current_rows(db, case_id):
        segment = _document(row)
        if segment.calculation:
            out.append(
                Start(row.start_date, list(segment.changes_of_circumstances), segment.reason)
            )
    return out


def _add(
    db: Session,
    *,
    case_id: str,
    segment: pb.LiabilitySegment,
    rebuild: str,
    clock: Clock,
) -> pb.LiabilitySegment:
    segment_id = new_id()
    segment.name = f"cases/{case_id}/liabilityTimeline/segments/{segment_id}"
    segment.state = pb.LIABILITY_SEGMENT_STATE_CURRENT
    segment.rebuild = rebuild
    segment.create_time.FromDatetime(clock.now())
    start = day_of(segment.start_date)
    assert start is not None
    db.add(
        LiabilitySegmentRecord(
            id=segment_id,
            case_id=case_id,
            state=CURRENT,
            start_date=start,
            rebuild=rebuild,
            document=segment.SerializeToString(),
            created_at=clock.now(),
        )
    )
    return segment


def _supersede(
    db: Session,
    *,
    rows: list[LiabilitySegmentRecord],
    documents: list[pb.LiabilitySegment],
    cut: rules.Splice,
    from_date: dt.date,
    rebuild: str,
    clock: Clock,
) -> None:
    """Supersede the segments the splice names, carrying those that started before `from_date` on up to it."""
    for i in cut.superseded:
        old = documents[i]
        old.state = pb.LIABILITY_SEGMENT_STATE_SUPERSEDED
        old.superseded_by_rebuild = rebuild
        rows[i].state, rows[i].document = SUPERSEDED, old.SerializeToString()
    for i in cut.carried:
        carried = pb.LiabilitySegment()
        carried.CopyFrom(documents[i])
        for name in ("superseded_by_rebuild", "create_time", "carried_from"):
            carried.ClearField(name)
        carried.end_date.CopyFrom(pb_date(from_date))
        # What it made due or overpaid stays with the superseded original: carrying it on decides nothing new.
        carried.amount_due_pence = carried.amount_overpaid_pence = carried.backdated_days = 0
        carried.carried_from = documents[i].name
        _add(db, case_id=rows[i].case_id, segment=carried, rebuild=rebuild, clock=clock)


def rebuild(
    db: Session,
    *,
    case_id: str,
    decisions: Sequence[Decision],
    end: dt.date | None = None,
    clock: Clock,
) -> Rebuilt:
    """Put `decisions` in force from the first one's start: each runs to the next one's start, the last to `end`
    (None: on). Days before today are backdated against what was in force for them (liability.rules.plan_rebuild).
    With an `end` (the case closed) and no decisions, the timeline just ends there."""
    by_start = {d.start: d for d in sorted(decisions, key=lambda d: d.start)}
    if end is not None:
        by_start = {start: d for start, d in by_start.items() if start < end}
    today = clock.today()
    rows = _current_rows(db, case_id, lock=True)
    documents = [_document(r) for r in rows]
    before = [_span(d) for d in documents]
    plan = rules.plan_rebuild(
        before,
        [(start, d.weekly_pence) for start, d in by_start.items()],
        end=end,
        today=today,
    )
    done = Rebuilt(rebuild=new_id())
    from_date = min([*by_start, *([end] if end is not None else [])])
    _supersede(
        db,
        rows=rows,
        documents=documents,
        cut=plan.splice,
        from_date=from_date,
        rebuild=done.rebuild,
        clock=clock,
    )
    for i, (span, difference) in enumerate(plan.segments):
        # The closure's nil segment, last, has no decision behind it.
        nil = plan.closure_nil and i == len(plan.segments) - 1
        decision = None if nil else by_start[span.start]
        segment = pb.LiabilitySegment()
        if decision is not None:
            calculation = decision.calculation
            segment = pb.LiabilitySegment(
                calculation=calculation.name,
                weekly_amount_pence=decision.weekly_pence,
                rate=calc_pb.Rate.Name(calculation.rate).removeprefix("RATE_")
                if calculation.rate
                else "",
                rule_set_version=calculation.rule_set_version,
                changes_of_circumstances=list(decision.changes),
                reason=decision.reason,
            )
        segment.start_date.CopyFrom(pb_date(span.start))
        if span.end is not None:
            segment.end_date.CopyFrom(pb_date(span.end))
        segment.decision_date.CopyFrom(pb_date(today))
        segment.backdated_days = rules.backdated_days(span.start, span.end, today)
        segment.amount_due_pence, segment.amount_overpaid_pence = rules.due_and_overpaid(difference)
        text, citation = rules.explain(
            rules.Wording(
                reason=pb.CalculationReason.Name(segment.reason).removeprefix(
                    "CALCULATION_REASON_"
                ),
                start=span.start,
                weekly_pence=segment.weekly_amount_pence,
                rate=segment.rate,
                changes=len(segment.changes_of_circumstances),
                before_pence=rules.in_force_on(before, span.start),
                due_pence=segment.amount_due_pence,
                overpaid_pence=segment.amount_overpaid_pence,
                backdated_days=segment.backdated_days,
                closure=nil,
                other_case_closed=decision is not None and decision.other_case_closed,
            )
        )
        segment.explanation.explanation, segment.explanation.citation = text, citation
        done.segments.append(
            _add(db, case_id=case_id, segment=segment, rebuild=done.rebuild, clock=clock)
        )
    done.amount_due_pence = sum(s.amount_due_pence for s in done.segments)
    done.amount_overpaid_pence = sum(s.amount_overpaid_pence for s in done.segments)
    _announce(db, case_id=case_id, done=done, from_date=from_date, end=end, clock=clock)
    return done


def end_timeline(db: Session, *, case_id: str, on: dt.date, clock: Clock) -> Rebuilt:
    """The case closed on `on`: nothing is in force from then (what was is carried on up to it)."""
    if not _current_rows(db, case_id):
        return Rebuilt(rebuild="")  # never calculated: no timeline to end
    return rebuild(db, case_id=case_id, decisions=(), end=on, clock=clock)


def _announce(
    db: Session,
    *,
    case_id: str,
    done: Rebuilt,
    from_date: dt.date,
    end: dt.date | None,
    clock: Clock,
) -> None:
    name = f"cases/{case_id}"
    message = ev.LiabilityTimelineRebuilt(
        case_id=case_id,
        rebuild=done.rebuild,
        from_date=pb_date(from_date),
        segments=done.segments,
        amount_due_pence=done.amount_due_pence,
        amount_overpaid_pence=done.amount_overpaid_pence,
    )
    if end is not None:
        message.end_date.CopyFrom(pb_date(end))
    outbox.publish(db, clock=clock, key=name, subject=name, message=message)


def timeline(
    db: Session, *, case_id: str, include_superseded: bool = False, closed_on: dt.date | None = None
) -> pb.LiabilityTimeline:
    """The case's timeline: the segments in force in date order; the superseded ones too when asked for."""
    rows = db.scalars(
        select(LiabilitySegmentRecord)
        .where(LiabilitySegmentRecord.case_id == case_id)
        .order_by(LiabilitySegmentRecord.created_at, LiabilitySegmentRecord.start_date)
    ).all()
    out = pb.LiabilityTimeline(name=f"cases/{case_id}/liabilityTimeline")
    current: list[pb.LiabilitySegment] = []
    superseded: list[pb.LiabilitySegment] = []
    for row in rows:
        segment = _document(row)
        out.amount_due_pence += segment.amount_due_pence
        out.amount_overpaid_pence += segment.amount_overpaid_pence
        (current if row.state == CURRENT else superseded).append(segment)
    current.sort(key=lambda s: day_of(s.start_date) or dt.date.min)
    out.segments.extend(current)
    if include_superseded:
        out.superseded_segments.extend(superseded)
    if closed_on is not None:
        out.end_date.CopyFrom(pb_date(closed_on))
    return out
