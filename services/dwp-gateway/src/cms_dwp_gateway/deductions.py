"""Deductions from benefit (DFB): set-up, JCP's decision after its batch delay, the clerical decision on the
non-automated route, cancellation. Each state change and its event (DeductionRequested, DeductionDecisionMade,
DeductionEnded, keyed by the deduction) are written in one transaction through the outbox."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_service_pb2 as api
from cms.dwp.v1 import events_pb2 as ev
from cms.dwp.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import date_or_violation, full_date
from cms_platform.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PreconditionViolation,
    ViolationCollector,
)
from cms_platform.paging import page
from cms_simulation.population import normalise_nino
from cms_simulation.population.model import BenefitAward, BenefitType
from cms_simulation.population.nino import valid_nino

from . import deduction_rules as rules
from . import forms, records
from .benefits import FACTS, Route
from .models import DeductionRecord, InterestRecord
from .simulator import SimulatedCis, live_on, suspended_on

OPEN_STATES = (
    pb.DEDUCTION_STATE_AWAITING_DECISION,
    pb.DEDUCTION_STATE_AWAITING_CLERICAL_DECISION,
    pb.DEDUCTION_STATE_ACTIVE,
)
JCP = "JCP Deduction Decision Making Unit"
_KINDS = {
    pb.DEDUCTION_TYPE_STANDARD_FLAT_RATE: rules.DeductionType.STANDARD_FLAT_RATE,
    pb.DEDUCTION_TYPE_NON_STANDARD_FLAT_RATE: rules.DeductionType.NON_STANDARD_FLAT_RATE,
    pb.DEDUCTION_TYPE_ARREARS: rules.DeductionType.ARREARS,
}
_FREQUENCY = {
    "WEEKLY": common.PAYMENT_FREQUENCY_WEEKLY,
    "FORTNIGHTLY": common.PAYMENT_FREQUENCY_FORTNIGHTLY,
    "FOUR_WEEKLY": common.PAYMENT_FREQUENCY_FOUR_WEEKLY,
    "MONTHLY": common.PAYMENT_FREQUENCY_MONTHLY,
}


def _refuse(reason: str, subject: str, description: str) -> FailedPrecondition:
    return FailedPrecondition(PreconditionViolation(reason, subject, description), reason=reason)


def _benefit(value: int, path: str, v: ViolationCollector) -> BenefitType | None:
    name = (
        pb.BenefitType.Name(value).removeprefix("BENEFIT_TYPE_")
        if value in pb.BenefitType.values()
        else ""
    )
    if not value or name not in BenefitType.__members__:
        v.add(path, "choose a benefit type")
        return None
    return BenefitType[name]


def _kind(
    deduction_type: int, weekly_liability_pence: int, v: ViolationCollector
) -> rules.DeductionType | None:
    """The deduction type, and a weekly liability given only for a non-standard flat rate (the rulebook fixes the
    others)."""
    kind = _KINDS.get(deduction_type)
    if kind is None:
        v.add("deduction_type", "choose a deduction type")
    elif kind is rules.DeductionType.NON_STANDARD_FLAT_RATE and weekly_liability_pence <= 0:
        v.add("weekly_liability_pence", "is required (positive) for a non-standard flat rate")
    elif kind is not rules.DeductionType.NON_STANDARD_FLAT_RATE and weekly_liability_pence:
        v.add("weekly_liability_pence", "must be unset: the rulebook fixes this amount")
    return kind


def terms_for(
    award: BenefitAward,
    kind: rules.DeductionType,
    liability: int,
    start: dt.date,
    params: rules.DeductionParameters,
) -> pb.DeductionTerms:
    """The amount per award payment with its maintenance / fee split (the fee is what is not maintenance)."""
    total = rules.period_deduction_pence(
        award, rules.weekly_deduction_pence(kind, liability, params)
    )
    weekly_maintenance = {
        rules.DeductionType.STANDARD_FLAT_RATE: params.flat_rate_weekly_pence,
        rules.DeductionType.NON_STANDARD_FLAT_RATE: liability,
        rules.DeductionType.ARREARS: params.arrears_weekly_pence,
    }[kind]
    maintenance = min(total, rules.period_deduction_pence(award, weekly_maintenance))
    return pb.DeductionTerms(
        deduction_type=pb.DeductionType.Value(f"DEDUCTION_TYPE_{kind.value}"),
        benefit_type=pb.BenefitType.Value(f"BENEFIT_TYPE_{award.benefit_type.value}"),
        award_id=award.award_id,
        deduction_amount=common.PeriodicAmount(
            frequency=_FREQUENCY[award.payment_frequency], amount_pence=total
        ),
        maintenance_pence=maintenance,
        collection_fee_pence=total - maintenance,
        start_date=records.date(start),
    )


def _load(db: Session, deduction_id: str) -> tuple[DeductionRecord, pb.Deduction]:
    row = db.get(DeductionRecord, deduction_id)
    if row is None:
        raise NotFound("deduction", f"deductions/{deduction_id}")
    return row, pb.Deduction.FromString(row.deduction)


def _save(row: DeductionRecord, d: pb.Deduction, clock: Clock) -> None:
    d.update_time.FromDatetime(clock.now())
    row.state, row.route, row.deduction = (
        pb.DeductionState.Name(d.state),
        pb.DeductionRoute.Name(d.route),
        d.SerializeToString(),
    )


def _publish(db: Session, clock: Clock, d: pb.Deduction, message) -> None:
    outbox.publish(
        db,
        clock=clock,
        key=d.deduction_id,
        subject=f"deductions/{d.deduction_id}",
        message=message,
    )


def set_up(
    db: Session,
    *,
    request: api.SetUpDeductionRequest,
    cis_view: SimulatedCis,
    clock: Clock,
    params: rules.DeductionParameters,
    decision_delay: dt.timedelta,
) -> pb.Deduction:
    v = ViolationCollector()
    for path, nino in (
        ("paying_parent_nino", request.paying_parent_nino),
        ("partner_nino", request.partner_nino),
    ):
        if nino and not valid_nino(nino):
            v.add(path, "is not a valid National Insurance number")
    benefit = _benefit(request.benefit_type, "benefit_type", v)
    kind = _kind(request.deduction_type, request.weekly_liability_pence, v)
    start = date_or_violation(request.effective_date, "effective_date", v)
    v.raise_if_any()
    beneficiary_nino = normalise_nino(request.partner_nino or request.paying_parent_nino)
    beneficiary = cis_view.person(beneficiary_nino)
    if beneficiary is None:
        raise NotFound("person", "people/unknown", "CIS holds no record for the beneficiary")
    if FACTS[benefit].route is None:
        raise _refuse(
            "BENEFIT_NOT_DEDUCTIBLE", "benefit_type", f"{benefit.value} cannot carry a deduction"
        )
    award = next(
        (
            a
            for a in reversed(beneficiary.benefit_awards)
            if a.benefit_type is benefit and live_on(a, start)
        ),
        None,
    )
    if award is None:
        raise _refuse(
            "NO_QUALIFYING_BENEFIT",
            "benefit_type",
            f"the beneficiary has no live {benefit.value} award on {start.isoformat()}",
        )
    route = rules.route(award, kind)
    if route is Route.AUTOMATED and not _interest_covers(db, beneficiary_nino, award):
        raise _refuse(
            "INTEREST_NOT_REGISTERED",
            "paying_parent_nino",
            "the automated route needs an active CIS interest in the benefit's business",
        )
    open_one = _open_deduction(db, request.case_id)
    if open_one is not None:
        raise AlreadyExists(
            "deduction",
            f"deductions/{open_one.id}",
            "the case already has an open deduction (one benefit at a time: change its type)",
        )
    return _create(
        db,
        case_id=request.case_id,
        payer_nino=normalise_nino(request.paying_parent_nino),
        beneficiary_nino=beneficiary_nino,
        partner=bool(request.partner_nino),
        award=award,
        kind=kind,
        liability=request.weekly_liability_pence,
        start=start,
        route=route,
        origin=pb.DEDUCTION_ORIGIN_SET_UP_REQUEST,
        calculation_id=request.calculation_id,
        clock=clock,
        params=params,
        decision_delay=decision_delay,
    )


def _open_deduction(db: Session, case_id: str) -> DeductionRecord | None:
    return db.scalar(
        select(DeductionRecord).where(
            DeductionRecord.case_id == case_id,
            DeductionRecord.state.in_([pb.DeductionState.Name(s) for s in OPEN_STATES]),
        )
    )


def _create(
    db: Session,
    *,
    case_id: str,
    payer_nino: str,
    beneficiary_nino: str,
    partner: bool,
    award: BenefitAward,
    kind: rules.DeductionType,
    liability: int,
    start: dt.date,
    route: Route,
    origin: int,
    calculation_id: str,
    clock: Clock,
    params: rules.DeductionParameters,
    decision_delay: dt.timedelta,
) -> pb.Deduction:
    now = clock.now()
    d = pb.Deduction(
        deduction_id=str(uuid.uuid4()),
        case_id=case_id,
        paying_parent_nino=payer_nino,
        beneficiary_nino=beneficiary_nino,
        beneficiary_role=pb.CASE_ROLE_PAYING_PARENT_PARTNER
        if partner
        else pb.CASE_ROLE_PAYING_PARENT,
        route=pb.DeductionRoute.Value(f"DEDUCTION_ROUTE_{route.value}"),
        origin=origin,
        calculation_id=calculation_id,
        state=(
            pb.DEDUCTION_STATE_AWAITING_CLERICAL_DECISION
            if route is Route.NON_AUTOMATED
            else pb.DEDUCTION_STATE_AWAITING_DECISION
        ),
    )
    d.create_time.FromDatetime(now)
    instruction = d.pending_instruction
    instruction.instruction_id = str(uuid.uuid4())
    instruction.kind = pb.DEDUCTION_INSTRUCTION_KIND_SET_UP
    instruction.route = d.route
    instruction.requested_terms.CopyFrom(terms_for(award, kind, liability, start, params))
    instruction.submit_time.FromDatetime(now)
    if route is Route.NON_AUTOMATED:
        instruction.form_reference = (
            "DFB" + uuid.uuid5(uuid.NAMESPACE_OID, d.deduction_id).hex[:8].upper()
        )
    else:
        instruction.expected_decision_time.FromDatetime(now + decision_delay)
    d.instructions.add().CopyFrom(instruction)
    row = DeductionRecord(
        id=d.deduction_id,
        case_id=d.case_id,
        paying_parent_nino=d.paying_parent_nino,
        state="",
        route="",
        deduction=b"",
        created_at=now,
    )
    _save(row, d, clock)
    db.add(row)
    _publish(
        db,
        clock,
        d,
        ev.DeductionRequested(
            deduction_id=d.deduction_id,
            case_id=d.case_id,
            instruction=instruction,
            origin=d.origin,
            beneficiary_nino=beneficiary_nino,
        ),
    )
    return d


def pick_up_flat_rate(
    db: Session,
    *,
    case_id: str,
    paying_parent_nino: str,
    calculation_id: str,
    effective: dt.date,
    cis_view: SimulatedCis,
    clock: Clock,
    params: rules.DeductionParameters,
    decision_delay: dt.timedelta,
) -> pb.Deduction | None:
    """The automated route: after a standard flat-rate calculation JCP picks the case up through the CIS interest,
    when the paying parent (alone or in a couple claim) has a live IS / income-based JSA / income-related ESA award in
    a business the interest covers. Without the interest nothing happens — the real silent gap."""
    nino = normalise_nino(paying_parent_nino)
    person = cis_view.person(nino) if valid_nino(nino) else None
    if person is None or _open_deduction(db, case_id) is not None:
        return None
    for award in reversed(person.benefit_awards):
        if (
            live_on(award, effective)
            and FACTS[award.benefit_type].route is Route.AUTOMATED
            and _interest_covers(db, nino, award)
        ):
            return _create(
                db,
                case_id=case_id,
                payer_nino=nino,
                beneficiary_nino=award.claimant_nino,
                partner=award.claimant_nino != nino,
                award=award,
                kind=rules.DeductionType.STANDARD_FLAT_RATE,
                liability=0,
                start=effective,
                route=Route.AUTOMATED,
                origin=pb.DEDUCTION_ORIGIN_CASE_CALCULATED,
                calculation_id=calculation_id,
                clock=clock,
                params=params,
                decision_delay=decision_delay,
            )
    return None


def _interest_covers(db: Session, nino: str, award: BenefitAward) -> bool:
    business = FACTS[award.benefit_type].business
    wanted = pb.CisBusiness.Value(f"CIS_BUSINESS_{business.value}") if business else None
    for row in db.scalars(
        select(InterestRecord).where(InterestRecord.nino == nino, InterestRecord.active.is_(True))
    ):
        if wanted in {
            line.business for line in pb.BusinessInterest.FromString(row.interest).businesses
        }:
            return True
    return False


def _decide(
    db: Session, row: DeductionRecord, d: pb.Deduction, decision: pb.DeductionDecision, clock: Clock
) -> pb.Deduction:
    instruction = d.pending_instruction
    decision.instruction_id, decision.kind, decision.route = (
        instruction.instruction_id,
        instruction.kind,
        d.route,
    )
    decision.receive_time.FromDatetime(clock.now())
    if decision.outcome == pb.DEDUCTION_OUTCOME_ACCEPTED:
        d.state = pb.DEDUCTION_STATE_ACTIVE
        d.current_terms.CopyFrom(decision.accepted_terms)
    elif d.state != pb.DEDUCTION_STATE_ACTIVE:
        d.state = pb.DEDUCTION_STATE_REJECTED
    d.decisions.add().CopyFrom(decision)
    d.ClearField("pending_instruction")
    _save(row, d, clock)
    event = ev.DeductionDecisionMade(
        deduction_id=d.deduction_id, case_id=d.case_id, decision=decision, state=d.state
    )
    if d.HasField("current_terms"):
        event.current_terms.CopyFrom(d.current_terms)
    _publish(db, clock, d, event)
    return d


def decide_pending(
    db: Session,
    *,
    deduction_id: str,
    cis_view: SimulatedCis,
    clock: Clock,
    params: rules.DeductionParameters,
    forced_outcome: int = 0,
    forced_reason: int = 0,
) -> pb.Deduction:
    """JCP's decision on the pending automated or interface instruction, by the rules (or forced by a scenario)."""
    row, d = _load(db, deduction_id)
    if not d.HasField("pending_instruction") or d.route == pb.DEDUCTION_ROUTE_NON_AUTOMATED:
        raise _refuse(
            "NO_PENDING_JCP_INSTRUCTION",
            f"deductions/{deduction_id}",
            "nothing is waiting for a JCP decision (a non-automated decision is keyed clerically)",
        )
    requested = d.pending_instruction.requested_terms
    today = clock.today()
    person = cis_view.person(d.beneficiary_nino)
    award = (
        next((a for a in person.benefit_awards if a.award_id == requested.award_id), None)
        if person
        else None
    )
    kind = _KINDS[requested.deduction_type]
    outcome = rules.decide(
        award,
        kind=kind,
        weekly_liability_pence=_weekly_liability(requested, award),
        live=award is not None and live_on(award, today),
        suspended=award is not None and suspended_on(award, today),
        p=params,
    )
    decision = pb.DeductionDecision(decision_date=records.date(today), decided_by=JCP)
    accepted = (
        outcome.accepted if not forced_outcome else forced_outcome == pb.DEDUCTION_OUTCOME_ACCEPTED
    )
    if accepted:
        decision.outcome = pb.DEDUCTION_OUTCOME_ACCEPTED
        decision.accepted_terms.CopyFrom(requested)
        start = max(today, full_date(requested.start_date, "start_date"))
        decision.accepted_terms.start_date.CopyFrom(records.date(start))
    else:
        decision.outcome = pb.DEDUCTION_OUTCOME_REJECTED
        decision.rejection_reason = forced_reason or (
            pb.DeductionRejectionReason.Value(
                f"DEDUCTION_REJECTION_REASON_{outcome.rejection.value}"
            )
            if outcome.rejection
            else pb.DEDUCTION_REJECTION_REASON_OTHER
        )
        decision.rejection_detail = outcome.detail
    return _decide(db, row, d, decision, clock)


def _weekly_liability(terms: pb.DeductionTerms, award: BenefitAward | None) -> int:
    if terms.deduction_type != pb.DEDUCTION_TYPE_NON_STANDARD_FLAT_RATE or award is None:
        return 0
    periods = {"WEEKLY": 1, "FORTNIGHTLY": 2, "FOUR_WEEKLY": 4}.get(award.payment_frequency)
    return terms.maintenance_pence // periods if periods else terms.maintenance_pence * 12 // 52


def run_due(
    db: Session,
    *,
    cis_view: SimulatedCis,
    clock: Clock,
    params: rules.DeductionParameters,
    ignore_delays: bool = False,
) -> list[str]:
    """JCP's batch window: decide every pending automated/interface instruction that is due."""
    now = clock.now()
    decided = []
    for row in db.scalars(
        select(DeductionRecord).where(
            DeductionRecord.state.in_(
                [
                    pb.DeductionState.Name(pb.DEDUCTION_STATE_AWAITING_DECISION),
                    pb.DeductionState.Name(pb.DEDUCTION_STATE_ACTIVE),
                ]
            )
        )
    ).all():
        d = pb.Deduction.FromString(row.deduction)
        if not d.HasField("pending_instruction") or d.route == pb.DEDUCTION_ROUTE_NON_AUTOMATED:
            continue  # nothing for JCP (a clerical decision is keyed by a caseworker)
        due = d.pending_instruction.expected_decision_time.ToDatetime(tzinfo=dt.UTC)
        if ignore_delays or due <= now:
            decide_pending(db, deduction_id=row.id, cis_view=cis_view, clock=clock, params=params)
            decided.append(row.id)
    return decided


def record_clerical(
    db: Session, *, request: api.RecordNonAutomatedDeductionDecisionRequest, clock: Clock
) -> pb.Deduction:
    row, d = _load(db, request.deduction_id)
    pending = d.pending_instruction
    if (
        d.route != pb.DEDUCTION_ROUTE_NON_AUTOMATED
        or not d.HasField("pending_instruction")
        or pending.form_reference != request.form_reference
    ):
        raise _refuse(
            "NO_MATCHING_FORM",
            "form_reference",
            "no non-automated instruction with that form reference is waiting for a decision",
        )
    v = ViolationCollector()
    decided_on = date_or_violation(request.decision_date, "decision_date", v)
    decision = pb.DeductionDecision(decided_by=request.decided_by, outcome=request.outcome)
    if request.outcome == pb.DEDUCTION_OUTCOME_ACCEPTED:
        if not request.HasField("deduction_amount") or request.deduction_amount.amount_pence <= 0:
            v.add("deduction_amount", "is required for an accepted decision")
        start = date_or_violation(request.start_date, "start_date", v)
    elif request.outcome == pb.DEDUCTION_OUTCOME_REJECTED:
        if not request.rejection_reason:
            v.add("rejection_reason", "is required for a rejected decision")
    else:
        v.add("outcome", "choose ACCEPTED or REJECTED")
    v.raise_if_any()
    decision.decision_date.CopyFrom(records.date(decided_on))
    if request.outcome == pb.DEDUCTION_OUTCOME_ACCEPTED:
        decision.accepted_terms.CopyFrom(pending.requested_terms)
        decision.accepted_terms.deduction_amount.CopyFrom(request.deduction_amount)
        decision.accepted_terms.start_date.CopyFrom(records.date(start))
    else:
        decision.rejection_reason, decision.rejection_detail = (
            request.rejection_reason,
            request.rejection_detail,
        )
    return _decide(db, row, d, decision, clock)


def cancel(db: Session, *, request: api.CancelDeductionRequest, clock: Clock) -> pb.Deduction:
    row, d = _load(db, request.deduction_id)
    if d.state not in OPEN_STATES:
        raise _refuse(
            "DEDUCTION_CLOSED", f"deductions/{d.deduction_id}", "the deduction has already stopped"
        )
    v = ViolationCollector()
    first_free = date_or_violation(request.effective_date, "effective_date", v)
    if not request.reason:
        v.add("reason", "choose why the deduction is cancelled")
    v.raise_if_any()
    last = first_free - dt.timedelta(days=1)
    d.state, d.end_reason = pb.DEDUCTION_STATE_CANCELLED, pb.DEDUCTION_END_REASON_CANCELLED_BY_CMS
    event = ev.DeductionEnded(
        deduction_id=d.deduction_id,
        case_id=d.case_id,
        end_reason=d.end_reason,
        cancellation_reason=request.reason,
        end_date=records.date(last),
    )
    if d.HasField("current_terms"):
        d.current_terms.end_date.CopyFrom(records.date(last))
        event.final_terms.CopyFrom(d.current_terms)
    d.ClearField("pending_instruction")
    _save(row, d, clock)
    _publish(db, clock, d, event)
    return d


def get(db: Session, deduction_id: str) -> pb.Deduction:
    return _load(db, deduction_id)[1]


def list_deductions(
    db: Session, *, request: api.ListDeductionsRequest
) -> api.ListDeductionsResponse:
    if not request.case_id and not request.paying_parent_nino:
        raise InvalidArgument.field("case_id", "give case_id or paying_parent_nino")
    size, offset = page(request.page_size, request.page_token, maximum=200)
    q = select(DeductionRecord).order_by(DeductionRecord.created_at.desc(), DeductionRecord.id)
    if request.case_id:
        q = q.where(DeductionRecord.case_id == request.case_id)
    if request.paying_parent_nino:
        q = q.where(
            DeductionRecord.paying_parent_nino == normalise_nino(request.paying_parent_nino)
        )
    if request.states:
        q = q.where(DeductionRecord.state.in_([pb.DeductionState.Name(s) for s in request.states]))
    rows = db.scalars(q.offset(offset).limit(size + 1)).all()
    return api.ListDeductionsResponse(
        deductions=[pb.Deduction.FromString(r.deduction) for r in rows[:size]],
        next_page_token=str(offset + size) if len(rows) > size else "",
    )


BENEFIT_OFFICE = pb.BenefitOffice(
    name="Pension, Disability and Carers Service (DFB clerical team)",
    address=common.Address(
        lines=["Mail Handling Site A"], post_town="WOLVERHAMPTON", postcode="WV98 1AA"
    ),
)


def request_form(
    db: Session, *, deduction_id: str, instruction_id: str, cis_view: SimulatedCis, clock: Clock
) -> pb.DeductionRequestForm:
    """The printable non-automated request form: the instruction's fields, ready for the benefit office."""
    _row, d = _load(db, deduction_id)
    if d.route != pb.DEDUCTION_ROUTE_NON_AUTOMATED:
        raise _refuse(
            "NOT_NON_AUTOMATED",
            f"deductions/{deduction_id}",
            "only a non-automated deduction has a form",
        )
    candidates = [
        i
        for i in d.instructions
        if i.form_reference and (not instruction_id or i.instruction_id == instruction_id)
    ]
    if not candidates:
        raise NotFound(
            "deduction instruction", f"deductions/{deduction_id}/instructions/{instruction_id}"
        )
    instruction = candidates[-1]
    terms = instruction.requested_terms
    payer, beneficiary = cis_view.person(d.paying_parent_nino), cis_view.person(d.beneficiary_nino)

    def name(p) -> str:
        return f"{p.forenames} {p.surname}" if p else "(not on CIS)"

    def money(pence: int) -> str:
        return f"\u00a3{pence // 100:,}.{pence % 100:02d}"

    frequency = (
        common.PaymentFrequency.Name(terms.deduction_amount.frequency)
        .removeprefix("PAYMENT_FREQUENCY_")
        .replace("_", "-")
        .lower()
    )
    sections = [
        (
            "Case",
            [
                ("CMS case", d.case_id),
                ("Deduction", d.deduction_id),
                (
                    "Instruction",
                    pb.DeductionInstructionKind.Name(instruction.kind)
                    .removeprefix("DEDUCTION_INSTRUCTION_KIND_")
                    .replace("_", " ")
                    .lower(),
                ),
            ],
        ),
        (
            "Paying parent",
            [("Name", name(payer)), ("National Insurance number", d.paying_parent_nino)],
        ),
        (
            "Benefit to deduct from",
            [
                ("Name", name(beneficiary)),
                ("National Insurance number", d.beneficiary_nino),
                (
                    "Benefit",
                    pb.BenefitType.Name(terms.benefit_type)
                    .removeprefix("BENEFIT_TYPE_")
                    .replace("_", " ")
                    .title(),
                ),
                ("Award", terms.award_id),
            ],
        ),
        (
            "Deduction",
            [
                (
                    "Type",
                    pb.DeductionType.Name(terms.deduction_type)
                    .removeprefix("DEDUCTION_TYPE_")
                    .replace("_", " ")
                    .lower(),
                ),
                (
                    "Amount each payment",
                    f"{money(terms.deduction_amount.amount_pence)} ({frequency})",
                ),
                ("Child maintenance", money(terms.maintenance_pence)),
                ("Collection fee", money(terms.collection_fee_pence)),
                ("Effective from", full_date(terms.start_date, "start_date").strftime("%d %B %Y")),
            ],
        ),
        (
            "Return to the CMS",
            [
                ("Quote this reference", instruction.form_reference),
                (
                    "Decision",
                    "accepted with amount and first deduction date, or rejected with reason",
                ),
            ],
        ),
    ]
    pdf = forms.render_request_form(
        title="Child maintenance: deduction from benefit request (non-automated)",
        form_reference=instruction.form_reference,
        sections=sections,
    )
    out = pb.DeductionRequestForm(
        form_reference=instruction.form_reference,
        deduction_id=d.deduction_id,
        instruction_id=instruction.instruction_id,
        kind=instruction.kind,
        benefit_office=BENEFIT_OFFICE,
        pdf_content=pdf,
        content_type="application/pdf",
        file_name=f"DFB-{instruction.form_reference}.pdf",
    )
    out.generate_time.FromDatetime(clock.now())
    return out


def end_for_award(db: Session, *, award: BenefitAward, clock: Clock) -> int:
    """DWP stops the deductions taken from an award that ended (AWARD_ENDED, or MIGRATED_TO_UNIVERSAL_CREDIT when
    the legacy claim closed on migration): casework needs a new method of payment, or a DFB from UC."""
    ended = 0
    for row in db.scalars(
        select(DeductionRecord).where(
            DeductionRecord.state.in_([pb.DeductionState.Name(s) for s in OPEN_STATES])
        )
    ).all():
        d = pb.Deduction.FromString(row.deduction)
        terms = (
            d.current_terms
            if d.HasField("current_terms")
            else d.pending_instruction.requested_terms
        )
        if terms.award_id != award.award_id or award.end_date is None:
            continue
        migrated = (
            award.end_reason is not None
            and award.end_reason.value == "MIGRATED_TO_UNIVERSAL_CREDIT"
        )
        d.state = pb.DEDUCTION_STATE_ENDED
        d.end_reason = (
            pb.DEDUCTION_END_REASON_MIGRATED_TO_UNIVERSAL_CREDIT
            if migrated
            else pb.DEDUCTION_END_REASON_BENEFICIARY_DECEASED
            if award.end_reason is not None and award.end_reason.value == "CLAIMANT_DECEASED"
            else pb.DEDUCTION_END_REASON_AWARD_ENDED
        )
        event = ev.DeductionEnded(
            deduction_id=d.deduction_id,
            case_id=d.case_id,
            end_reason=d.end_reason,
            end_date=records.date(award.end_date),
        )
        if award.end_reason is not None:
            event.award_end_reason = pb.AwardEndReason.Value(
                f"AWARD_END_REASON_{award.end_reason.value}"
            )
        if d.HasField("current_terms"):
            d.current_terms.end_date.CopyFrom(records.date(award.end_date))
            event.final_terms.CopyFrom(d.current_terms)
        d.ClearField("pending_instruction")
        _save(row, d, clock)
        _publish(db, clock, d, event)
        ended += 1
    return ended


def change_amount(
    db: Session,
    *,
    request: api.ChangeDeductionAmountRequest,
    cis_view: SimulatedCis,
    clock: Clock,
    params: rules.DeductionParameters,
    decision_delay: dt.timedelta,
) -> pb.Deduction:
    """DFB Change Amount: only a non-standard flat rate's weekly liability; the new amount needs a new decision and
    the old terms stay in force until it is accepted."""
    row, d = _load(db, request.deduction_id)
    v = ViolationCollector()
    if request.weekly_liability_pence <= 0:
        v.add("weekly_liability_pence", "must be positive")
    start = date_or_violation(request.effective_date, "effective_date", v)
    v.raise_if_any()
    if d.state != pb.DEDUCTION_STATE_ACTIVE or d.HasField("pending_instruction"):
        raise _refuse(
            "NOT_ACTIVE",
            f"deductions/{d.deduction_id}",
            "only an active deduction with no change pending can change its amount",
        )
    if d.current_terms.deduction_type != pb.DEDUCTION_TYPE_NON_STANDARD_FLAT_RATE:
        raise _refuse(
            "AMOUNT_FIXED_BY_RULES",
            f"deductions/{d.deduction_id}",
            "the rulebook fixes the amount of a standard flat rate or arrears deduction",
        )
    person = cis_view.person(d.beneficiary_nino)
    award = (
        next((a for a in person.benefit_awards if a.award_id == d.current_terms.award_id), None)
        if person
        else None
    )
    if award is None:
        raise _refuse(
            "NO_QUALIFYING_BENEFIT", "deduction_id", "the award the deduction is taken from is gone"
        )
    return _instruct(
        db,
        row,
        d,
        pb.DEDUCTION_INSTRUCTION_KIND_CHANGE_AMOUNT,
        terms_for(
            award,
            rules.DeductionType.NON_STANDARD_FLAT_RATE,
            request.weekly_liability_pence,
            start,
            params,
        ),
        clock,
        decision_delay,
    )


def _instruct(
    db: Session,
    row: DeductionRecord,
    d: pb.Deduction,
    kind: int,
    terms: pb.DeductionTerms,
    clock: Clock,
    decision_delay: dt.timedelta,
) -> pb.Deduction:
    now = clock.now()
    instruction = d.pending_instruction
    instruction.instruction_id = str(uuid.uuid4())
    instruction.kind, instruction.route = kind, d.route
    instruction.requested_terms.CopyFrom(terms)
    instruction.submit_time.FromDatetime(now)
    if d.route == pb.DEDUCTION_ROUTE_NON_AUTOMATED:
        instruction.form_reference = (
            "DFB" + uuid.uuid5(uuid.NAMESPACE_OID, instruction.instruction_id).hex[:8].upper()
        )
    else:
        instruction.expected_decision_time.FromDatetime(now + decision_delay)
    d.instructions.add().CopyFrom(instruction)
    _save(row, d, clock)
    _publish(
        db,
        clock,
        d,
        ev.DeductionRequested(
            deduction_id=d.deduction_id,
            case_id=d.case_id,
            instruction=instruction,
            origin=d.origin,
            beneficiary_nino=d.beneficiary_nino,
        ),
    )
    return d


def change_type(
    db: Session,
    *,
    request: api.ChangeDeductionTypeRequest,
    cis_view: SimulatedCis,
    clock: Clock,
    params: rules.DeductionParameters,
    decision_delay: dt.timedelta,
) -> pb.Deduction:
    """DFB Change Type: standard ↔ non-standard flat rate ↔ arrears, and/or onto another benefit of the same
    beneficiary (one benefit at a time); the route is decided again and the change needs a new decision."""
    row, d = _load(db, request.deduction_id)
    v = ViolationCollector()
    kind = _kind(request.deduction_type, request.weekly_liability_pence, v)
    benefit = _benefit(request.benefit_type, "benefit_type", v) if request.benefit_type else None
    start = date_or_violation(request.effective_date, "effective_date", v)
    v.raise_if_any()
    if d.state != pb.DEDUCTION_STATE_ACTIVE or d.HasField("pending_instruction"):
        raise _refuse(
            "NOT_ACTIVE",
            f"deductions/{d.deduction_id}",
            "only an active deduction with no change pending can change its type",
        )
    person = cis_view.person(d.beneficiary_nino)
    awards = person.benefit_awards if person else ()
    if benefit is None:
        award = next((a for a in awards if a.award_id == d.current_terms.award_id), None)
    else:
        if FACTS[benefit].route is None:
            raise _refuse(
                "BENEFIT_NOT_DEDUCTIBLE",
                "benefit_type",
                f"{benefit.value} cannot carry a deduction",
            )
        award = next(
            (a for a in reversed(awards) if a.benefit_type is benefit and live_on(a, start)), None
        )
    if award is None:
        raise _refuse(
            "NO_QUALIFYING_BENEFIT", "benefit_type", "no live award to take the deduction from"
        )
    route = rules.route(award, kind)
    if route is Route.AUTOMATED and not _interest_covers(db, d.beneficiary_nino, award):
        raise _refuse(
            "INTEREST_NOT_REGISTERED",
            "benefit_type",
            "the automated route needs an active CIS interest in the benefit's business",
        )
    d.route = pb.DeductionRoute.Value(f"DEDUCTION_ROUTE_{route.value}")
    return _instruct(
        db,
        row,
        d,
        pb.DEDUCTION_INSTRUCTION_KIND_CHANGE_TYPE,
        terms_for(award, kind, request.weekly_liability_pence, start, params),
        clock,
        decision_delay,
    )
