"""Deductions from benefit (DFB): set-up, the instruction each change sends, Jobcentre Plus's decision or the
clerical one on the non-automated route, cancellation, the end of the award a deduction is taken from, and the
request form. Each state change and its event (DeductionRequested, DeductionDecisionMade, DeductionEnded, keyed by
the deduction) are written in one transaction through the outbox. A deduction is stored as the contract's
cms.dwp.v1.Deduction, with its instructions and decisions."""

from __future__ import annotations

import datetime as dt
import uuid

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.dwp.v1 import dwp_service_pb2 as api
from cms.dwp.v1 import events_pb2 as ev
from cms.dwp.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import date_or_violation, pb_date
from cms_platform.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PreconditionViolation,
    ViolationCollector,
)
from cms_platform.identifiers import normalise_nino
from cms_platform.paging import next_token, page

from .. import convert as records
from ..benefits import FACTS, Route
from ..interests import service as interests
from ..port import (
    AwardEndReason,
    BenefitAward,
    CisPort,
    DeductionType,
    JcpDecision,
    JcpInstruction,
    JobcentrePlusPort,
)
from . import convert, form, rules
from .models import DeductionRecord

OPEN_STATES = (
    pb.DEDUCTION_STATE_AWAITING_DECISION,
    pb.DEDUCTION_STATE_AWAITING_CLERICAL_DECISION,
    pb.DEDUCTION_STATE_ACTIVE,
)


def _refuse(reason: str, subject: str, description: str) -> FailedPrecondition:
    return FailedPrecondition(PreconditionViolation(reason, subject, description), reason=reason)


def _route(route: Route) -> pb.DeductionRoute.ValueType:
    return pb.DeductionRoute.Value(f"DEDUCTION_ROUTE_{route.value}")


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


def _publish(db: Session, clock: Clock, d: pb.Deduction, message: Message) -> None:
    outbox.publish(
        db,
        clock=clock,
        key=f"deductions/{d.deduction_id}",
        subject=f"deductions/{d.deduction_id}",
        message=message,
    )


def open_deduction(db: Session, case_id: str) -> DeductionRecord | None:
    """The case's deduction still awaiting a decision or active (a case has one at a time)."""
    return db.scalar(
        select(DeductionRecord).where(
            DeductionRecord.case_id == case_id,
            DeductionRecord.state.in_([pb.DeductionState.Name(s) for s in OPEN_STATES]),
        )
    )


def interest_covers(db: Session, nino: str, award: BenefitAward) -> bool:
    """The automated route needs an active CIS interest on the person in the award's business."""
    business = FACTS[award.benefit_type].business
    return business is not None and bool(interests.covering(db, nino=nino, business=business))


def _award(cis: CisPort, nino: str, award_id: str) -> BenefitAward | None:
    person = cis.person(nino)
    return (
        next((a for a in person.benefit_awards if a.award_id == award_id), None) if person else None
    )


# -- set-up and the instructions changes send ----------------------------------------------------------------------


def set_up(
    db: Session,
    *,
    order: convert.SetUp,
    cis: CisPort,
    jcp: JobcentrePlusPort,
    clock: Clock,
    params: rules.DeductionParameters,
) -> pb.Deduction:
    """DFB Set Up: from the beneficiary's latest live award of the benefit, by the route the benefit and type
    take (the automated one only through the CIS interest); one open deduction per case."""
    beneficiary_nino = normalise_nino(order.partner_nino or order.paying_parent_nino)
    beneficiary = cis.person(beneficiary_nino)
    if beneficiary is None:
        raise NotFound("person", "people/unknown", "CIS holds no record for the beneficiary")
    if FACTS[order.benefit].route is None:
        raise _refuse(
            "BENEFIT_NOT_DEDUCTIBLE",
            "benefit_type",
            f"{order.benefit.value} cannot carry a deduction",
        )
    award = next(
        (
            a
            for a in reversed(beneficiary.benefit_awards)
            if a.benefit_type is order.benefit and a.live_on(order.start)
        ),
        None,
    )
    if award is None:
        raise _refuse(
            "NO_QUALIFYING_BENEFIT",
            "benefit_type",
            f"the beneficiary has no live {order.benefit.value} award on {order.start.isoformat()}",
        )
    route = rules.route(award, order.kind)
    assert route is not None  # the benefit can carry a deduction (checked above)
    if route is Route.AUTOMATED and not interest_covers(db, beneficiary_nino, award):
        raise _refuse(
            "INTEREST_NOT_REGISTERED",
            "paying_parent_nino",
            "the automated route needs an active CIS interest in the benefit's business",
        )
    open_one = open_deduction(db, order.case_id)
    if open_one is not None:
        raise AlreadyExists(
            "deduction",
            f"deductions/{open_one.id}",
            "the case already has an open deduction (one benefit at a time: change its type)",
        )
    return create(
        db,
        case_id=order.case_id,
        payer_nino=normalise_nino(order.paying_parent_nino),
        beneficiary_nino=beneficiary_nino,
        partner=bool(order.partner_nino),
        award=award,
        kind=order.kind,
        liability=order.weekly_liability_pence,
        start=order.start,
        route=route,
        origin=pb.DEDUCTION_ORIGIN_SET_UP_REQUEST,
        calculation_id=order.calculation_id,
        jcp=jcp,
        clock=clock,
        params=params,
    )


def create(
    db: Session,
    *,
    case_id: str,
    payer_nino: str,
    beneficiary_nino: str,
    partner: bool,
    award: BenefitAward,
    kind: DeductionType,
    liability: int,
    start: dt.date,
    route: Route,
    origin: pb.DeductionOrigin.ValueType,
    calculation_id: str,
    jcp: JobcentrePlusPort,
    clock: Clock,
    params: rules.DeductionParameters,
) -> pb.Deduction:
    """A new deduction with its set-up instruction: to JCP (decided in its batch) or, non-automated, on a form."""
    now = clock.now()
    d = pb.Deduction(
        deduction_id=str(uuid.uuid4()),
        case_id=case_id,
        paying_parent_nino=payer_nino,
        beneficiary_nino=beneficiary_nino,
        beneficiary_role=pb.CASE_ROLE_PAYING_PARENT_PARTNER
        if partner
        else pb.CASE_ROLE_PAYING_PARENT,
        route=_route(route),
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
    instruction.requested_terms.CopyFrom(convert.terms(award, kind, liability, start, params))
    instruction.submit_time.FromDatetime(now)
    if route is Route.NON_AUTOMATED:
        instruction.form_reference = (
            "DFB" + uuid.uuid5(uuid.NAMESPACE_OID, d.deduction_id).hex[:8].upper()
        )
    else:
        instruction.expected_decision_time.FromDatetime(jcp.decision_due(now))
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


def _instruct(
    db: Session,
    row: DeductionRecord,
    d: pb.Deduction,
    kind: pb.DeductionInstructionKind.ValueType,
    terms: pb.DeductionTerms,
    jcp: JobcentrePlusPort,
    clock: Clock,
) -> pb.Deduction:
    """A change to an active deduction: a new instruction that needs its own decision (the old terms stay in
    force until then)."""
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
        instruction.expected_decision_time.FromDatetime(jcp.decision_due(now))
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


def change_amount(
    db: Session,
    *,
    request: api.ChangeDeductionAmountRequest,
    cis: CisPort,
    jcp: JobcentrePlusPort,
    clock: Clock,
    params: rules.DeductionParameters,
) -> pb.Deduction:
    """DFB Change Amount: only a non-standard flat rate's weekly liability; the new amount needs a new decision and
    the old terms stay in force until it is accepted. The deduction is found before the request is checked."""
    row, d = _load(db, request.deduction_id)
    v = ViolationCollector()
    if request.weekly_liability_pence <= 0:
        v.add("weekly_liability_pence", "must be positive")
    start = date_or_violation(request.effective_date, "effective_date", v)
    v.raise_if_any()
    assert start is not None  # required: a violation otherwise
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
            "the regulations fix the amount of a standard flat rate or arrears deduction",
        )
    award = _award(cis, d.beneficiary_nino, d.current_terms.award_id)
    if award is None:
        raise _refuse(
            "NO_QUALIFYING_BENEFIT", "deduction_id", "the award the deduction is taken from is gone"
        )
    terms = convert.terms(
        award, DeductionType.NON_STANDARD_FLAT_RATE, request.weekly_liability_pence, start, params
    )
    return _instruct(db, row, d, pb.DEDUCTION_INSTRUCTION_KIND_CHANGE_AMOUNT, terms, jcp, clock)


def change_type(
    db: Session,
    *,
    request: api.ChangeDeductionTypeRequest,
    cis: CisPort,
    jcp: JobcentrePlusPort,
    clock: Clock,
    params: rules.DeductionParameters,
) -> pb.Deduction:
    """DFB Change Type: standard ↔ non-standard flat rate ↔ arrears, and/or onto another benefit of the same
    beneficiary (one benefit at a time); the route is decided again and the change needs a new decision."""
    row, d = _load(db, request.deduction_id)
    v = ViolationCollector()
    kind = convert.kind(request.deduction_type, request.weekly_liability_pence, v)
    benefit = (
        convert.benefit(request.benefit_type, "benefit_type", v) if request.benefit_type else None
    )
    start = date_or_violation(request.effective_date, "effective_date", v)
    v.raise_if_any()
    assert kind is not None and start is not None  # violations otherwise
    if d.state != pb.DEDUCTION_STATE_ACTIVE or d.HasField("pending_instruction"):
        raise _refuse(
            "NOT_ACTIVE",
            f"deductions/{d.deduction_id}",
            "only an active deduction with no change pending can change its type",
        )
    person = cis.person(d.beneficiary_nino)
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
            (a for a in reversed(awards) if a.benefit_type is benefit and a.live_on(start)), None
        )
    if award is None:
        raise _refuse(
            "NO_QUALIFYING_BENEFIT", "benefit_type", "no live award to take the deduction from"
        )
    route = rules.route(award, kind)
    assert route is not None  # the deduction's benefit, or one checked above, can carry it
    if route is Route.AUTOMATED and not interest_covers(db, d.beneficiary_nino, award):
        raise _refuse(
            "INTEREST_NOT_REGISTERED",
            "benefit_type",
            "the automated route needs an active CIS interest in the benefit's business",
        )
    d.route = _route(route)
    terms = convert.terms(award, kind, request.weekly_liability_pence, start, params)
    return _instruct(db, row, d, pb.DEDUCTION_INSTRUCTION_KIND_CHANGE_TYPE, terms, jcp, clock)


# -- decisions -----------------------------------------------------------------------------------------------------


def _decide(
    db: Session, row: DeductionRecord, d: pb.Deduction, decision: pb.DeductionDecision, clock: Clock
) -> pb.Deduction:
    """The decision on the pending instruction: accepted terms come into force; a rejected set-up rejects the
    deduction, a rejected change leaves the active terms as they were."""
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


def _awaiting_jcp(db: Session, deduction_id: str) -> tuple[DeductionRecord, pb.Deduction]:
    row, d = _load(db, deduction_id)
    if not d.HasField("pending_instruction") or d.route == pb.DEDUCTION_ROUTE_NON_AUTOMATED:
        raise _refuse(
            "NO_PENDING_JCP_INSTRUCTION",
            f"deductions/{deduction_id}",
            "nothing is waiting for a JCP decision (a non-automated decision is keyed clerically)",
        )
    return row, d


def jcp_instruction(db: Session, *, deduction_id: str) -> JcpInstruction:
    """The automated or interface instruction of the deduction waiting for JCP's decision."""
    _row, d = _awaiting_jcp(db, deduction_id)
    return convert.jcp_instruction(d.beneficiary_nino, d.pending_instruction.requested_terms)


def record_jcp_decision(
    db: Session, *, deduction_id: str, decision: JcpDecision, clock: Clock
) -> pb.Deduction:
    """JCP's decision on the deduction's pending automated or interface instruction."""
    row, d = _awaiting_jcp(db, deduction_id)
    return _decide(
        db, row, d, convert.jcp_decision(decision, d.pending_instruction.requested_terms), clock
    )


def due_for_jcp(db: Session, *, now: dt.datetime, ignore_delays: bool = False) -> list[str]:
    """The deductions whose automated or interface instruction JCP's batch decides by `now` (every one waiting,
    with `ignore_delays`)."""
    due = []
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
        expected = d.pending_instruction.expected_decision_time.ToDatetime(tzinfo=dt.UTC)
        if ignore_delays or expected <= now:
            due.append(row.id)
    return due


def record_clerical(
    db: Session, *, request: api.RecordNonAutomatedDeductionDecisionRequest, clock: Clock
) -> pb.Deduction:
    """The benefit office's decision on a non-automated request form, keyed by a caseworker quoting the form."""
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
    start = None
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
    decision.decision_date.CopyFrom(pb_date(decided_on))
    if request.outcome == pb.DEDUCTION_OUTCOME_ACCEPTED:
        decision.accepted_terms.CopyFrom(pending.requested_terms)
        decision.accepted_terms.deduction_amount.CopyFrom(request.deduction_amount)
        decision.accepted_terms.start_date.CopyFrom(pb_date(start))
    else:
        decision.rejection_reason, decision.rejection_detail = (
            request.rejection_reason,
            request.rejection_detail,
        )
    return _decide(db, row, d, decision, clock)


# -- the end of a deduction ----------------------------------------------------------------------------------------


def cancel(db: Session, *, request: api.CancelDeductionRequest, clock: Clock) -> pb.Deduction:
    """DFB Cancel: the deduction stops the day before the effective date, with the CMS's reason."""
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
    assert first_free is not None  # required: a violation otherwise
    last = first_free - dt.timedelta(days=1)
    d.state, d.end_reason = pb.DEDUCTION_STATE_CANCELLED, pb.DEDUCTION_END_REASON_CANCELLED_BY_CMS
    event = ev.DeductionEnded(
        deduction_id=d.deduction_id,
        case_id=d.case_id,
        end_reason=d.end_reason,
        cancellation_reason=request.reason,
        end_date=pb_date(last),
    )
    if d.HasField("current_terms"):
        d.current_terms.end_date.CopyFrom(pb_date(last))
        event.final_terms.CopyFrom(d.current_terms)
    d.ClearField("pending_instruction")
    _save(row, d, clock)
    _publish(db, clock, d, event)
    return d


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
        d.state = pb.DEDUCTION_STATE_ENDED
        if award.end_reason is AwardEndReason.MIGRATED_TO_UNIVERSAL_CREDIT:
            d.end_reason = pb.DEDUCTION_END_REASON_MIGRATED_TO_UNIVERSAL_CREDIT
        elif award.end_reason is AwardEndReason.CLAIMANT_DECEASED:
            d.end_reason = pb.DEDUCTION_END_REASON_BENEFICIARY_DECEASED
        else:
            d.end_reason = pb.DEDUCTION_END_REASON_AWARD_ENDED
        event = ev.DeductionEnded(
            deduction_id=d.deduction_id,
            case_id=d.case_id,
            end_reason=d.end_reason,
            end_date=pb_date(award.end_date),
        )
        if award.end_reason is not None:
            event.award_end_reason = records.end_reason(award.end_reason)
        if d.HasField("current_terms"):
            d.current_terms.end_date.CopyFrom(pb_date(award.end_date))
            event.final_terms.CopyFrom(d.current_terms)
        d.ClearField("pending_instruction")
        _save(row, d, clock)
        _publish(db, clock, d, event)
        ended += 1
    return ended


# -- reading -------------------------------------------------------------------------------------------------------


def get(db: Session, *, deduction_id: str) -> pb.Deduction:
    return _load(db, deduction_id)[1]


def list_deductions(
    db: Session,
    *,
    case_id: str,
    paying_parent_nino: str,
    states: list[pb.DeductionState.ValueType],
    page_size: int,
    page_token: str,
) -> tuple[list[pb.Deduction], str]:
    """A page of a case's or a paying parent's deductions, newest first, and the next page's token."""
    if not case_id and not paying_parent_nino:
        raise InvalidArgument.field("case_id", "give case_id or paying_parent_nino")
    size, offset = page(page_size, page_token, maximum=200)
    q = select(DeductionRecord).order_by(DeductionRecord.created_at.desc(), DeductionRecord.id)
    if case_id:
        q = q.where(DeductionRecord.case_id == case_id)
    if paying_parent_nino:
        q = q.where(DeductionRecord.paying_parent_nino == normalise_nino(paying_parent_nino))
    if states:
        q = q.where(DeductionRecord.state.in_([pb.DeductionState.Name(s) for s in states]))
    rows = db.scalars(q.offset(offset).limit(size + 1)).all()
    return (
        [pb.Deduction.FromString(r.deduction) for r in rows[:size]],
        next_token(offset + size) if len(rows) > size else "",
    )


def request_form(
    db: Session, *, deduction_id: str, instruction_id: str, cis: CisPort, clock: Clock
) -> pb.DeductionRequestForm:
    """The printable non-automated request form of an instruction (the latest one with a form, unless named)."""
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
    return form.request_form(
        d,
        candidates[-1],
        payer=cis.person(d.paying_parent_nino),
        beneficiary=cis.person(d.beneficiary_nino),
        now=clock.now(),
    )
