"""The feeds: an interest checked against what HMRC reports now (through the port), its events published through
the outbox in the same transaction as its feed state, so an event is never lost and never sent twice, whichever
process dies when. An interest is checked
- when it is registered (the baseline; a deduction from earnings gets its employer details at once),
- after a life event changes its person (the simulator's scenario service: `check_person`), and
- by the feed scheduler as the clock moves (`run_due`: annual and unearned income updates 30 days before each review
  anniversary, Child Benefit end dates reached by the terminal-date rules, RTI pay drifting past the threshold, an
  employment going quiet), one transaction per interest.
"""

from __future__ import annotations

import datetime as dt

from google.protobuf.message import Message
from sqlalchemy.orm import Session, sessionmaker

from cms.hmrc.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.identifiers import normalise_nino
from cms_platform.models import OutboxEvent

from ..income.rules import rti_window
from ..port import HmrcFeeds, HmrcPort, MatchResult, PersonToMatch
from . import convert, rules, service
from .models import InterestRecord
from .rules import FeedState


def register(
    db: Session,
    *,
    wanted: pb.Interest,
    person: PersonToMatch,
    hmrc: HmrcPort,
    feeds: HmrcFeeds,
    clock: Clock,
) -> tuple[MatchResult, pb.Interest | None]:
    """Match the person (an HMRC enquiry); for a full match, the case's interest in them, checked at once for its
    baseline. Nothing is registered for a partial or no match."""
    today = clock.today()
    match = hmrc.match(person, today)
    if not match.matched:
        return match, None
    record = service.add(db, wanted=wanted, nino=normalise_nino(person.nino), now=clock.now())
    check(db, record=record, feeds=feeds, clock=clock, on=today, registering=True)
    return match, service.interest_of(record)


def run_due(*, sessions: sessionmaker, hmrc: HmrcFeeds, clock: Clock) -> int:
    """One feed pass over every active interest; returns the number of events queued."""
    queued, after = 0, ""
    on = clock.today()
    while True:
        with sessions() as s:
            page = service.active_ids(s, after_id=after)
        if not page:
            return queued
        for interest_id in page:
            with sessions.begin() as s:
                record = service.lock_active(s, interest_id)
                if record is not None:
                    queued += len(check(s, record=record, feeds=hmrc, clock=clock, on=on))
        after = page[-1]


def check_person(
    db: Session, *, nino: str, feeds: HmrcFeeds, clock: Clock, on: dt.date
) -> list[OutboxEvent]:
    """Every active interest in one person (after a life event); the events queued."""
    queued: list[OutboxEvent] = []
    for record in service.active_in(db, nino=nino):
        queued += check(db, record=record, feeds=feeds, clock=clock, on=on)
    return queued


def check(
    db: Session,
    *,
    record: InterestRecord,
    feeds: HmrcFeeds,
    clock: Clock,
    on: dt.date,
    registering: bool = False,
) -> list[OutboxEvent]:
    """One interest against what HMRC reports on `on`: the events queued (in this transaction)."""
    interest = service.interest_of(record)
    if not feeds.reporting(interest.nino, on):
        return []  # nothing more comes from HMRC for a deceased person
    state = service.feed_state(record)
    kind = interest.interest_type
    events: list[Message] = []
    if kind == pb.INTEREST_TYPE_ANNUAL_INCOME_UPDATE:
        state, events = _annual_income(interest, state, feeds, on, registering)
    elif kind == pb.INTEREST_TYPE_UNEARNED_INCOME:
        state, events = _unearned_income(interest, state, feeds, on, registering)
    elif kind == pb.INTEREST_TYPE_RTI_CURRENT_INCOME:
        state, events = _rti(interest, state, feeds, on, registering)
    elif kind == pb.INTEREST_TYPE_DEDUCTION_FROM_EARNINGS:
        state, events = _deduction_from_earnings(interest, state, feeds, on, registering)
    elif kind == pb.INTEREST_TYPE_CHILD_BENEFIT_END_DATE:
        state, events = _child_benefit(interest, state, feeds, on, registering)
    service.keep_feed_state(record, state)
    return [
        outbox.publish(
            db,
            clock=clock,
            key=f"interests/{interest.interest_id}",
            subject=f"interests/{interest.interest_id}",
            message=event,
        )
        for event in events
    ]


Checked = tuple[FeedState, list[Message]]  # the feed state to keep, the events to publish


def _annual_income(
    interest: pb.Interest, state: FeedState, feeds: HmrcFeeds, on: dt.date, registering: bool
) -> Checked:
    due = rules.anniversary_to_report(convert.review_date(interest), on, state)
    if due is None:
        return state, []
    if (
        registering
    ):  # an anniversary already due when the interest starts is the case's own business
        return {**state, "reported_for": due.isoformat()}, []
    income = feeds.latest_income(interest.nino, on)
    event = convert.annual_income_updated(
        interest,
        due=due,
        income=income,
        previous_tax_year=state.get("tax_year", ""),
        previous_gross_income_pence=state.get("gross", 0),
    )
    return {
        **state,
        "reported_for": due.isoformat(),
        "tax_year": event.tax_year,
        "gross": event.gross_income_pence,
    }, [event]


def _unearned_income(
    interest: pb.Interest, state: FeedState, feeds: HmrcFeeds, on: dt.date, registering: bool
) -> Checked:
    due = rules.anniversary_to_report(convert.review_date(interest), on, state)
    if due is None:
        return state, []
    state = {**state, "reported_for": due.isoformat()}
    if registering:
        return state, []
    year = feeds.latest_unearned_income(interest.nino, on)
    return state, [convert.unearned_income_updated(interest, due=due, year=year)]


def _rti(
    interest: pb.Interest, state: FeedState, feeds: HmrcFeeds, on: dt.date, registering: bool
) -> Checked:
    rti = feeds.current_income(interest.nino, *rti_window(on))
    if rti is None:
        return state, []
    params = interest.rti_current_income
    state, change = rules.rti_change(
        state,
        current=rti.average_weekly_taxable_pay_pence,
        baseline=params.baseline_weekly_income_pence,
        threshold_bp=params.change_threshold_basis_points,
        registering=registering,
    )
    if change is None:
        return state, []
    return state, [convert.rti_current_income_changed(interest, change=change, rti=rti, on=on)]


def _deduction_from_earnings(
    interest: pb.Interest, state: FeedState, feeds: HmrcFeeds, on: dt.date, registering: bool
) -> Checked:
    views = feeds.employments(interest.nino, on)
    state, changes = rules.deo_changes(state, views, on)
    live = rules.deductible(views)
    if registering:
        return state, [convert.employer_details_provided(interest, live=live)]
    if not convert.is_order(interest):
        return state, []  # employment-change alerts are for a DEO only
    return state, [convert.deo_employment_changed(interest, change=c, live=live) for c in changes]


def _child_benefit(
    interest: pb.Interest, state: FeedState, feeds: HmrcFeeds, on: dt.date, registering: bool
) -> Checked:
    statuses = feeds.children_on_award(interest.nino, convert.watched_children(interest), on)
    if statuses is None:
        return state, []
    state, notices = rules.end_date_notices(state, statuses, registering=registering)
    return state, [convert.child_benefit_end_date_notified(interest, n) for n in notices]
