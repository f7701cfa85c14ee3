"""Interests and the HMRC feeds they drive.

A feed publishes only for a person in whom a case has an active interest, one event per interest, through the
outbox in the same transaction as the interest's feed state — so an event is never lost and never sent twice,
whichever process dies when. Each interest remembers what it last reported (`feed_state`) and is checked:
- right after a life event changes its person (ApplyLifeEvent), and
- by the feed scheduler as the clock moves (annual and unearned income updates 30 days before each review
  anniversary, Child Benefit end dates reached by the terminal-date rules, RTI pay drifting past the threshold,
  an employment going quiet).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.hmrc.v1 import events_pb2 as ev
from cms.hmrc.v1 import hmrc_scenario_service_pb2 as scenario
from cms.hmrc.v1 import hmrc_service_pb2 as api
from cms.hmrc.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.errors import AlreadyExists, InvalidArgument, NotFound
from cms_platform.events import event_type as row_type
from cms_platform.events import topic_of
from cms_platform.paging import page
from cms_simulation.population import normalise_nino
from cms_simulation.population.model import Person

from . import convert as answers
from .models import InterestRecord
from .port import ChildToFind, PersonToMatch
from .simulator import convert
from .simulator.adapter import SimulatedHmrc

TOPIC = topic_of(ev.AnnualIncomeUpdated)
_PARAMETERS = {  # interest type → (oneof member, required)
    pb.INTEREST_TYPE_ANNUAL_INCOME_UPDATE: ("annual_income_update", True),
    pb.INTEREST_TYPE_RTI_CURRENT_INCOME: ("rti_current_income", False),
    pb.INTEREST_TYPE_DEDUCTION_FROM_EARNINGS: ("deduction_from_earnings", True),
    pb.INTEREST_TYPE_CHILD_BENEFIT_END_DATE: ("child_benefit_end_date", False),
    pb.INTEREST_TYPE_UNEARNED_INCOME: ("unearned_income", True),
}
RTI_WINDOW_DAYS = 91  # the latest 13 weeks of RTI payments
DEFAULT_RTI_THRESHOLD_BP = 2500  # reg 23: 25%
DUE_DAYS_BEFORE_ANNIVERSARY = 30  # reg 35(2)


def person_to_match(p: Person) -> PersonToMatch:
    return PersonToMatch(p.nino, p.forenames, p.surname, p.date_of_birth)


# -- registering ---------------------------------------------------------------------------------------------------


def register(
    db: Session,
    *,
    request: api.RegisterInterestRequest,
    asked: PersonToMatch,
    hmrc: SimulatedHmrc,
    clock: Clock,
) -> api.RegisterInterestResponse:
    member, required = _PARAMETERS.get(request.interest_type, (None, False))
    if member is None:
        raise InvalidArgument.field("interest_type", "choose an interest type")
    which = request.WhichOneof("parameters")
    if which not in (None, member):
        raise InvalidArgument.field(
            which, f"does not go with {pb.InterestType.Name(request.interest_type)}; send {member}"
        )
    if which is None and required:
        raise InvalidArgument.field(
            member, f"is required for {pb.InterestType.Name(request.interest_type)}"
        )
    today = clock.today()
    match = hmrc.match(asked, today)
    response = api.RegisterInterestResponse(match=answers.match_to_proto(match))
    if not match.matched:
        return response
    nino = normalise_nino(asked.nino)
    existing = db.scalar(
        select(InterestRecord).where(
            InterestRecord.nino == nino,
            InterestRecord.case_id == request.case_id,
            InterestRecord.active.is_(True),
            InterestRecord.interest_type == pb.InterestType.Name(request.interest_type),
        )
    )
    if existing is not None:
        raise AlreadyExists(
            "interest",
            f"interests/{existing.id}",
            f"case {request.case_id} already has this interest in the person",
        )
    interest = pb.Interest(
        interest_id=str(uuid.uuid4()),
        interest_type=request.interest_type,
        case_id=request.case_id,
        nino=nino,
        state=pb.INTEREST_STATE_ACTIVE,
    )
    if which:
        getattr(interest, member).CopyFrom(getattr(request, member))
    interest.create_time.FromDatetime(clock.now())
    record = InterestRecord(
        id=interest.interest_id,
        interest_type=pb.InterestType.Name(interest.interest_type),
        case_id=interest.case_id,
        nino=nino,
        active=True,
        interest=interest.SerializeToString(),
        feed_state="{}",
        created_at=clock.now(),
    )
    db.add(record)
    person = hmrc.person(nino)
    # Baselines, so the feed reports changes from now on (and the DEO/DER details at once).
    check(
        db,
        record=record,
        interest=interest,
        person=person,
        hmrc=hmrc,
        clock=clock,
        on=today,
        registering=True,
    )
    response.interest.CopyFrom(interest)
    return response


def remove(db: Session, *, interest_id: str, clock: Clock) -> pb.Interest:
    record = db.get(InterestRecord, interest_id)
    if record is None:
        raise NotFound("interest", f"interests/{interest_id}")
    interest = pb.Interest.FromString(record.interest)
    if record.active:
        record.active = False
        interest.state = pb.INTEREST_STATE_REMOVED
        interest.remove_time.FromDatetime(clock.now())
        record.interest = interest.SerializeToString()
    return interest


def list_interests(db: Session, *, request: api.ListInterestsRequest) -> api.ListInterestsResponse:
    size, offset = page(request.page_size, request.page_token, default=100, maximum=1000)
    q = select(InterestRecord).order_by(InterestRecord.created_at, InterestRecord.id)
    if request.case_id:
        q = q.where(InterestRecord.case_id == request.case_id)
    if request.nino:
        q = q.where(InterestRecord.nino == normalise_nino(request.nino))
    if request.interest_type:
        q = q.where(InterestRecord.interest_type == pb.InterestType.Name(request.interest_type))
    if not request.show_removed:
        q = q.where(InterestRecord.active.is_(True))
    rows = db.scalars(q.offset(offset).limit(size + 1)).all()
    return api.ListInterestsResponse(
        interests=[pb.Interest.FromString(r.interest) for r in rows[:size]],
        next_page_token=str(offset + size) if len(rows) > size else "",
    )


# -- checking an interest against its person -------------------------------------------------------------------------


def check_person(
    db: Session, *, nino: str, hmrc: SimulatedHmrc, clock: Clock, on: dt.date
) -> list[scenario.QueuedEvent]:
    """Every active interest in one person (after a life event)."""
    person = hmrc.person(nino)
    queued: list[scenario.QueuedEvent] = []
    for record in db.scalars(
        select(InterestRecord).where(InterestRecord.nino == nino, InterestRecord.active.is_(True))
    ):
        queued += check(
            db,
            record=record,
            interest=pb.Interest.FromString(record.interest),
            person=person,
            hmrc=hmrc,
            clock=clock,
            on=on,
        )
    return queued


def check(
    db: Session,
    *,
    record: InterestRecord,
    interest: pb.Interest,
    person: Person | None,
    hmrc: SimulatedHmrc,
    clock: Clock,
    on: dt.date,
    registering: bool = False,
) -> list[scenario.QueuedEvent]:
    if person is None or (person.date_of_death is not None and person.date_of_death <= on):
        return []  # nothing more comes from HMRC for a deceased person
    state = json.loads(record.feed_state or "{}")
    events: list[Message] = []
    kind = interest.interest_type
    if kind == pb.INTEREST_TYPE_ANNUAL_INCOME_UPDATE:
        events += _annual_income(interest, person, state, hmrc, on, registering)
    elif kind == pb.INTEREST_TYPE_UNEARNED_INCOME:
        events += _unearned_income(interest, person, state, hmrc, on, registering)
    elif kind == pb.INTEREST_TYPE_RTI_CURRENT_INCOME:
        events += _rti(interest, person, state, hmrc, on, registering)
    elif kind == pb.INTEREST_TYPE_DEDUCTION_FROM_EARNINGS:
        events += _deduction_from_earnings(interest, person, state, hmrc, on, registering)
    elif kind == pb.INTEREST_TYPE_CHILD_BENEFIT_END_DATE:
        events += _child_benefit(interest, person, state, hmrc, on, registering)
    record.feed_state = json.dumps(state, sort_keys=True)
    queued = []
    for event in events:
        event_type = row_type(event)
        row = outbox.publish(
            db,
            clock=clock,
            key=interest.interest_id,
            subject=f"interests/{interest.interest_id}",
            message=event,
        )
        queued.append(
            scenario.QueuedEvent(
                event_id=row.event_id, event_type=event_type, interest_id=interest.interest_id
            )
        )
    return queued


def _due_anniversary(review: dt.date, on: dt.date) -> dt.date | None:
    """The latest anniversary of the review date whose update is due (30 days before it) by `on`."""
    due = None
    year = review.year
    while True:
        try:
            anniversary = review.replace(year=year)
        except ValueError:  # 29 February
            anniversary = dt.date(year, 2, 28)
        if anniversary - dt.timedelta(days=DUE_DAYS_BEFORE_ANNIVERSARY) > on:
            return due
        due = anniversary
        year += 1


def _annual_income(
    interest: pb.Interest,
    person: Person,
    state: dict,
    hmrc: SimulatedHmrc,
    on: dt.date,
    registering: bool,
):
    review = convert.date_from_proto(interest.annual_income_update.annual_review_date)
    due = _due_anniversary(review, on) if review else None
    if due is None or state.get("reported_for") == due.isoformat():
        return []
    if (
        registering
    ):  # an anniversary already due when the interest starts is the case's own business
        state["reported_for"] = due.isoformat()
        return []
    answer = hmrc.earned_income(person_to_match(person), on)
    income = answer.data
    event = ev.AnnualIncomeUpdated(
        interest_id=interest.interest_id,
        case_id=interest.case_id,
        nino=interest.nino,
        annual_review_date=convert.date_to_proto(due),
        income_data_held=income is not None,
        previous_tax_year=state.get("tax_year", ""),
        previous_gross_income_pence=state.get("gross", 0),
    )
    if income is not None:
        event.tax_year = income.tax_year
        event.gross_income_pence = income.gross_income_pence
        event.source = answers.income_source_to_proto(income.source)
        event.components.CopyFrom(answers.components_to_proto(income))
    state.update(
        reported_for=due.isoformat(), tax_year=event.tax_year, gross=event.gross_income_pence
    )
    return [event]


def _unearned_income(
    interest: pb.Interest,
    person: Person,
    state: dict,
    hmrc: SimulatedHmrc,
    on: dt.date,
    registering: bool,
):
    review = convert.date_from_proto(interest.unearned_income.annual_review_date)
    due = _due_anniversary(review, on) if review else None
    if due is None or state.get("reported_for") == due.isoformat():
        return []
    if registering:
        state["reported_for"] = due.isoformat()
        return []
    year = hmrc.unearned_income(person_to_match(person), on).data
    state["reported_for"] = due.isoformat()
    return [
        ev.UnearnedIncomeUpdated(
            interest_id=interest.interest_id,
            case_id=interest.case_id,
            nino=interest.nino,
            annual_review_date=convert.date_to_proto(due),
            variation_id=interest.unearned_income.variation_id,
            unearned_income=convert.unearned_to_proto(
                year.tax_year if year else "", year.unearned if year else None
            ),
        )
    ]


def rti_weekly(hmrc: SimulatedHmrc, person: Person, on: dt.date):
    start = on - dt.timedelta(days=RTI_WINDOW_DAYS - 1)
    return hmrc.rti_income(person_to_match(person), start, on).data


def _rti(
    interest: pb.Interest,
    person: Person,
    state: dict,
    hmrc: SimulatedHmrc,
    on: dt.date,
    registering: bool,
):
    rti = rti_weekly(hmrc, person, on)
    if rti is None:
        return []
    current = rti.average_weekly_taxable_pay_pence
    params = interest.rti_current_income
    baseline = params.baseline_weekly_income_pence
    previous = baseline or state.get("previous", current if registering else 0)
    if registering and not baseline:
        state["previous"] = current
        return []
    threshold = params.change_threshold_basis_points or DEFAULT_RTI_THRESHOLD_BP
    # Basis points; from nil, any pay counts as +100%.
    change = (
        (current - previous) * 10_000 // previous if previous else (10_000 if current > 0 else 0)
    )
    moved = abs(change) >= threshold if baseline else current != previous
    if not moved or state.get("reported") == current:
        return []
    state.update(reported=current, previous=current if not baseline else state.get("previous", 0))
    latest = max((p.payment_date for _, payments in rti.employments for p in payments), default=on)
    return [
        ev.RtiCurrentIncomeChanged(
            interest_id=interest.interest_id,
            case_id=interest.case_id,
            nino=interest.nino,
            current_weekly_income_pence=current,
            previous_weekly_income_pence=previous,
            change_basis_points=change,
            latest_payment_date=convert.date_to_proto(latest),
            employments=[
                answers.rti_employment_to_proto(view, payments)
                for view, payments in rti.employments
            ],
        )
    ]


def _snapshot(view) -> dict:
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


def _deduction_from_earnings(
    interest: pb.Interest,
    person: Person,
    state: dict,
    hmrc: SimulatedHmrc,
    on: dt.date,
    registering: bool,
):
    views = {v.employment.employment_id: v for v in hmrc.employment_views(person, on)}
    snapshot = {eid: _snapshot(v) for eid, v in views.items()}
    before = state.get("employments", {})
    state["employments"] = snapshot
    deduction = interest.deduction_from_earnings.deduction_type
    if registering:
        live = [
            answers.employment_view_to_proto(v)
            for v in views.values()
            if v.live and not v.potentially_ceased
        ]
        return [
            ev.DeductionFromEarningsEmployerDetailsProvided(
                interest_id=interest.interest_id,
                case_id=interest.case_id,
                nino=interest.nino,
                deduction_type=deduction,
                employments=live,
            )
        ]
    if deduction != pb.DEDUCTION_FROM_EARNINGS_TYPE_ORDER:
        return []  # employment-change alerts are for a DEO only
    live = [
        answers.employment_view_to_proto(v)
        for v in views.values()
        if v.live and not v.potentially_ceased
    ]
    out = []
    for eid, now in snapshot.items():
        view = views[eid]
        was = before.get(eid)
        kind, when = None, on
        if was is None and now["live"]:
            kind, when = ev.EMPLOYMENT_CHANGE_KIND_EMPLOYMENT_STARTED, view.employment.start_date
        elif was is None:
            continue
        elif was["live"] and not now["live"]:
            kind, when = ev.EMPLOYMENT_CHANGE_KIND_EMPLOYMENT_ENDED, view.employment.end_date or on
        elif now["ceased"] and not was["ceased"]:
            kind = ev.EMPLOYMENT_CHANGE_KIND_POTENTIALLY_CEASED
        elif now["employer"] != was["employer"]:
            kind = ev.EMPLOYMENT_CHANGE_KIND_EMPLOYER_DETAILS_CHANGED
        elif now["payroll"] != was["payroll"]:
            kind = ev.EMPLOYMENT_CHANGE_KIND_PAYROLL_DETAILS_CHANGED
        if kind:
            out.append(
                ev.DeoEmploymentChanged(
                    interest_id=interest.interest_id,
                    case_id=interest.case_id,
                    nino=interest.nino,
                    change_kind=kind,
                    change_date=convert.date_to_proto(when),
                    employment=answers.employment_view_to_proto(view),
                    live_employments=live,
                )
            )
    return out


def _child_benefit(
    interest: pb.Interest,
    person: Person,
    state: dict,
    hmrc: SimulatedHmrc,
    on: dt.date,
    registering: bool,
):
    award = person.child_benefit
    if award is None:
        return []
    watched = [answers.child_to_find(c) for c in interest.child_benefit_end_date.children] or [
        ChildToFind(c.forenames, c.surname, c.date_of_birth, c.child_reference_number)
        for c in award.children
    ]
    known = state.setdefault("end_dates", {})
    out = []
    for asked in watched:
        status = hmrc.child_benefit_status(person, asked, on)
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
        notified = ev.ChildBenefitEndDateNotified(
            interest_id=interest.interest_id,
            case_id=interest.case_id,
            claimant_nino=interest.nino,
            child_status=answers.child_status_to_proto(status),
        )
        if previous:
            notified.previous_end_date.CopyFrom(
                convert.date_to_proto(dt.date.fromisoformat(previous))
            )
        out.append(notified)
    return out


def due_interests(db: Session, *, after_id: str = "", limit: int = 500) -> list[InterestRecord]:
    """Active interests in id order, a page at a time (the scheduler walks them all)."""
    return list(
        db.scalars(
            select(InterestRecord)
            .where(InterestRecord.active.is_(True), InterestRecord.id > after_id)
            .order_by(InterestRecord.id)
            .limit(limit)
        )
    )
