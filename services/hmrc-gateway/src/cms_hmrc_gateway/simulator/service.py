"""Scripting lives: upsert a person, apply a life event. A changed person is stored as an override that takes
precedence over the generated one; the interests in them are checked in the same transaction, so the feeds
report what HMRC would now report, exactly once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections import OrderedDict

from sqlalchemy.orm import Session, sessionmaker

from cms.hmrc.v1 import hmrc_scenario_service_pb2 as api
from cms_platform.clock import Clock
from cms_platform.errors import FailedPrecondition, InvalidArgument, NotFound, PreconditionViolation
from cms_simulation.population import normalise_nino
from cms_simulation.population.model import ChildBenefitEndReason, Employment, Person
from cms_simulation.population.nino import valid_nino

from .. import convert as answers
from .. import interests
from ..models import SimulatedPersonRecord
from . import convert
from .adapter import SimulatedHmrc, find_child


class Overrides:
    """Scenario people by NINO from the database, remembered for `ttl_seconds` (most lookups are of generated
    people with no override, and a monthly run asks 150,000 times). A change made through this process is
    forgotten at once; another replica sees it within the TTL."""

    def __init__(
        self, sessions: sessionmaker, *, ttl_seconds: float = 1.0, max_entries: int = 100_000
    ):
        self._sessions = sessions
        self._ttl = ttl_seconds
        self._max = max_entries
        self._cache: OrderedDict[str, tuple[float, Person | None]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, nino: str) -> Person | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(nino)
            if hit is not None and hit[0] > now:
                return hit[1]
        with self._sessions() as s:
            person = load(s, nino)
        with self._lock:
            self._cache[nino] = (now + self._ttl, person)
            self._cache.move_to_end(nino)
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return person

    def forget(self, nino: str) -> None:
        with self._lock:
            self._cache.pop(normalise_nino(nino), None)


def load(db: Session, nino: str) -> Person | None:
    row = db.get(SimulatedPersonRecord, nino)
    if row is None:
        return None
    person = convert.person_from_proto(api.SimulatedPerson.FromString(row.person))
    # HMRC's view only: the DWP facts (benefit awards) of an overridden person are not kept by this gateway.
    return dataclasses.replace(person, other_parent_nino=row.other_parent_nino, generated=False)


def store(db: Session, person: Person, clock: Clock) -> None:
    person = dataclasses.replace(person, generated=False)
    data = convert.person_to_proto(person).SerializeToString()
    row = db.get(SimulatedPersonRecord, person.nino)
    if row is None:
        db.add(
            SimulatedPersonRecord(
                nino=person.nino,
                person=data,
                other_parent_nino=person.other_parent_nino,
                updated_at=clock.now(),
            )
        )
    else:
        row.person, row.other_parent_nino, row.updated_at = (
            data,
            person.other_parent_nino,
            clock.now(),
        )


def _nino(nino: str, field: str = "nino") -> str:
    if not valid_nino(nino):
        raise InvalidArgument.field(field, "is not a valid National Insurance number")
    return normalise_nino(nino)


def get_person(db: Session, *, hmrc: SimulatedHmrc, nino: str) -> api.SimulatedPerson:
    person = hmrc.person(_nino(nino))
    if person is None:
        raise NotFound("person", f"people/{normalise_nino(nino)}")
    return convert.person_to_proto(person)


def upsert_person(
    db: Session, *, request: api.UpsertPersonRequest, hmrc: SimulatedHmrc, clock: Clock
) -> api.SimulatedPerson:
    _nino(request.person.identity.nino, "person.identity.nino")
    try:
        person = convert.person_from_proto(
            request.person, keep_from=hmrc.person(request.person.identity.nino)
        )
    except InvalidArgument as exc:  # paths are relative to the SimulatedPerson
        raise InvalidArgument(
            [dataclasses.replace(v, field=f"person.{v.field}") for v in exc.violations]
        ) from None
    previous = hmrc.person(person.nino)
    if previous is not None and not person.other_parent_nino:
        person = dataclasses.replace(person, other_parent_nino=previous.other_parent_nino)
    store(db, person, clock)
    interests.check_person(
        db, nino=person.nino, hmrc=hmrc.seeing(person), clock=clock, on=clock.today()
    )
    return convert.person_to_proto(dataclasses.replace(person, generated=False))


def apply_life_event(
    db: Session, *, request: api.ApplyLifeEventRequest, hmrc: SimulatedHmrc, clock: Clock
) -> api.ApplyLifeEventResponse:
    nino = _nino(request.nino)
    which = request.WhichOneof("event")
    if which is None:
        raise InvalidArgument.field("event", "set exactly one life event")
    try:
        on = convert.date_from_proto(request.effective_date)
    except ValueError:
        on = None
    if on is None:
        raise InvalidArgument.field("effective_date", "must be a full calendar date")
    person = hmrc.person(nino)
    if person is None:
        raise NotFound("person", f"people/{nino}")
    if person.date_of_death is not None:
        raise FailedPrecondition(
            PreconditionViolation("PERSON_DECEASED", "nino", "the person has died"),
            reason="PERSON_DECEASED",
        )
    changed = _apply(person, which, getattr(request, which), on)
    store(db, changed, clock)
    queued = interests.check_person(
        db, nino=nino, hmrc=hmrc.seeing(changed), clock=clock, on=max(on, clock.today())
    )
    return api.ApplyLifeEventResponse(
        person=convert.person_to_proto(dataclasses.replace(changed, generated=False)),
        queued_events=queued,
    )


def _employment(person: Person, which: str, employment_id: str) -> tuple[int, Employment]:
    for i, e in enumerate(person.employments):
        if e.employment_id == employment_id:
            return i, e
    raise InvalidArgument.field(
        f"{which}.employment_id", f"{employment_id!r} is not one of this person's employments"
    )


def _apply(person: Person, which: str, event, on: dt.date) -> Person:
    jobs = list(person.employments)
    if which == "new_job":
        employer = convert.employer_from_proto(event.employer)
        if not employer.paye_reference:
            raise InvalidArgument.field("new_job.employer.paye_reference", "is required")
        jobs.append(
            Employment(
                employment_id=f"{person.nino}-{len(jobs) + 1}",
                employer=employer,
                payroll_id=event.payroll_id or f"P{len(jobs) + 1:05d}",
                start_date=on,
                end_date=None,
                pay_frequency=_enum(
                    convert.pay_frequency_from_proto, event.pay_frequency, "new_job.pay_frequency"
                ),
                annual_taxable_pay_pence=event.annual_taxable_pay_pence,
            )
        )
        return dataclasses.replace(person, employments=tuple(jobs))
    if which == "pay_change":
        if event.new_annual_taxable_pay_pence < 0:
            raise InvalidArgument.field(
                "pay_change.new_annual_taxable_pay_pence", "must not be negative"
            )
        i, e = _employment(person, which, event.employment_id)
        jobs[i] = dataclasses.replace(
            e, pay_changes=(*e.pay_changes, (on, event.new_annual_taxable_pay_pence))
        )
        return dataclasses.replace(person, employments=tuple(jobs))
    if which == "job_loss":
        i, e = _employment(person, which, event.employment_id)
        jobs[i] = dataclasses.replace(
            e, end_date=on, leaving_date_unreported=event.leaving_date_unreported
        )
        return dataclasses.replace(person, employments=tuple(jobs))
    if which == "child_leaves_education":
        award = person.child_benefit
        asked = answers.child_to_find(event.child)
        found = find_child(award.children, asked) if award is not None else None
        if award is None or found is None:
            raise InvalidArgument.field(
                "child_leaves_education.child", "is not a child on this person's award"
            )
        reason = (
            _enum(
                convert.end_reason_from_proto, event.end_reason, "child_leaves_education.end_reason"
            )
            if event.end_reason
            else ChildBenefitEndReason.LEFT_APPROVED_EDUCATION
        )
        # The education was reported (that is why Child Benefit ran past 16); it now ends at the terminal date.
        children = tuple(
            dataclasses.replace(
                c, end_date=_terminal_date(on), end_reason=reason, end_date_reported_on=on
            )
            if c is found
            else c
            for c in award.children
        )
        return dataclasses.replace(
            person, child_benefit=dataclasses.replace(award, children=children)
        )
    return dataclasses.replace(person, date_of_death=on)  # death


def _enum(convert_fn, value: int, path: str):
    try:
        return convert_fn(value)
    except ValueError:
        raise InvalidArgument.field(path, f"{value} is not a value this service knows") from None


def _terminal_date(left: dt.date) -> dt.date:
    """Child Benefit after leaving approved education runs to the next quarter-end terminal date (end of February,
    May, August or November)."""
    for month in (2, 5, 8, 11):
        end = dt.date(left.year, month + 1, 1) - dt.timedelta(days=1)
        if end >= left:
            return end
    return dt.date(left.year + 1, 3, 1) - dt.timedelta(days=1)
