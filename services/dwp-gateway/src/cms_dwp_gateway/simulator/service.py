"""Scripting the simulated systems (tests and demos): upsert people and start, change, suspend, resume and end
benefit awards on CIS, each stored over the generated record and broadcast to interested cases in the same
transaction, as a change inside CIS would be; and run Jobcentre Plus's decisions, one deduction at a time or as its
batch window would (held while an outage of the whole system runs)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy.orm import Session

from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_scenario_service_pb2 as api
from cms.dwp.v1 import events_pb2 as ev
from cms.dwp.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.convert import address_to_proto, day_of, pb_date, person_name
from cms_platform.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PreconditionViolation,
    ViolationCollector,
)
from cms_platform.identifiers import normalise_nino, valid_nino
from cms_simulation.controls import seconds_of
from cms_simulation.population import ids

from .. import convert as records
from ..deductions import convert as deductions_convert
from ..deductions import service as deductions
from ..interests import flows as broadcasts
from ..port import (
    AwardChange,
    BenefitAward,
    JcpDecision,
    PaymentSuspension,
    PersonRecord,
    Rejection,
)
from . import convert, overlay
from .adapter import MATCH_RULES, SimulatedCis, SimulatedJcp, person_id


def _refuse(reason: str, award: BenefitAward, description: str) -> FailedPrecondition:
    return FailedPrecondition(
        PreconditionViolation(reason, f"awards/{award.award_id}", description), reason=reason
    )


def find_award(db: Session, cis: SimulatedCis, award_id: str) -> BenefitAward:
    """A stored award, or a generated one of the person its id was made for (population.ids)."""
    stored = overlay.stored_award(db, award_id)
    if stored is not None:
        return stored
    nino = ids.nino_of(award_id)
    person = cis.person(nino) if nino and valid_nino(nino) else None
    found = (
        next((a for a in person.benefit_awards if a.award_id == award_id), None) if person else None
    )
    if found is None:
        raise NotFound("benefit award", f"awards/{award_id}")
    return found


def _save(
    db: Session,
    award: BenefitAward,
    change: AwardChange,
    effective: dt.date,
    clock: Clock,
    previous: BenefitAward | None = None,
) -> pb.BenefitAward:
    award = dataclasses.replace(award, cis_updated_on=clock.today())
    overlay.store_award(db, award, clock, new=change is AwardChange.AWARD_STARTED)
    broadcasts.broadcast_award_change(
        db, award=award, change=change, effective=effective, clock=clock, previous=previous
    )
    return records.award(award, award.claimant_nino, max(effective, clock.today()))


def _live(award: BenefitAward, on: dt.date) -> None:
    if not award.live_on(on):
        raise _refuse("AWARD_NOT_LIVE", award, "the award is not live on that date")


def start(
    db: Session, *, request: api.StartBenefitAwardRequest, cis: SimulatedCis, clock: Clock
) -> pb.BenefitAward:
    nino = normalise_nino(request.nino)
    if not valid_nino(nino) or cis.person(nino) is None:
        raise InvalidArgument.field("nino", "is not a person CIS holds")
    if request.partner_nino and (
        not valid_nino(request.partner_nino) or cis.person(request.partner_nino) is None
    ):
        raise InvalidArgument.field("partner_nino", "is not a person CIS holds")
    benefit = records.benefit_type_of(request.benefit_type)
    if benefit is None:
        raise InvalidArgument.field("benefit_type", "choose a benefit type")
    frequency = convert.frequency_of(request.amount.frequency)
    if frequency is None:
        raise InvalidArgument.field(
            "amount.frequency", "choose weekly, fortnightly, four-weekly or monthly"
        )
    if request.amount.amount_pence < 0:
        raise InvalidArgument.field("amount.amount_pence", "must not be negative")
    begin = convert.day(request.start_date, "start_date")
    end = convert.optional_day(request.end_date, "end_date")
    if end and end < begin:
        raise InvalidArgument.field("end_date", "is before the start date")
    held = cis.person(nino)
    assert held is not None  # checked above
    uc = request.universal_credit
    award = BenefitAward(
        award_id=ids.award_id(nino, "S", len(held.benefit_awards) + 1),
        benefit_type=benefit,
        claimant_nino=nino,
        start_date=begin,
        decision_date=convert.optional_day(request.decision_date, "decision_date") or begin,
        amount_pence=request.amount.amount_pence,
        payment_frequency=frequency,
        partner_nino=normalise_nino(request.partner_nino) if request.partner_nino else "",
        end_date=end,
        components=convert.components(request.components),
        uc_earned_income=uc.earned_income_in_assessment_period,
        uc_standard_allowance_monthly_pence=uc.standard_allowance_monthly_pence,
        uc_third_party_deduction_count=uc.third_party_deduction_count,
        uc_other_deductions_monthly_pence=uc.other_deductions_monthly_pence,
    )
    return _save(db, award, AwardChange.AWARD_STARTED, begin, clock)


def change(
    db: Session, *, request: api.ChangeBenefitAwardRequest, cis: SimulatedCis, clock: Clock
) -> pb.BenefitAward:
    award = find_award(db, cis, request.award_id)
    on = convert.day(request.effective_date, "effective_date")
    _live(award, on)
    changed = award
    if request.HasField("amount"):
        frequency = convert.frequency_of(request.amount.frequency)
        if frequency is None or request.amount.amount_pence < 0:
            raise InvalidArgument.field("amount", "needs a frequency and a non-negative amount")
        changed = dataclasses.replace(
            changed, amount_pence=request.amount.amount_pence, payment_frequency=frequency
        )
    if request.components:
        changed = dataclasses.replace(changed, components=convert.components(request.components))
    if request.HasField("universal_credit"):
        uc = request.universal_credit
        changed = dataclasses.replace(
            changed,
            uc_earned_income=uc.earned_income_in_assessment_period,
            uc_third_party_deduction_count=uc.third_party_deduction_count,
            uc_other_deductions_monthly_pence=uc.other_deductions_monthly_pence,
        )
    changed = dataclasses.replace(changed, decision_date=on)
    return _save(db, changed, AwardChange.AMOUNT_CHANGED, on, clock, previous=award)


def suspend(
    db: Session, *, request: api.SuspendBenefitAwardRequest, cis: SimulatedCis, clock: Clock
) -> pb.BenefitAward:
    award = find_award(db, cis, request.award_id)
    on = convert.day(request.start_date, "start_date")
    _live(award, on)
    if award.suspended_on(on):
        raise _refuse("ALREADY_SUSPENDED", award, "payment is already suspended")
    changed = dataclasses.replace(
        award, suspensions=(*award.suspensions, PaymentSuspension(on, None, request.reason))
    )
    return _save(db, changed, AwardChange.SUSPENDED, on, clock)


def resume(
    db: Session, *, request: api.ResumeBenefitAwardRequest, cis: SimulatedCis, clock: Clock
) -> pb.BenefitAward:
    award = find_award(db, cis, request.award_id)
    on = convert.day(request.resume_date, "resume_date")
    if not any(s.end_date is None for s in award.suspensions):
        raise _refuse("NOT_SUSPENDED", award, "payment is not suspended")
    suspensions = tuple(
        dataclasses.replace(s, end_date=on - dt.timedelta(days=1)) if s.end_date is None else s
        for s in award.suspensions
    )
    return _save(
        db, dataclasses.replace(award, suspensions=suspensions), AwardChange.RESUMED, on, clock
    )


def end(
    db: Session, *, request: api.EndBenefitAwardRequest, cis: SimulatedCis, clock: Clock
) -> pb.BenefitAward:
    """The award ends on its last day of entitlement; DWP stops the deductions taken from it."""
    award = find_award(db, cis, request.award_id)
    last = convert.day(request.end_date, "end_date")
    reason = records.end_reason_of(request.end_reason)
    if reason is None:
        raise InvalidArgument.field("end_reason", "choose why the award ended")
    if last < award.start_date:
        raise InvalidArgument.field("end_date", "is before the award started")
    if award.end_date is not None and award.end_date < last:
        raise _refuse("AWARD_ENDED", award, "the award has already ended")
    changed = dataclasses.replace(award, end_date=last, end_reason=reason)
    saved = _save(db, changed, AwardChange.AWARD_ENDED, last, clock)
    deductions.end_for_award(db, award=changed, clock=clock)
    return saved


# -- Jobcentre Plus's decisions ------------------------------------------------------------------------------------


def decide_pending(
    db: Session,
    *,
    deduction_id: str,
    jcp: SimulatedJcp,
    clock: Clock,
    forced_outcome: bool | None = None,
    forced_rejection: Rejection | None = None,
) -> pb.Deduction:
    """JCP's decision on the deduction's pending automated or interface instruction, by its decision maker's
    checks unless a scenario forces the outcome (and, for a rejection, the reason)."""
    instruction = deductions.jcp_instruction(db, deduction_id=deduction_id)
    today = clock.today()
    decision = jcp.decide(instruction, on=today)
    accepted = decision.accepted if forced_outcome is None else forced_outcome
    if accepted:
        decision = dataclasses.replace(
            decision, accepted=True, start_date=max(today, instruction.start_date)
        )
    else:
        decision = JcpDecision(
            accepted=False,
            decided_on=decision.decided_on,
            decided_by=decision.decided_by,
            rejection=forced_rejection or decision.rejection,
            detail=decision.detail,
        )
    return deductions.record_jcp_decision(
        db, deduction_id=deduction_id, decision=decision, clock=clock
    )


def run_due(db: Session, *, jcp: SimulatedJcp, clock: Clock, ignore_delays: bool) -> list[str]:
    """JCP's batch window: decide every pending automated/interface instruction that is due, unless an outage of the
    whole system holds them until it ends."""
    if jcp.held(clock.now()):
        return []
    decided = deductions.due_for_jcp(db, now=clock.now(), ignore_delays=ignore_delays)
    for deduction_id in decided:
        decide_pending(db, deduction_id=deduction_id, jcp=jcp, clock=clock)
    return decided


# -- people --------------------------------------------------------------------------------------------------------

_RELATIONSHIPS = (pb.RELATIONSHIP_TYPE_PARTNER, pb.RELATIONSHIP_TYPE_CHILD)


def _check_person(
    p: pb.PersonRecord, scenario: api.PersonScenario, today: dt.date, v: ViolationCollector
) -> None:
    records.check_nino(p.nino, "person.nino", v)
    if p.child_reference_number:
        v.add(
            "person.child_reference_number",
            "a child is recorded through a CHILD relationship of the parent who claims for them",
        )
    dob = day_of(p.date_of_birth)
    if dob is not None and dob > today:
        v.add("person.date_of_birth", "is in the future")
    if p.HasField("date_of_death"):
        died = day_of(p.date_of_death)
        if died is not None and dob is not None and died < dob:
            v.add("person.date_of_death", "is before the date of birth")
    if not p.addresses:
        v.add("person.addresses", "CIS holds an address for everyone: give the current one first")
    for i, r in enumerate(p.relationships):
        path = f"person.relationships[{i}]"
        if r.type not in _RELATIONSHIPS:
            v.add(f"{path}.type", "choose PARTNER or CHILD (a child's PARENT link comes from it)")
        elif r.type == pb.RELATIONSHIP_TYPE_PARTNER:
            records.check_nino(r.related_nino, f"{path}.related_nino", v)
            if normalise_nino(r.related_nino) == normalise_nino(p.nino):
                v.add(f"{path}.related_nino", "is the person's own NINO")
        else:
            records.check_nino(
                r.related_child_reference_number, f"{path}.related_child_reference_number", v
            )
            if not (r.related_name.forenames and r.related_name.surname):
                v.add(f"{path}.related_name", "a child's forenames and surname are required")
            if day_of(r.related_date_of_birth) is None:
                v.add(f"{path}.related_date_of_birth", "a child's date of birth is required")
    if sum(r.type == pb.RELATIONSHIP_TYPE_PARTNER for r in p.relationships) > 1:
        v.add("person.relationships", "at most one PARTNER link")
    if seconds_of(scenario.stale_lag) < 0:
        v.add("scenario.stale_lag", "must not be negative")
    for i, rule in enumerate(scenario.failed_match_rules):
        if rule not in MATCH_RULES:
            v.add(f"scenario.failed_match_rules[{i}]", f"choose one of {', '.join(MATCH_RULES)}")
    if scenario.deduction_rejection_reason and (
        deductions_convert.rejection_of(scenario.deduction_rejection_reason) is None
    ):
        v.add("scenario.deduction_rejection_reason", "is not a rejection reason")


def _details_changed(
    before: PersonRecord, after: PersonRecord, today: dt.date
) -> ev.PersonalDetailsChanged | None:
    """What a personal-details broadcast reports between two versions of a record (None: nothing it covers)."""
    change = ev.PersonalDetailsChanged(effective_date=pb_date(today))
    if before.address != after.address:
        change.change_kinds.append(ev.PERSONAL_DETAILS_CHANGE_KIND_ADDRESS)
        change.address.CopyFrom(
            pb.PersonAddress(
                address=address_to_proto(after.address),
                type=pb.ADDRESS_TYPE_RESIDENTIAL,
                period=common.DateRange(start_date=pb_date(today)),
            )
        )
    if (before.title, before.forenames, before.surname) != (
        after.title,
        after.forenames,
        after.surname,
    ):
        change.change_kinds.append(ev.PERSONAL_DETAILS_CHANGE_KIND_NAME)
        change.name.CopyFrom(person_name(after.forenames, after.surname, after.title))
    if after.date_of_death is not None and after.date_of_death != before.date_of_death:
        change.change_kinds.append(ev.PERSONAL_DETAILS_CHANGE_KIND_DEATH)
        change.date_of_death.CopyFrom(pb_date(after.date_of_death))
    known = {c.child_reference_number for c in before.children}
    new_child = next((c for c in after.children if c.child_reference_number not in known), None)
    if after.partner_nino and after.partner_nino != before.partner_nino:
        change.change_kinds.append(ev.PERSONAL_DETAILS_CHANGE_KIND_RELATIONSHIP)
        change.relationship.CopyFrom(
            pb.Relationship(type=pb.RELATIONSHIP_TYPE_PARTNER, related_nino=after.partner_nino)
        )
    elif new_child is not None:
        change.change_kinds.append(ev.PERSONAL_DETAILS_CHANGE_KIND_RELATIONSHIP)
        change.relationship.CopyFrom(
            pb.Relationship(
                type=pb.RELATIONSHIP_TYPE_CHILD,
                related_child_reference_number=new_child.child_reference_number,
                related_name=person_name(new_child.forenames, new_child.surname),
                related_date_of_birth=pb_date(new_child.date_of_birth),
            )
        )
    return change if change.change_kinds else None


def upsert_person(
    db: Session, *, request: api.UpsertPersonRequest, cis: SimulatedCis, clock: Clock
) -> pb.PersonRecord:
    """Creates or replaces the person's CIS record over the population's; what changed for a person CIS already held
    is broadcast to their active interests (PersonalDetailsChanged)."""
    v = ViolationCollector()
    _check_person(request.person, request.scenario, clock.today(), v)
    v.raise_if_any()
    record = pb.PersonRecord()
    record.CopyFrom(request.person)
    for name in ("person_id", "create_time", "update_time"):  # OUTPUT_ONLY: ignored
        record.ClearField(name)
    record.nino = normalise_nino(record.nino)
    for r in record.relationships:
        r.related_nino = normalise_nino(r.related_nino) if r.related_nino else ""
        r.related_child_reference_number = (
            normalise_nino(r.related_child_reference_number)
            if r.related_child_reference_number
            else ""
        )
    before = cis.person(record.nino)
    overlay.store_person(db, record.nino, record, request.scenario, clock)
    after = convert.upserted_person(
        record,
        person_id=person_id,
        address=None,
        awards=before.benefit_awards if before else (),
    )
    if before is not None:
        change = _details_changed(before, after, clock.today())
        if change is not None:
            broadcasts.broadcast_personal_details(db, nino=record.nino, change=change, clock=clock)
    return records.person_record(after)
