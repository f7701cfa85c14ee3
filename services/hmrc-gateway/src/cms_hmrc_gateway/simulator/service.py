"""Scripting lives: upsert a person, apply a life event. A changed person is stored as an override that takes
precedence over the generated one; the interests in them are checked in the same transaction (interests.flows,
through a simulator that already sees the change), so the feeds report what HMRC would now report, exactly once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cms.hmrc.v1 import hmrc_scenario_service_pb2 as scenario
from cms_platform.clock import Clock
from cms_platform.convert import strict_date
from cms_platform.errors import FailedPrecondition, InvalidArgument, NotFound, PreconditionViolation
from cms_platform.identifiers import normalise_nino, valid_nino
from cms_platform.models import OutboxEvent
from cms_simulation.population.model import ChildBenefitEndReason, Person

from .. import convert as gateway_convert
from ..interests import flows as interests
from . import convert, rules
from .adapter import SimulatedHmrc
from .models import SimulatedPersonRecord

T = TypeVar("T")


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

    def many(self, ninos: Collection[str]) -> dict[str, Person | None]:
        """Each NINO's override or None, those not remembered read in one query (a message of the monthly check
        asks about hundreds of people, nearly all without one)."""
        now = time.monotonic()
        found: dict[str, Person | None] = {}
        with self._lock:
            for nino in ninos:
                hit = self._cache.get(nino)
                if hit is not None and hit[0] > now:
                    found[nino] = hit[1]
        missing = [n for n in ninos if n not in found]
        if missing:
            with self._sessions() as s:
                rows = {
                    row.nino: row
                    for row in s.scalars(
                        select(SimulatedPersonRecord).where(SimulatedPersonRecord.nino.in_(missing))
                    )
                }
                loaded = {n: _person(rows[n]) if n in rows else None for n in missing}
            with self._lock:
                for nino, person in loaded.items():
                    self._cache[nino] = (now + self._ttl, person)
                    self._cache.move_to_end(nino)
                while len(self._cache) > self._max:
                    self._cache.popitem(last=False)
            found.update(loaded)
        return found

    def forget(self, nino: str) -> None:
        with self._lock:
            self._cache.pop(normalise_nino(nino), None)


def load(db: Session, nino: str) -> Person | None:
    row = db.get(SimulatedPersonRecord, nino)
    return None if row is None else _person(row)


def _person(row: SimulatedPersonRecord) -> Person:
    person = convert.person_from_proto(scenario.SimulatedPerson.FromString(row.person))
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


def get_person(*, hmrc: SimulatedHmrc, nino: str) -> Person:
    person = hmrc.person(_nino(nino))
    if person is None:
        raise NotFound("person", "people/unknown", "HMRC holds no record for this NINO")
    return person


def upsert_person(
    db: Session, *, person: scenario.SimulatedPerson, hmrc: SimulatedHmrc, clock: Clock
) -> Person:
    """The whole record of one person, replacing what was held (what the message cannot carry is kept from it);
    every bad field named by its path in the request."""
    _nino(person.identity.nino, "person.identity.nino")
    try:
        upserted = convert.person_from_proto(person, keep_from=hmrc.person(person.identity.nino))
    except InvalidArgument as exc:  # paths are relative to the SimulatedPerson
        raise InvalidArgument(
            [dataclasses.replace(v, field=f"person.{v.field}") for v in exc.violations]
        ) from None
    previous = hmrc.person(upserted.nino)
    if previous is not None and not upserted.other_parent_nino:
        upserted = dataclasses.replace(upserted, other_parent_nino=previous.other_parent_nino)
    store(db, upserted, clock)
    interests.check_person(
        db, nino=upserted.nino, feeds=hmrc.seeing(upserted), clock=clock, on=clock.today()
    )
    return dataclasses.replace(upserted, generated=False)


def apply_life_event(
    db: Session, *, request: scenario.ApplyLifeEventRequest, hmrc: SimulatedHmrc, clock: Clock
) -> tuple[Person, list[OutboxEvent]]:
    """The person after the event and the feed events it queued for cases interested in them."""
    nino = _nino(request.nino)
    which = request.WhichOneof("event")
    if which is None:
        raise InvalidArgument.field("event", "set exactly one life event")
    try:
        on = strict_date(request.effective_date)
    except ValueError:
        on = None
    if on is None:
        raise InvalidArgument.field("effective_date", "must be a full calendar date")
    person = hmrc.person(nino)
    if person is None:
        raise NotFound("person", "people/unknown", "HMRC holds no record for this NINO")
    if person.date_of_death is not None:
        raise FailedPrecondition(
            PreconditionViolation("PERSON_DECEASED", "nino", "the person has died"),
            reason="PERSON_DECEASED",
        )
    changed = _changed(person, request, which, on)
    store(db, changed, clock)
    queued = interests.check_person(
        db, nino=nino, feeds=hmrc.seeing(changed), clock=clock, on=max(on, clock.today())
    )
    return dataclasses.replace(changed, generated=False), queued


def _changed(
    person: Person, request: scenario.ApplyLifeEventRequest, which: str, on: dt.date
) -> Person:
    if which == "new_job":
        job = request.new_job
        employer = convert.employer_from_proto(job.employer)
        if not employer.paye_reference:
            raise InvalidArgument.field("new_job.employer.paye_reference", "is required")
        return rules.with_new_job(
            person,
            employer=employer,
            payroll_id=job.payroll_id,
            pay_frequency=_known(
                convert.pay_frequency_from_proto, job.pay_frequency, "new_job.pay_frequency"
            ),
            annual_taxable_pay_pence=job.annual_taxable_pay_pence,
            on=on,
        )
    if which == "pay_change":
        change = request.pay_change
        if change.new_annual_taxable_pay_pence < 0:
            raise InvalidArgument.field(
                "pay_change.new_annual_taxable_pay_pence", "must not be negative"
            )
        index = _employment(person, which, change.employment_id)
        return rules.with_pay_change(
            person, index, annual_pence=change.new_annual_taxable_pay_pence, on=on
        )
    if which == "job_loss":
        loss = request.job_loss
        index = _employment(person, which, loss.employment_id)
        return rules.with_job_loss(
            person, index, on=on, leaving_date_unreported=loss.leaving_date_unreported
        )
    if which == "child_leaves_education":
        leaving = request.child_leaves_education
        award = person.child_benefit
        asked = gateway_convert.child_to_find(leaving.child)
        found = rules.find_child(award.children, asked) if award is not None else None
        if found is None:
            raise InvalidArgument.field(
                "child_leaves_education.child", "is not a child on this person's award"
            )
        reason = (
            _known(
                convert.end_reason_from_proto,
                leaving.end_reason,
                "child_leaves_education.end_reason",
            )
            if leaving.end_reason
            else None
        )
        return rules.with_child_leaving_education(
            person, found, reason=reason or ChildBenefitEndReason.LEFT_APPROVED_EDUCATION, on=on
        )
    return rules.with_death(person, on)


def _employment(person: Person, which: str, employment_id: str) -> int:
    index = rules.find_employment(person, employment_id)
    if index is None:
        raise InvalidArgument.field(
            f"{which}.employment_id", "is not one of this person's employments"
        )
    return index


def _known(convert_value: Callable[[int], T], value: int, path: str) -> T:
    """A contract enum value this service knows, else INVALID_ARGUMENT naming the field."""
    try:
        return convert_value(value)
    except ValueError:
        raise InvalidArgument.field(path, f"{value} is not a value this service knows") from None
