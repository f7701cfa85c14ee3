"""Mandatory reconsiderations and revisions as stored: asked for (the time limits, one per decision, the other
parent invited to make representations), read (a parent sees their own side only), representations recorded, the
outcome and the appeal recorded, and revisions on the CMS's own initiative. What needs the calculation service or the
changes flow (finding the decision, revising it) is reconsiderations.flows. Keyword-only functions over an explicit
session: each state change, its event and its letters in one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from google.protobuf.message import Message
from google.type import date_pb2
from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import day_of, pb_date, strict_date
from cms_platform.errors import (
    AlreadyExists,
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
from ..names import new_id
from . import rules
from .models import ReconsiderationRecord, RevisionRecord

St = pb.MandatoryReconsiderationState


@dataclass(frozen=True)
class Decision:
    """A decision recorded on the case, as the calculation service holds it."""

    name: str
    notified: dt.date
    effective: dt.date


@dataclass(frozen=True)
class Revised:
    """What a revision through the changes flow did: the correction/revision change as applied, this case's weekly
    amount before and after, and the date the recalculation took effect from."""

    change: pb.ChangeOfCircumstances
    before: int
    after: int
    effective: dt.date


def document(row: ReconsiderationRecord) -> pb.MandatoryReconsideration:
    return pb.MandatoryReconsideration.FromString(row.document)


def save(row: ReconsiderationRecord, mr: pb.MandatoryReconsideration, clock: Clock) -> None:
    now = clock.now()
    mr.update_time.FromDatetime(now)
    row.state, row.document, row.updated_at = St.Name(mr.state), mr.SerializeToString(), now


def stored_day(date: date_pb2.Date) -> dt.date:
    """A date the reconsideration always holds once recorded (decision, request, due and outcome dates)."""
    day = day_of(date)
    if day is None:
        raise ValueError("a stored reconsideration date is missing")
    return day


def _precondition(code: str, subject: str, description: str) -> FailedPrecondition:
    return FailedPrecondition(PreconditionViolation(code, subject, description), reason=code)


def _as_seen_by(caller: Caller, mr: pb.MandatoryReconsideration) -> pb.MandatoryReconsideration:
    if access_rules.role_of(caller) == access_rules.CLIENT:
        return rules.for_client(mr, f"clients/{access_rules.client_id_of(caller)}")
    return mr


def _with_overdue(mr: pb.MandatoryReconsideration, today: dt.date) -> pb.MandatoryReconsideration:
    target = day_of(mr.clearance_target_date)
    mr.clearance_overdue = target is not None and rules.clearance_overdue(
        target, today, decided=mr.state != pb.MANDATORY_RECONSIDERATION_STATE_REQUESTED
    )
    return mr


def _publish(db: Session, *, case_id: str, message: Message, clock: Clock) -> None:
    outbox.publish(
        db, clock=clock, key=f"cases/{case_id}", subject=f"cases/{case_id}", message=message
    )


def other_parent(case: pb.Case, client: str) -> str:
    return (
        case.receiving_parent.name if client == case.paying_parent.name else case.paying_parent.name
    )


# -- asking -------------------------------------------------------------------------------------------------------


def check_request(request: api.RequestMandatoryReconsiderationRequest) -> None:
    """What can be refused before the decision is looked up."""
    mr = request.mandatory_reconsideration
    if not mr.decision.startswith("calculations/") or "/" in mr.decision.removeprefix(
        "calculations/"
    ):
        raise InvalidArgument.field(
            "mandatory_reconsideration.decision", "must look like calculations/{id}"
        )
    if not mr.grounds.strip():
        raise InvalidArgument.field(
            "mandatory_reconsideration.grounds", "say why the decision is thought wrong"
        )


def request(
    db: Session,
    *,
    request: api.RequestMandatoryReconsiderationRequest,
    decision: Decision,
    caller: Caller,
    clock: Clock,
    params: rules.DisputeParameters = rules.DEFAULTS,
) -> pb.MandatoryReconsideration:
    row = case_records.visible_case(
        db, name=request.parent, caller=caller, field="parent", lock=True
    )
    case = case_records.assemble(db, row)
    given = request.mandatory_reconsideration
    parents = (case.paying_parent.name, case.receiving_parent.name)
    if access_rules.role_of(caller) == access_rules.CLIENT:
        requester = f"clients/{access_rules.client_id_of(caller)}"
        if given.requesting_client and given.requesting_client != requester:
            raise PermissionDenied(
                "a parent may ask for a reconsideration only for themselves",
                reason="NOT_OWN_REQUEST",
            )
    else:
        requester = given.requesting_client
        if requester not in parents:
            raise InvalidArgument.field(
                "mandatory_reconsideration.requesting_client",
                "must be a parent on the case (the one the request is made for)",
            )
    today = clock.today()
    timing = rules.request_timing(decision.notified, today, params)
    if timing == rules.Timing.OUT_OF_TIME:
        raise _precondition(
            "RECONSIDERATION_OUT_OF_TIME",
            "mandatory_reconsideration.decision",
            f"the decision was notified more than {params.late_request_limit_months} months ago; it can no "
            "longer be reconsidered",
        )
    if timing == rules.Timing.LATE and not given.late_reason.strip():
        raise InvalidArgument.field(
            "mandatory_reconsideration.late_reason",
            f"the request is more than {params.request_days} days after the decision was notified; give the "
            "reason it is late",
        )
    existing = db.scalar(
        select(ReconsiderationRecord).where(
            ReconsiderationRecord.case_id == row.id,
            ReconsiderationRecord.decision == decision.name,
        )
    )
    if existing is not None:
        raise AlreadyExists(
            "mandatory reconsideration",
            f"cases/{row.id}/mandatoryReconsiderations/{existing.id}",
            message="this decision already has a mandatory reconsideration; there is one per decision",
        )
    now = clock.now()
    mr_id = new_id()
    mr = pb.MandatoryReconsideration(
        name=f"cases/{row.id}/mandatoryReconsiderations/{mr_id}",
        decision=decision.name,
        state=pb.MANDATORY_RECONSIDERATION_STATE_REQUESTED,
        requesting_client=requester,
        grounds=given.grounds.strip(),
        late_reason=given.late_reason.strip() if timing == rules.Timing.LATE else "",
        late=timing == rules.Timing.LATE,
        decision_date=pb_date(decision.notified),
        decision_effective_date=pb_date(decision.effective),
        request_date=pb_date(today),
        representations_due_date=pb_date(rules.representations_due(today, params)),
        clearance_target_date=pb_date(rules.clearance_target(today, params)),
        weekly_amount_before_pence=case.latest_calculation.weekly_amount_pence,
    )
    mr.create_time.FromDatetime(now)
    record = ReconsiderationRecord(
        id=mr_id,
        case_id=row.id,
        decision=decision.name,
        state="",
        document=b"",
        created_at=now,
        updated_at=now,
    )
    save(record, mr, clock)
    db.add(record)
    # The other parent is told and invited to say what they think (their representations, by the date given).
    correspondence.schedule(
        db,
        case_id=row.id,
        kind=pb.CORRESPONDENCE_KIND_RECONSIDERATION_INVITATION,
        recipient=other_parent(case, requester),
        clock=clock,
    )
    _publish(
        db,
        case_id=row.id,
        clock=clock,
        message=ev.MandatoryReconsiderationRequested(
            case_id=row.id,
            mandatory_reconsideration=mr.name,
            decision=decision.name,
            late=mr.late,
            clearance_target_date=mr.clearance_target_date,
        ),
    )
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=mr.name)
    return _as_seen_by(caller, _with_overdue(mr, today))


# -- reading ------------------------------------------------------------------------------------------------------


def visible(
    db: Session, *, name: str, caller: Caller, lock: bool = False
) -> tuple[CaseRecord, ReconsiderationRecord]:
    return case_records.visible_child(
        db,
        name=name,
        collection="mandatoryReconsiderations",
        model=ReconsiderationRecord,
        what="mandatory reconsideration",
        caller=caller,
        lock=lock,
    )


def get(db: Session, *, name: str, caller: Caller, clock: Clock) -> pb.MandatoryReconsideration:
    case_row, row = visible(db, name=name, caller=caller)
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=name)
    return _as_seen_by(caller, _with_overdue(document(row), clock.today()))


def list_for_case(
    db: Session,
    *,
    request: api.ListMandatoryReconsiderationsRequest,
    caller: Caller,
    clock: Clock,
) -> api.ListMandatoryReconsiderationsResponse:
    case_row = case_records.visible_case(db, name=request.parent, caller=caller, field="parent")
    size, offset = page(request.page_size, request.page_token, maximum=200)
    rows = db.scalars(
        select(ReconsiderationRecord)
        .where(ReconsiderationRecord.case_id == case_row.id)
        .order_by(ReconsiderationRecord.created_at.desc(), ReconsiderationRecord.id)
        .offset(offset)
        .limit(size + 1)
    ).all()
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=request.parent)
    today = clock.today()
    return api.ListMandatoryReconsiderationsResponse(
        mandatory_reconsiderations=[
            _as_seen_by(caller, _with_overdue(document(r), today)) for r in rows[:size]
        ],
        next_page_token=next_token(offset + size) if len(rows) > size else "",
    )


# -- representations ----------------------------------------------------------------------------------------------


def record_representations(
    db: Session,
    *,
    request: api.RecordReconsiderationRepresentationsRequest,
    caller: Caller,
    clock: Clock,
) -> pb.MandatoryReconsideration:
    if not request.text.strip():
        raise InvalidArgument.field("text", "say what the representations are")
    case_row, row = visible(db, name=request.name, caller=caller, lock=True)
    case = case_records.assemble(db, case_row)
    mr = document(row)
    invited = other_parent(case, mr.requesting_client)
    if access_rules.role_of(caller) == access_rules.CLIENT:
        me = f"clients/{access_rules.client_id_of(caller)}"
        if (request.client and request.client != me) or me != invited:
            raise PermissionDenied(
                "only the other parent is invited to make representations, for themselves",
                reason="NOT_INVITED",
            )
    elif request.client != invited:
        raise InvalidArgument.field(
            "client", "must be the other parent (the one who did not ask for the reconsideration)"
        )
    if mr.state != pb.MANDATORY_RECONSIDERATION_STATE_REQUESTED:
        raise _precondition(
            "RECONSIDERATION_DECIDED", mr.name, "the reconsideration has already been decided"
        )
    today = clock.today()
    if today > stored_day(mr.representations_due_date):
        raise _precondition(
            "REPRESENTATIONS_OUT_OF_TIME",
            mr.name,
            "the time allowed for representations has passed",
        )
    made = pb.ReconsiderationRepresentations(client=invited, text=request.text.strip())
    made.record_time.FromDatetime(clock.now())
    mr.representations.append(made)
    save(row, mr, clock)
    _publish(
        db,
        case_id=case_row.id,
        clock=clock,
        message=ev.ReconsiderationRepresentationsRecorded(
            case_id=case_row.id, mandatory_reconsideration=mr.name
        ),
    )
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=mr.name)
    return _as_seen_by(caller, _with_overdue(mr, today))


# -- the outcome ----------------------------------------------------------------------------------------------------


def ensure_undecided(mr: pb.MandatoryReconsideration) -> None:
    if mr.state != pb.MANDATORY_RECONSIDERATION_STATE_REQUESTED:
        raise _precondition(
            "RECONSIDERATION_DECIDED", mr.name, "the reconsideration has already been decided"
        )


def record_outcome(
    db: Session,
    *,
    name: str,
    outcome: pb.ReconsiderationOutcome.ValueType,
    reason: str,
    caller: Caller,
    clock: Clock,
    revised: Revised | None = None,
    params: rules.DisputeParameters = rules.DEFAULTS,
) -> pb.MandatoryReconsideration:
    """The reconsideration decided: its outcome explained, and the notice with appeal rights to both parents."""
    case_row, row = visible(db, name=name, caller=caller, lock=True)
    case = case_records.assemble(db, case_row)
    mr = document(row)
    ensure_undecided(mr)
    today = clock.today()
    cleared_late = today > stored_day(mr.clearance_target_date)
    effective = stored_day(mr.decision_effective_date)
    if revised is not None:  # the amounts either side of the revision, from the date it took effect
        mr.weekly_amount_before_pence, effective = revised.before, revised.effective
    after = mr.weekly_amount_before_pence if revised is None else revised.after
    mr.state = pb.MANDATORY_RECONSIDERATION_STATE_DECIDED
    mr.outcome, mr.outcome_reason = outcome, reason.strip()
    mr.outcome_date.CopyFrom(pb_date(today))
    mr.decided_by = caller.subject
    mr.weekly_amount_after_pence = after
    mr.appeal_deadline.CopyFrom(pb_date(rules.appeal_deadline(today, params)))
    if revised is not None:
        mr.change_of_circumstances = revised.change.name
        mr.revised_calculation = revised.change.calculation
    mr.explanation.CopyFrom(
        rules.explain_reconsideration(
            outcome=outcome,
            notified=stored_day(mr.decision_date),
            effective=effective,
            before=mr.weekly_amount_before_pence,
            after=after,
            reason=reason,
            late=mr.late,
            appeal_by=rules.appeal_deadline(today, params),
        ).message()
    )
    save(row, mr, clock)
    correspondence.notify_parents(
        db,
        case=case,
        case_id=case_row.id,
        kind=pb.CORRESPONDENCE_KIND_MANDATORY_RECONSIDERATION_NOTICE,
        clock=clock,
        service_request=revised.change.service_request if revised is not None else "",
    )
    _publish(
        db,
        case_id=case_row.id,
        clock=clock,
        message=ev.MandatoryReconsiderationDecided(
            case_id=case_row.id,
            mandatory_reconsideration=mr.name,
            decision=mr.decision,
            outcome=outcome,
            revised_calculation=mr.revised_calculation,
            cleared_late=cleared_late,
            appeal_deadline=mr.appeal_deadline,
        ),
    )
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=mr.name)
    return _with_overdue(mr, today)


# -- the appeal -----------------------------------------------------------------------------------------------------


def lodge_appeal(
    db: Session,
    *,
    request: api.LodgeAppealRequest,
    caller: Caller,
    clock: Clock,
    params: rules.DisputeParameters = rules.DEFAULTS,
) -> pb.MandatoryReconsideration:
    try:
        lodged = strict_date(request.lodge_date)
    except ValueError as bad:
        raise InvalidArgument.field("lodge_date", str(bad)) from None
    if lodged is None:
        raise InvalidArgument.field("lodge_date", "give the date the appeal reached the tribunal")
    if lodged > clock.today():
        raise InvalidArgument.field("lodge_date", "cannot be in the future")
    case_row, row = visible(db, name=request.name, caller=caller, lock=True)
    mr = document(row)
    if mr.state == pb.MANDATORY_RECONSIDERATION_STATE_REQUESTED:
        raise _precondition(
            "NOT_RECONSIDERED",
            mr.name,
            "an appeal lies only against a decision that has been reconsidered; decide the reconsideration "
            "and send its notice first",
        )
    if mr.HasField("appeal"):
        raise _precondition("APPEAL_LODGED", mr.name, "an appeal has already been lodged")
    notice = stored_day(mr.outcome_date)
    if lodged < notice:
        raise InvalidArgument.field("lodge_date", "is before the reconsideration notice")
    timing = rules.appeal_timing(notice, lodged, params)
    if timing == rules.Timing.OUT_OF_TIME:
        raise _precondition(
            "APPEAL_OUT_OF_TIME",
            "lodge_date",
            f"the appeal is more than {params.appeal_extension_limit_months} months after the month allowed "
            "from the reconsideration notice; the tribunal cannot admit it",
        )
    if timing == rules.Timing.LATE and not request.late_reason.strip():
        raise InvalidArgument.field(
            "late_reason",
            "the appeal is after the month allowed from the reconsideration notice; give the reason it is late",
        )
    mr.appeal.CopyFrom(
        pb.Appeal(
            lodge_date=pb_date(lodged),
            late=timing == rules.Timing.LATE,
            late_reason=request.late_reason.strip() if timing == rules.Timing.LATE else "",
            tribunal_reference=request.tribunal_reference.strip(),
        )
    )
    mr.state = pb.MANDATORY_RECONSIDERATION_STATE_APPEALED
    save(row, mr, clock)
    _publish(
        db,
        case_id=case_row.id,
        clock=clock,
        message=ev.AppealLodged(
            case_id=case_row.id,
            mandatory_reconsideration=mr.name,
            lodge_date=mr.appeal.lodge_date,
            late=mr.appeal.late,
        ),
    )
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=mr.name)
    return _with_overdue(mr, clock.today())


def ensure_appealed(mr: pb.MandatoryReconsideration) -> None:
    if mr.state != pb.MANDATORY_RECONSIDERATION_STATE_APPEALED:
        raise _precondition("NO_APPEAL_WAITING", mr.name, "no appeal is waiting for its outcome")


def record_appeal_outcome(
    db: Session,
    *,
    request: api.RecordAppealOutcomeRequest,
    decided: dt.date,
    caller: Caller,
    clock: Clock,
    revised: Revised | None = None,
) -> pb.MandatoryReconsideration:
    case_row, row = visible(db, name=request.name, caller=caller, lock=True)
    case = case_records.assemble(db, case_row)
    mr = document(row)
    ensure_appealed(mr)
    appeal = mr.appeal
    appeal.outcome = request.outcome
    appeal.outcome_date.CopyFrom(pb_date(decided))
    appeal.outcome_note = request.note.strip()
    kept = mr.weekly_amount_after_pence
    if revised is not None:
        appeal.change_of_circumstances = revised.change.name
        appeal.revised_calculation = revised.change.calculation
        mr.weekly_amount_after_pence = revised.after
    appeal.explanation.CopyFrom(
        rules.explain_appeal(
            outcome=request.outcome,
            decided=decided,
            effective=revised.effective
            if revised is not None
            else stored_day(mr.decision_effective_date),
            before=revised.before if revised is not None else kept,
            after=revised.after if revised is not None else kept,
            note=request.note,
        ).message()
    )
    mr.state = pb.MANDATORY_RECONSIDERATION_STATE_APPEAL_DECIDED
    save(row, mr, clock)
    correspondence.notify_parents(
        db,
        case=case,
        case_id=case_row.id,
        kind=pb.CORRESPONDENCE_KIND_APPEAL_OUTCOME_NOTICE,
        clock=clock,
        service_request=revised.change.service_request if revised is not None else "",
    )
    _publish(
        db,
        case_id=case_row.id,
        clock=clock,
        message=ev.AppealDecided(
            case_id=case_row.id,
            mandatory_reconsideration=mr.name,
            outcome=request.outcome,
            revised_calculation=appeal.revised_calculation,
        ),
    )
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=mr.name)
    return _with_overdue(mr, clock.today())


# -- revision on the CMS's own initiative -------------------------------------------------------------------------


def record_revision(
    db: Session,
    *,
    case_id: str,
    decision: Decision,
    reason: str,
    revised: Revised,
    caller: Caller,
    clock: Clock,
) -> pb.DecisionRevision:
    now = clock.now()
    revision_id = new_id()
    revision = pb.DecisionRevision(
        name=f"cases/{case_id}/decisionRevisions/{revision_id}",
        decision=decision.name,
        reason=reason.strip(),
        decision_date=pb_date(decision.notified),
        decision_effective_date=pb_date(decision.effective),
        change_of_circumstances=revised.change.name,
        revised_calculation=revised.change.calculation,
        weekly_amount_before_pence=revised.before,
        weekly_amount_after_pence=revised.after,
        explanation=rules.explain_revision(
            notified=decision.notified,
            effective=revised.effective,
            before=revised.before,
            after=revised.after,
            reason=reason,
        ).message(),
        revised_by=caller.subject,
    )
    revision.create_time.FromDatetime(now)
    db.add(
        RevisionRecord(
            id=revision_id,
            case_id=case_id,
            decision=decision.name,
            document=revision.SerializeToString(),
            created_at=now,
        )
    )
    _publish(
        db,
        case_id=case_id,
        clock=clock,
        message=ev.DecisionRevised(
            case_id=case_id,
            decision_revision=revision.name,
            decision=decision.name,
            revised_calculation=revised.change.calculation,
        ),
    )
    access.audit(db, clock=clock, caller=caller, case_id=case_id, resource=revision.name)
    return revision
