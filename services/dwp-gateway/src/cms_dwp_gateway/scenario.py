"""Scripting benefit lives on CIS: start, change, suspend, resume and end awards. Each change is stored over the
generated award and broadcast to interested cases in the same transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy.orm import Session

from cms.dwp.v1 import dwp_scenario_service_pb2 as api
from cms.dwp.v1 import events_pb2 as ev
from cms.dwp.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.convert import date_or_violation
from cms_platform.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PreconditionViolation,
    ViolationCollector,
)
from cms_simulation.population import normalise_nino
from cms_simulation.population.model import (
    AwardComponent,
    AwardEndReason,
    BenefitAward,
    BenefitType,
    PaymentSuspension,
)
from cms_simulation.population.nino import valid_nino

from . import cis, deductions, records
from .models import AwardRecord
from .simulator import SimulatedCis, live_on, suspended_on

_FREQUENCIES = {1: "WEEKLY", 2: "FORTNIGHTLY", 3: "FOUR_WEEKLY", 4: "MONTHLY"}


def _day(d, path: str, *, required: bool = True) -> dt.date | None:
    v = ViolationCollector()
    day = date_or_violation(d, path, v, required=required)
    v.raise_if_any()
    return day


def find_award(db: Session, cis_view: SimulatedCis, award_id: str) -> BenefitAward:
    row = db.get(AwardRecord, award_id)
    if row is not None:
        return cis.award_from_json(row.award)
    nino = award_id.split("-", 1)[0]
    person = cis_view.person(nino) if valid_nino(nino) else None
    found = (
        next((a for a in person.benefit_awards if a.award_id == award_id), None) if person else None
    )
    if found is None:
        raise NotFound("benefit award", f"awards/{award_id}")
    return found


def _save(
    db: Session,
    award: BenefitAward,
    kind: int,
    effective: dt.date,
    clock: Clock,
    previous_amount=None,
) -> pb.BenefitAward:
    award = dataclasses.replace(award, cis_updated_on=clock.today())
    cis.store_award(db, award, clock)
    cis.broadcast(
        db,
        award=award,
        kind=kind,
        effective=effective,
        clock=clock,
        previous_amount=previous_amount,
    )
    return records.award(award, award.claimant_nino, max(effective, clock.today()))


def start(
    db: Session, *, request: api.StartBenefitAwardRequest, cis_view: SimulatedCis, clock: Clock
) -> pb.BenefitAward:
    nino = normalise_nino(request.nino)
    if not valid_nino(nino) or cis_view.person(nino) is None:
        raise InvalidArgument.field("nino", "is not a person CIS holds")
    if request.partner_nino and (
        not valid_nino(request.partner_nino) or cis_view.person(request.partner_nino) is None
    ):
        raise InvalidArgument.field("partner_nino", "is not a person CIS holds")
    name = (
        pb.BenefitType.Name(request.benefit_type).removeprefix("BENEFIT_TYPE_")
        if request.benefit_type in pb.BenefitType.values()
        else ""
    )
    if name not in BenefitType.__members__:
        raise InvalidArgument.field("benefit_type", "choose a benefit type")
    frequency = _FREQUENCIES.get(request.amount.frequency)
    if frequency is None:
        raise InvalidArgument.field(
            "amount.frequency", "choose weekly, fortnightly, four-weekly or monthly"
        )
    if request.amount.amount_pence < 0:
        raise InvalidArgument.field("amount.amount_pence", "must not be negative")
    begin = _day(request.start_date, "start_date")
    end = _day(request.end_date, "end_date", required=False)
    if end and end < begin:
        raise InvalidArgument.field("end_date", "is before the start date")
    held = cis_view.person(nino)
    award = BenefitAward(
        award_id=f"{nino}-S{len(held.benefit_awards) + 1}",
        benefit_type=BenefitType[name],
        claimant_nino=nino,
        start_date=begin,
        decision_date=_day(request.decision_date, "decision_date", required=False) or begin,
        amount_pence=request.amount.amount_pence,
        payment_frequency=frequency,
        partner_nino=normalise_nino(request.partner_nino) if request.partner_nino else "",
        end_date=end,
        components=tuple(
            AwardComponent(c.type, c.sub_type, c.amount_pence, c.payable)
            for c in request.components
        ),
        uc_earned_income=request.universal_credit.earned_income_in_assessment_period,
        uc_standard_allowance_monthly_pence=request.universal_credit.standard_allowance_monthly_pence,
        uc_third_party_deduction_count=request.universal_credit.third_party_deduction_count,
        uc_other_deductions_monthly_pence=request.universal_credit.other_deductions_monthly_pence,
    )
    return _save(db, award, ev.BENEFIT_CHANGE_KIND_AWARD_STARTED, begin, clock)


def _live(award: BenefitAward, on: dt.date) -> None:
    if not live_on(award, on):
        raise FailedPrecondition(
            PreconditionViolation(
                "AWARD_NOT_LIVE", f"awards/{award.award_id}", "the award is not live on that date"
            ),
            reason="AWARD_NOT_LIVE",
        )


def change(
    db: Session, *, request: api.ChangeBenefitAwardRequest, cis_view: SimulatedCis, clock: Clock
) -> pb.BenefitAward:
    award = find_award(db, cis_view, request.award_id)
    on = _day(request.effective_date, "effective_date")
    _live(award, on)
    before = records.award(award, award.claimant_nino, on).amount
    changed = award
    if request.HasField("amount"):
        frequency = _FREQUENCIES.get(request.amount.frequency)
        if frequency is None or request.amount.amount_pence < 0:
            raise InvalidArgument.field("amount", "needs a frequency and a non-negative amount")
        changed = dataclasses.replace(
            changed, amount_pence=request.amount.amount_pence, payment_frequency=frequency
        )
    if request.components:
        changed = dataclasses.replace(
            changed,
            components=tuple(
                AwardComponent(c.type, c.sub_type, c.amount_pence, c.payable)
                for c in request.components
            ),
        )
    if request.HasField("universal_credit"):
        uc = request.universal_credit
        changed = dataclasses.replace(
            changed,
            uc_earned_income=uc.earned_income_in_assessment_period,
            uc_third_party_deduction_count=uc.third_party_deduction_count,
            uc_other_deductions_monthly_pence=uc.other_deductions_monthly_pence,
        )
    changed = dataclasses.replace(changed, decision_date=on)
    return _save(
        db, changed, ev.BENEFIT_CHANGE_KIND_AMOUNT_CHANGED, on, clock, previous_amount=before
    )


def suspend(
    db: Session, *, request: api.SuspendBenefitAwardRequest, cis_view: SimulatedCis, clock: Clock
) -> pb.BenefitAward:
    award = find_award(db, cis_view, request.award_id)
    on = _day(request.start_date, "start_date")
    _live(award, on)
    if suspended_on(award, on):
        raise FailedPrecondition(
            PreconditionViolation(
                "ALREADY_SUSPENDED", f"awards/{award.award_id}", "payment is already suspended"
            ),
            reason="ALREADY_SUSPENDED",
        )
    changed = dataclasses.replace(
        award, suspensions=(*award.suspensions, PaymentSuspension(on, None, request.reason))
    )
    return _save(db, changed, ev.BENEFIT_CHANGE_KIND_SUSPENDED, on, clock)


def resume(
    db: Session, *, request: api.ResumeBenefitAwardRequest, cis_view: SimulatedCis, clock: Clock
) -> pb.BenefitAward:
    award = find_award(db, cis_view, request.award_id)
    on = _day(request.resume_date, "resume_date")
    open_ones = [s for s in award.suspensions if s.end_date is None]
    if not open_ones:
        raise FailedPrecondition(
            PreconditionViolation(
                "NOT_SUSPENDED", f"awards/{award.award_id}", "payment is not suspended"
            ),
            reason="NOT_SUSPENDED",
        )
    suspensions = tuple(
        dataclasses.replace(s, end_date=on - dt.timedelta(days=1)) if s.end_date is None else s
        for s in award.suspensions
    )
    return _save(
        db,
        dataclasses.replace(award, suspensions=suspensions),
        ev.BENEFIT_CHANGE_KIND_RESUMED,
        on,
        clock,
    )


def end(
    db: Session, *, request: api.EndBenefitAwardRequest, cis_view: SimulatedCis, clock: Clock
) -> pb.BenefitAward:
    award = find_award(db, cis_view, request.award_id)
    last = _day(request.end_date, "end_date")
    name = (
        pb.AwardEndReason.Name(request.end_reason).removeprefix("AWARD_END_REASON_")
        if request.end_reason in pb.AwardEndReason.values()
        else ""
    )
    if name not in AwardEndReason.__members__:
        raise InvalidArgument.field("end_reason", "choose why the award ended")
    if last < award.start_date:
        raise InvalidArgument.field("end_date", "is before the award started")
    if award.end_date is not None and award.end_date < last:
        raise FailedPrecondition(
            PreconditionViolation(
                "AWARD_ENDED", f"awards/{award.award_id}", "the award has already ended"
            ),
            reason="AWARD_ENDED",
        )
    changed = dataclasses.replace(award, end_date=last, end_reason=AwardEndReason[name])
    saved = _save(db, changed, ev.BENEFIT_CHANGE_KIND_AWARD_ENDED, last, clock)
    deductions.end_for_award(db, award=changed, clock=clock)  # DWP stops what was taken from it
    return saved
