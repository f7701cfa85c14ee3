"""Variation applications in the database: recorded (with their preliminary consideration already made), read,
listed, given evidence and representations, and decided. Every state change publishes VariationStateChanged in the
same transaction. Keyword-only functions over an explicit session; the calls to other services are in flows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import day_of, pb_date
from cms_platform.errors import (
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
    PreconditionViolation,
)
from cms_platform.identity import Caller
from cms_platform.paging import next_token, page

from ..access import rules as access_rules
from ..access import service as access
from ..case_records import service as case_records
from ..case_records.models import CaseRecord
from ..correspondence import service as correspondence
from . import rules
from .models import VariationRecord

V = pb.VariationState
FINAL = frozenset(
    {pb.VARIATION_STATE_REJECTED, pb.VARIATION_STATE_AGREED, pb.VARIATION_STATE_REFUSED}
)


def document(row: VariationRecord) -> pb.Variation:
    return pb.Variation.FromString(row.document)


def _save(row: VariationRecord, variation: pb.Variation, clock: Clock) -> None:
    variation.update_time.FromDatetime(clock.now())
    row.state, row.document, row.updated_at = (
        V.Name(variation.state),
        variation.SerializeToString(),
        clock.now(),
    )


def _precondition(code: str, subject: str, description: str) -> FailedPrecondition:
    return FailedPrecondition(PreconditionViolation(code, subject, description), reason=code)


def _announce(db: Session, *, case_id: str, variation: pb.Variation, clock: Clock) -> None:
    outbox.publish(
        db,
        clock=clock,
        key=f"cases/{case_id}",
        subject=f"cases/{case_id}",
        message=ev.VariationStateChanged(
            case_id=case_id,
            variation=variation.name,
            ground=variation.ground,
            state=variation.state,
            rejection_reason=variation.rejection_reason,
            effective_date=variation.effective_date,
            change_of_circumstances=variation.change_of_circumstances,
        ),
    )


def _notify(
    db: Session,
    *,
    case_id: str,
    variation: pb.Variation,
    kind: pb.CorrespondenceKind.ValueType,
    recipients: list[str],
    clock: Clock,
) -> None:
    for recipient in recipients:
        letter = correspondence.schedule(
            db, case_id=case_id, kind=kind, recipient=recipient, clock=clock
        )
        variation.correspondence.append(letter.name)


def _parents(case: pb.Case) -> tuple[str, str]:
    return case.paying_parent.name, case.receiving_parent.name


# -- applying ------------------------------------------------------------------------------------------------------


def applicant_of(case: pb.Case, given: str, caller: Caller) -> str:
    """The applicant: a parent applying for themselves, or the parent on the case a member of staff names."""
    if access_rules.role_of(caller) == access_rules.CLIENT:
        return f"clients/{access_rules.client_id_of(caller)}"
    if given not in _parents(case) or not given:
        raise InvalidArgument.field("variation.applicant", "must be a parent on the case")
    return given


def facts_of(
    case: pb.Case, *, applicant: str, today: dt.date, hmrc: pb.HmrcUnearnedIncome | None
) -> rules.Facts:
    """What preliminary consideration looks at: the calculation in force, who applies, the paying parent's benefits
    as casework last knew them, HMRC's unearned income (when fetched)."""

    def open_award(award: pb.BenefitAward) -> bool:
        end = day_of(award.period.end_date)
        return end is None or end >= today

    awards = [a for a in case.paying_parent.benefits if open_award(a)]
    return rules.Facts(
        has_calculation=bool(case.latest_calculation.calculation),
        rate=case.latest_calculation.rate,
        applicant_is_paying_parent=applicant == case.paying_parent.name,
        own_benefits=frozenset(a.benefit for a in awards if not a.partner_award),
        couple_benefits=frozenset(a.benefit for a in awards),
        hmrc_unearned_annual_pence=(
            hmrc.total_annual_pence
            if hmrc is not None and hmrc.self_assessment_return_filed
            else None
        ),
    )


def record_application(
    db: Session,
    *,
    row: CaseRecord,
    case: pb.Case,
    variation: pb.Variation,
    variation_id: str,
    caller: Caller,
    clock: Clock,
    params: rules.VariationParameters = rules.DEFAULTS,
) -> pb.Variation:
    """Store a new application with its preliminary consideration: rejected (a notice to both parents), or waiting for
    the other parent's representations (a letter inviting them)."""
    today = clock.today()
    variation.name = f"cases/{row.id}/variations/{variation_id}"
    variation.application_date.CopyFrom(pb_date(today))
    variation.create_time.FromDatetime(clock.now())
    paying, receiving = _parents(case)
    variation.other_parent = receiving if variation.applicant == paying else paying
    hmrc = variation.hmrc_unearned_income if variation.HasField("hmrc_unearned_income") else None
    facts = facts_of(case, applicant=variation.applicant, today=today, hmrc=hmrc)
    rejection = rules.preliminary_consideration(variation, facts, params=params)
    if rejection is not None:
        variation.state, variation.rejection_reason = pb.VARIATION_STATE_REJECTED, rejection[0]
        variation.explanation = rejection[1]
        _notify(
            db,
            case_id=row.id,
            variation=variation,
            kind=pb.CORRESPONDENCE_KIND_VARIATION_DECISION_NOTICE,
            recipients=[variation.applicant, variation.other_parent],
            clock=clock,
        )
    else:
        variation.state = pb.VARIATION_STATE_AWAITING_REPRESENTATIONS
        variation.representations_due_date.CopyFrom(
            pb_date(rules.representations_due(today, params=params))
        )
        _notify(
            db,
            case_id=row.id,
            variation=variation,
            kind=pb.CORRESPONDENCE_KIND_VARIATION_REPRESENTATIONS_INVITATION,
            recipients=[variation.other_parent],
            clock=clock,
        )
    record = VariationRecord(
        id=variation_id,
        case_id=row.id,
        state="",
        ground=pb.VariationGround.Name(variation.ground),
        document=b"",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    _save(record, variation, clock)
    db.add(record)
    _announce(db, case_id=row.id, variation=variation, clock=clock)
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=variation.name)
    return variation


# -- reading -------------------------------------------------------------------------------------------------------


def visible(
    db: Session, *, name: str, caller: Caller, lock: bool = False
) -> tuple[CaseRecord, VariationRecord]:
    return case_records.visible_child(
        db,
        name=name,
        collection="variations",
        model=VariationRecord,
        what="variation",
        caller=caller,
        lock=lock,
    )


def get(db: Session, *, name: str, caller: Caller, clock: Clock) -> pb.Variation:
    case_row, row = visible(db, name=name, caller=caller)
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=name)
    return document(row)


def list_variations(
    db: Session, *, request: api.ListVariationsRequest, caller: Caller, clock: Clock
) -> api.ListVariationsResponse:
    case_row = case_records.visible_case(db, name=request.parent, caller=caller, field="parent")
    size, offset = page(request.page_size, request.page_token, maximum=200)
    q = select(VariationRecord).where(VariationRecord.case_id == case_row.id)
    if request.state:
        q = q.where(VariationRecord.state == V.Name(request.state))
    rows = db.scalars(
        q.order_by(VariationRecord.created_at.desc(), VariationRecord.id)
        .offset(offset)
        .limit(size + 1)
    ).all()
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=request.parent)
    return api.ListVariationsResponse(
        variations=[document(r) for r in rows[:size]],
        next_page_token=next_token(offset + size) if len(rows) > size else "",
    )


# -- evidence and representations ----------------------------------------------------------------------------------


def _open_for_change(variation: pb.Variation) -> None:
    if variation.state in FINAL:
        raise _precondition(
            "VARIATION_DECIDED",
            variation.name,
            f"the variation is {V.Name(variation.state).removeprefix('VARIATION_STATE_')}",
        )


def record_evidence(
    db: Session, *, request: api.RecordVariationEvidenceRequest, caller: Caller, clock: Clock
) -> pb.Variation:
    if not request.evidence or any(
        e.kind == pb.EVIDENCE_KIND_UNSPECIFIED for e in request.evidence
    ):
        raise InvalidArgument.field("evidence", "give at least one item, each of a known kind")
    case_row, row = visible(db, name=request.name, caller=caller, lock=True)
    variation = document(row)
    _open_for_change(variation)
    variation.evidence.extend(request.evidence)
    _save(row, variation, clock)
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=request.name)
    return variation


def record_representations(
    db: Session, *, request: api.RecordVariationRepresentationsRequest, caller: Caller, clock: Clock
) -> pb.Variation:
    if not request.representations.strip():
        raise InvalidArgument.field("representations", "say what the other parent said")
    case_row, row = visible(db, name=request.name, caller=caller, lock=True)
    variation = document(row)
    if (
        access_rules.role_of(caller) == access_rules.CLIENT
        and f"clients/{access_rules.client_id_of(caller)}" != variation.other_parent
    ):
        raise PermissionDenied(
            "only the other parent makes representations on a variation",
            reason="NOT_THE_OTHER_PARENT",
        )
    _open_for_change(variation)
    if variation.state != pb.VARIATION_STATE_AWAITING_REPRESENTATIONS:
        raise _precondition(
            "NOT_AWAITING_REPRESENTATIONS",
            variation.name,
            "representations have been recorded already",
        )
    variation.representations = request.representations.strip()
    variation.representations_time.FromDatetime(clock.now())
    variation.state = pb.VARIATION_STATE_READY_FOR_DECISION
    _save(row, variation, clock)
    _announce(db, case_id=case_row.id, variation=variation, clock=clock)
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=request.name)
    return variation


# -- deciding ------------------------------------------------------------------------------------------------------


def decide(
    db: Session,
    *,
    request: api.DecideVariationRequest,
    caller: Caller,
    clock: Clock,
) -> tuple[CaseRecord, VariationRecord, pb.Variation]:
    """Record the decision on the variation (not yet its change of circumstances, which flows raises in the same
    transaction): refused, or agreed with its amount and effective date. Notices go to both parents."""
    if request.outcome not in (pb.VARIATION_OUTCOME_AGREED, pb.VARIATION_OUTCOME_REFUSED):
        raise InvalidArgument.field("outcome", "choose agreed or refused")
    case_row, row = visible(db, name=request.name, caller=caller, lock=True)
    case = case_records.assemble(db, case_row)
    case_records.ensure_open(case)
    variation = document(row)
    _open_for_change(variation)
    today = clock.today()
    if not rules.decidable(variation.state, day_of(variation.representations_due_date), today):
        raise _precondition(
            "REPRESENTATIONS_PENDING",
            variation.name,
            f"the other parent has until {day_of(variation.representations_due_date)} to make representations",
        )
    variation.decided_by = caller.subject
    variation.decision_time.FromDatetime(clock.now())
    variation.outcome = request.outcome
    if request.outcome == pb.VARIATION_OUTCOME_REFUSED:
        variation.state = pb.VARIATION_STATE_REFUSED
        variation.explanation = rules.refused_explanation(variation, request.reason)
    else:
        problem = rules.evidence_problem(variation)
        if problem is not None:
            raise _precondition("EVIDENCE_INSUFFICIENT", variation.name, problem)
        if not case.latest_calculation.calculation:
            raise _precondition(
                "NO_CALCULATION", case.name, "there is no calculation in force to vary"
            )
        annual = rules.is_annual(variation.ground)
        given = request.agreed_annual_amount_pence if annual else request.agreed_weekly_amount_pence
        field = "agreed_annual_amount_pence" if annual else "agreed_weekly_amount_pence"
        amount = given or rules.default_agreed_amount(variation)
        problem = rules.agreed_amount_problem(variation, amount)
        if problem is not None:
            raise InvalidArgument.field(field, problem)
        application = day_of(variation.application_date) or today
        on = rules.effective_date(application, day_of(variation.ground_arose_date))
        variation.state = pb.VARIATION_STATE_AGREED
        if annual:
            variation.agreed_annual_amount_pence = amount
        else:
            variation.agreed_weekly_amount_pence = amount
        variation.effective_date.CopyFrom(pb_date(on))
        variation.explanation = rules.agreed_explanation(variation, amount, on, application)
        if request.reason.strip():
            variation.explanation = f"{variation.explanation} {request.reason.strip()}"
    _notify(
        db,
        case_id=case_row.id,
        variation=variation,
        kind=pb.CORRESPONDENCE_KIND_VARIATION_DECISION_NOTICE,
        recipients=[variation.applicant, variation.other_parent],
        clock=clock,
    )
    return case_row, row, variation


def finish_decision(
    db: Session,
    *,
    case_row: CaseRecord,
    row: VariationRecord,
    variation: pb.Variation,
    caller: Caller,
    clock: Clock,
) -> None:
    _save(row, variation, clock)
    _announce(db, case_id=case_row.id, variation=variation, clock=clock)
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=variation.name)


def agreed_change(variation: pb.Variation) -> pb.ChangeOfCircumstances:
    """The VARIATION_AGREED change that brings an agreed variation onto the case from its effective date."""
    change = pb.ChangeOfCircumstances(
        type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_VARIATION_AGREED,
        effective_date=variation.effective_date,
        reported_by=pb.REPORTER_CMS,
        note=variation.explanation[:2000],
        variation_agreed=pb.AgreedVariation(
            variation=variation.name,
            ground=variation.ground,
            weekly_amount_pence=variation.agreed_weekly_amount_pence,
            annual_amount_pence=variation.agreed_annual_amount_pence,
            period=common.DateRange(start_date=variation.effective_date),
        ),
    )
    return change
