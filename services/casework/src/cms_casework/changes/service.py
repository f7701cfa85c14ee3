"""Changes of circumstances as the procedures require: reported (refused, with nothing recorded, when the report
lacks what its service request needs), verified (name, gender and date of birth then authorised by a team leader;
suspicious activity reviewed first), and applied in the sequencing table's order. Applying moves the case and its
clients, recalculates once when the liability may have moved, issues the new payment plan the same day, cancels
correspondence a later change made redundant and schedules one call after the last of several changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.errors import (
    Conflict,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    PermissionDenied,
    PreconditionViolation,
)
from cms_platform.idempotency import remember, replay
from cms_platform.identity import Caller
from cms_platform.paging import page

from .. import access, correspondence, store
from ..cases import application
from ..cases import service as cases
from ..downstream import Downstream
from ..models import CaseRecord, ChangeRecord, CorrespondenceRecord, ServiceRequestRecord
from ..service_requests import service as srs
from . import rules

S = pb.ChangeOfCircumstancesState
T = pb.ChangeOfCircumstancesType
PENDING = (
    S.Name(pb.CHANGE_OF_CIRCUMSTANCES_STATE_REPORTED),
    S.Name(pb.CHANGE_OF_CIRCUMSTANCES_STATE_AWAITING_AUTHORISATION),
    S.Name(pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED),
)
_INTERFACE_REPORTERS = {
    pb.REPORTER_HMRC: pb.SERVICE_REQUEST_ORIGIN_HMRC_INTERFACE,
    pb.REPORTER_CIS: pb.SERVICE_REQUEST_ORIGIN_DWP_INTERFACE,
    pb.REPORTER_CREDIT_REFERENCE_AGENCY: pb.SERVICE_REQUEST_ORIGIN_CRA_INTERFACE,
    pb.REPORTER_EMPLOYER: pb.SERVICE_REQUEST_ORIGIN_EMPLOYER_SELF_SERVICE,
}


def document(row: ChangeRecord) -> pb.ChangeOfCircumstances:
    return pb.ChangeOfCircumstances.FromString(row.document)


def save(row: ChangeRecord, change: pb.ChangeOfCircumstances, clock: Clock) -> None:
    row.state, row.document, row.updated_at = (
        S.Name(change.state),
        change.SerializeToString(),
        clock.now(),
    )


def _precondition(code: str, subject: str, description: str) -> FailedPrecondition:
    return FailedPrecondition(PreconditionViolation(code, subject, description), reason=code)


def _completed(db: Session, clock: Clock, case_id: str, change: pb.ChangeOfCircumstances) -> None:
    change.complete_time.FromDatetime(clock.now())
    store.publish(
        db,
        clock,
        f"cases/{case_id}",
        ev.ChangeOfCircumstancesCompleted(
            case_id=case_id,
            change_of_circumstances=change.name,
            type=change.type,
            state=change.state,
            effective_date=change.effective_date,
            liability_changed=change.liability_changed,
            calculation=change.calculation,
        ),
    )


def _sr_row(db: Session, change: pb.ChangeOfCircumstances) -> ServiceRequestRecord | None:
    if not change.service_request:
        return None
    return db.get(
        ServiceRequestRecord, change.service_request.rsplit("/", 1)[-1], with_for_update=True
    )


def _close_sr(
    db: Session,
    change: pb.ChangeOfCircumstances,
    resolution: int,
    clock: Clock,
    note: str,
    status: int = pb.SERVICE_REQUEST_STATUS_CLOSED,
    sub: int = pb.SERVICE_REQUEST_SUB_STATUS_COMPLETE,
) -> None:
    row = _sr_row(db, change)
    if row is not None and srs.document(row).status not in srs.FINAL:
        srs.move(
            db,
            row=row,
            status=status,
            sub_status=sub,
            resolution_code=resolution,
            note=note,
            clock=clock,
            changed_by="casework",
        )


# -- reporting -----------------------------------------------------------------------------------------------------


def report(
    db: Session,
    *,
    request: api.ReportChangeOfCircumstancesRequest,
    caller: Caller,
    clock: Clock,
    source_event_id: str = "",
) -> pb.ChangeOfCircumstances:
    row = cases.visible_row(
        db,
        name=request.parent,
        caller=caller,
        method="ReportChangeOfCircumstances",
        clock=clock,
        field="parent",
        lock=True,
    )
    case = store.assemble(db, row)
    if case.state == pb.CASE_STATE_CLOSED:
        raise _precondition("CASE_CLOSED", case.name, "the case is closed")
    change = pb.ChangeOfCircumstances()
    change.CopyFrom(request.change_of_circumstances)
    for output_only in (
        "name",
        "state",
        "report_time",
        "sequence_step",
        "service_request",
        "requires_team_leader_authorisation",
        "suspicious_activity",
        "related_changes",
        "verified_by",
        "authorised_by",
        "liability_changed",
        "calculation",
        "superseded_by",
        "source_event_id",
        "complete_time",
    ):
        change.ClearField(output_only)
    try:
        kind = rules.kind_of(change.type)
    except KeyError:
        raise InvalidArgument.field(
            "change_of_circumstances.type", "choose a type of change"
        ) from None
    if access.role_of(caller) == access.CLIENT:
        me = f"clients/{access.client_id_of(caller)}"
        change.reporting_client = me
        change.reported_by = (
            pb.REPORTER_PAYING_PARENT
            if me == case.paying_parent.name
            else pb.REPORTER_RECEIVING_PARENT
        )
        if (
            change.type == T.Value("CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_CONTACT_PREFERENCES")
            and change.contact_preferences_change.client != me
        ):
            raise PermissionDenied(
                "a client may change only their own contact preferences",
                reason="NOT_OWN_CONTACT_PREFERENCES",
            )
    elif change.reporting_client and change.reporting_client not in (
        case.paying_parent.name,
        case.receiving_parent.name,
    ):
        # Letters and the call after the change go to the reporting client: it must be one on the case.
        raise InvalidArgument.field(
            "change_of_circumstances.reporting_client", "must be a parent on the case"
        )
    missing = rules.missing_information(change, case)
    if missing:
        # Procedure: no SR without what it needs to go In Progress; the client is asked to call back.
        raise InvalidArgument(
            [
                FieldViolation(
                    f"change_of_circumstances.{path}",
                    "is needed before this change can be progressed",
                )
                for path in missing
            ]
        )
    if change.WhichOneof("details") == "security_details_change":
        # The answer is input only (SecurityDetails): like the client record, the change keeps only that one is held.
        security = change.security_details_change.new_security_details
        security.security_answer_set = bool(security.security_answer.strip())
        security.ClearField("security_answer")
    now = clock.now()
    change_id = store.new_id()
    change.name = f"cases/{row.id}/changesOfCircumstances/{change_id}"
    change.state = pb.CHANGE_OF_CIRCUMSTANCES_STATE_REPORTED
    change.report_time.FromDatetime(now)
    change.sequence_step = rules.sequence_step(change, case)
    change.requires_team_leader_authorisation = kind.team_leader_authorisation
    if source_event_id:
        change.source_event_id = source_event_id
    origin = srs.origin_of(caller)
    if origin == pb.SERVICE_REQUEST_ORIGIN_SYSTEM:
        origin = _INTERFACE_REPORTERS.get(change.reported_by, origin)
    sr_row, sr = srs.raise_sr(
        db,
        case_row=row,
        process=kind.process,
        area=kind.area,
        sub_area=kind.sub_area,
        description=change.note or kind.sub_area,
        origin=origin,
        clock=clock,
        change=change.name,
    )
    change.service_request = sr.name
    # From an interface (HMRC, CIS) with its own evidence: verified at source, unless a team leader must authorise.
    if (
        access.role_of(caller) == access.SERVICE
        and any(e.kind == pb.EVIDENCE_KIND_INTERFACE for e in change.evidence)
        and not kind.team_leader_authorisation
    ):
        change.state = pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED
        change.verified_by = caller.subject
        srs.move(
            db,
            row=sr_row,
            status=pb.SERVICE_REQUEST_STATUS_IN_PROGRESS,
            clock=clock,
            changed_by=caller.subject,
        )
    record = ChangeRecord(
        id=change_id,
        case_id=row.id,
        state="",
        type=T.Name(change.type),
        subject_client=rules.subject_client(change),
        source_event_id=source_event_id or None,
        document=b"",
        created_at=now,
        updated_at=now,
    )
    # Every live change for the client counts (rules.suspicious_related leaves out the withdrawn, declined and
    # superseded), an address change already applied as much as one still pending.
    others = (
        [
            document(r)
            for r in db.scalars(
                select(ChangeRecord).where(
                    ChangeRecord.case_id == row.id,
                    ChangeRecord.subject_client == record.subject_client,
                )
            )
        ]
        if record.subject_client
        else []
    )
    related = rules.suspicious_related(change, others)
    if related:
        change.suspicious_activity = True
        change.related_changes.extend(related)
        for other_row in db.scalars(
            select(ChangeRecord).where(ChangeRecord.id.in_([n.rsplit("/", 1)[-1] for n in related]))
        ):
            other = document(other_row)
            other.suspicious_activity = True
            if change.name not in other.related_changes:
                other.related_changes.append(change.name)
            save(other_row, other, clock)
        store.publish(
            db,
            clock,
            case.name,
            ev.SuspiciousActivityFlagged(
                case_id=row.id,
                client=record.subject_client,
                changes_of_circumstances=[change.name, *related],
                types=[change.type],
            ),
        )
    if change.type == T.Value("CHANGE_OF_CIRCUMSTANCES_TYPE_DEATH_OF_CLIENT"):
        _suppress_contact(db, change.death_of_client.client, clock)
    save(record, change, clock)
    db.add(record)
    store.publish(
        db,
        clock,
        case.name,
        ev.ChangeOfCircumstancesReported(
            case_id=row.id,
            change_of_circumstances=change.name,
            type=change.type,
            effective_date=change.effective_date,
            reported_by=change.reported_by,
            sequence_step=change.sequence_step,
            service_request=sr.name,
            requires_team_leader_authorisation=change.requires_team_leader_authorisation,
        ),
    )
    access.audit(
        db,
        clock=clock,
        caller=caller,
        method="ReportChangeOfCircumstances",
        case_id=row.id,
        resource=change.name,
        permitted=True,
    )
    return change


def _suppress_contact(db: Session, client_name: str, clock: Clock) -> None:
    """A death notification suppresses contact with that client at once, before it is verified."""
    client_row = store.client_row(db, store.id_from(client_name, "clients", "client"), lock=True)
    client = store.client_document(client_row)
    client.contact_suppressed = True
    store.save_client(client_row, client, clock)
    correspondence.suppress_for(db, recipient=client_name)


# -- reading -------------------------------------------------------------------------------------------------------


def _visible_change(
    db: Session, *, name: str, caller: Caller, method: str, clock: Clock, lock: bool = False
) -> tuple[CaseRecord, ChangeRecord]:
    return cases.visible_child(
        db,
        name=name,
        collection="changesOfCircumstances",
        model=ChangeRecord,
        what="change of circumstances",
        caller=caller,
        method=method,
        clock=clock,
        lock=lock,
    )


def get(db: Session, *, name: str, caller: Caller, clock: Clock) -> pb.ChangeOfCircumstances:
    case_row, row = _visible_change(
        db, name=name, caller=caller, method="GetChangeOfCircumstances", clock=clock
    )
    access.audit(
        db,
        clock=clock,
        caller=caller,
        method="GetChangeOfCircumstances",
        case_id=case_row.id,
        resource=name,
        permitted=True,
    )
    return document(row)


def list_changes(
    db: Session, *, request: api.ListChangesOfCircumstancesRequest, caller: Caller, clock: Clock
) -> api.ListChangesOfCircumstancesResponse:
    case_row = cases.visible_row(
        db,
        name=request.parent,
        caller=caller,
        method="ListChangesOfCircumstances",
        clock=clock,
        field="parent",
    )
    case = store.assemble(db, case_row)
    q = select(ChangeRecord).where(ChangeRecord.case_id == case_row.id)
    if request.state:
        q = q.where(ChangeRecord.state == S.Name(request.state))
    if request.type:
        q = q.where(ChangeRecord.type == T.Name(request.type))
    found = [
        document(r) for r in db.scalars(q.order_by(ChangeRecord.created_at.desc(), ChangeRecord.id))
    ]
    pending = [c for c in found if S.Name(c.state) in PENDING]
    done = [c for c in found if S.Name(c.state) not in PENDING]
    ordered = (
        rules.order_for_application(pending, case) + done
    )  # pending in sequencing order, then newest first
    size, offset = page(request.page_size, request.page_token, maximum=500)
    access.audit(
        db,
        clock=clock,
        caller=caller,
        method="ListChangesOfCircumstances",
        case_id=case_row.id,
        resource=request.parent,
        permitted=True,
    )
    return api.ListChangesOfCircumstancesResponse(
        changes_of_circumstances=ordered[offset : offset + size],
        next_page_token=str(offset + size) if len(ordered) > offset + size else "",
    )


# -- verification and authorisation --------------------------------------------------------------------------------


def verify(
    db: Session, *, request: api.VerifyChangeOfCircumstancesRequest, caller: Caller, clock: Clock
) -> pb.ChangeOfCircumstances:
    if request.outcome not in api.VerificationOutcome.values() or not request.outcome:
        raise InvalidArgument.field("outcome", "choose verified or declined")
    case_row, row = _visible_change(
        db,
        name=request.name,
        caller=caller,
        method="VerifyChangeOfCircumstances",
        clock=clock,
        lock=True,
    )
    change = document(row)
    if change.state != pb.CHANGE_OF_CIRCUMSTANCES_STATE_REPORTED:
        raise _precondition(
            "NOT_AWAITING_VERIFICATION",
            change.name,
            f"the change is {S.Name(change.state).removeprefix('CHANGE_OF_CIRCUMSTANCES_STATE_')}",
        )
    change.evidence.extend(request.evidence)
    if request.note:
        change.note = f"{change.note}\n{request.note}".strip()
    if request.outcome == api.VERIFICATION_OUTCOME_DECLINED:
        change.state = pb.CHANGE_OF_CIRCUMSTANCES_STATE_DECLINED
        change.verified_by = caller.subject
        _close_sr(
            db,
            change,
            pb.SERVICE_REQUEST_RESOLUTION_CODE_DECLINED,
            clock,
            "declined on verification",
        )
        _completed(db, clock, case_row.id, change)
    else:
        if change.suspicious_activity and not request.suspicious_activity_reviewed:
            raise _precondition(
                "SUSPICIOUS_ACTIVITY_NOT_REVIEWED",
                change.name,
                "the change is flagged for suspicious activity (close address or contact changes); "
                "review the flag and set suspicious_activity_reviewed",
            )
        problems = rules.verification_problems(change, list(change.evidence))
        if problems:
            raise FailedPrecondition(
                [PreconditionViolation("EVIDENCE_INSUFFICIENT", change.name, p) for p in problems],
                reason="EVIDENCE_INSUFFICIENT",
            )
        change.verified_by = caller.subject
        sr_row = _sr_row(db, change)
        if change.requires_team_leader_authorisation:
            change.state = pb.CHANGE_OF_CIRCUMSTANCES_STATE_AWAITING_AUTHORISATION
            sub = pb.SERVICE_REQUEST_SUB_STATUS_AWAITING_TEAM_LEADER_AUTHORISATION
            status = pb.SERVICE_REQUEST_STATUS_PENDING
        else:
            change.state = pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED
            sub, status = 0, pb.SERVICE_REQUEST_STATUS_IN_PROGRESS
        if sr_row is not None and srs.document(sr_row).status not in srs.FINAL:
            srs.move(
                db,
                row=sr_row,
                status=status,
                sub_status=sub,
                clock=clock,
                changed_by=caller.subject,
                note="verified",
            )
    save(row, change, clock)
    access.audit(
        db,
        clock=clock,
        caller=caller,
        method="VerifyChangeOfCircumstances",
        case_id=case_row.id,
        resource=request.name,
        permitted=True,
    )
    return change


def authorise(
    db: Session, *, request: api.AuthoriseChangeOfCircumstancesRequest, caller: Caller, clock: Clock
) -> pb.ChangeOfCircumstances:
    if request.decision not in api.AuthorisationDecision.values() or not request.decision:
        raise InvalidArgument.field("decision", "choose authorised or refused")
    case_row, row = _visible_change(
        db,
        name=request.name,
        caller=caller,
        method="AuthoriseChangeOfCircumstances",
        clock=clock,
        lock=True,
    )
    change = document(row)
    if change.state != pb.CHANGE_OF_CIRCUMSTANCES_STATE_AWAITING_AUTHORISATION:
        raise _precondition(
            "NOT_AWAITING_AUTHORISATION", change.name, "the change is not waiting for a team leader"
        )
    if change.verified_by == caller.subject:
        # Two pairs of eyes: whoever verified a change of identity details does not also authorise it.
        raise PermissionDenied(
            "the team leader who verified this change cannot also authorise it",
            reason="SAME_PERSON_VERIFIED",
        )
    change.authorised_by = caller.subject
    if request.note:
        change.note = f"{change.note}\n{request.note}".strip()
    if request.decision == api.AUTHORISATION_DECISION_AUTHORISED:
        change.state = pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED
        sr_row = _sr_row(db, change)
        if sr_row is not None and srs.document(sr_row).status not in srs.FINAL:
            srs.move(
                db,
                row=sr_row,
                status=pb.SERVICE_REQUEST_STATUS_IN_PROGRESS,
                clock=clock,
                changed_by=caller.subject,
                note="authorised by a team leader",
            )
    else:
        change.state = pb.CHANGE_OF_CIRCUMSTANCES_STATE_DECLINED
        _close_sr(
            db,
            change,
            pb.SERVICE_REQUEST_RESOLUTION_CODE_DECLINED,
            clock,
            "refused by a team leader",
        )
        _completed(db, clock, case_row.id, change)
    save(row, change, clock)
    access.audit(
        db,
        clock=clock,
        caller=caller,
        method="AuthoriseChangeOfCircumstances",
        case_id=case_row.id,
        resource=request.name,
        permitted=True,
    )
    return change


def withdraw(db: Session, *, name: str, clock: Clock) -> None:
    """Its service request was cancelled: the change is withdrawn (if not already final)."""
    _, change_id = store.child_of(name, "changesOfCircumstances", "name")
    row = db.get(ChangeRecord, change_id, with_for_update=True)
    if row is None or row.state not in PENDING:
        return
    change = document(row)
    change.state = pb.CHANGE_OF_CIRCUMSTANCES_STATE_WITHDRAWN
    _completed(db, clock, row.case_id, change)
    save(row, change, clock)


def withdraw_pending(db: Session, *, case_id: str, clock: Clock) -> int:
    """The case closed on request: every change still pending is withdrawn (its SR is closed with the case)."""
    rows = db.scalars(
        select(ChangeRecord)
        .where(ChangeRecord.case_id == case_id, ChangeRecord.state.in_(PENDING))
        .with_for_update()
    ).all()
    for row in rows:
        change = document(row)
        change.state = pb.CHANGE_OF_CIRCUMSTANCES_STATE_WITHDRAWN
        _completed(db, clock, case_id, change)
        save(row, change, clock)
    return len(rows)


# -- applying ------------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What applying the pending changes does, worked out on copies before anything is written."""

    case: pb.Case
    clients: dict[str, pb.Client]
    changes: list[pb.ChangeOfCircumstances] = field(default_factory=list)
    needs_calculation: bool = False
    effective: dt.date | None = None
    closure: tuple[int, dt.date, str] | None = None
    deaths: list[tuple[str, dt.date]] = field(default_factory=list)
    # Verified benefit starts and ends, replayed on DWP's awards for the recalculation.
    benefit_changes: list[tuple[pb.BenefitDetailsChange, dt.date]] = field(default_factory=list)
    # Why the one recalculation is made: a correction or revision among the changes makes it one.
    calculation_reason: int = pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES


_QC_END = {
    "CHANGE_OF_CIRCUMSTANCES_TYPE_QC_NOT_IN_FULL_TIME_EDUCATION": pb.CHILD_END_REASON_NOT_IN_FULL_TIME_EDUCATION,
    "CHANGE_OF_CIRCUMSTANCES_TYPE_CHILD_TURNS_20": pb.CHILD_END_REASON_TURNED_20,
    "CHANGE_OF_CIRCUMSTANCES_TYPE_DEATH_OF_QC": pb.CHILD_END_REASON_DIED,
    "CHANGE_OF_CIRCUMSTANCES_TYPE_QC_ROC_ADOPTED": pb.CHILD_END_REASON_ADOPTED,
    "CHANGE_OF_CIRCUMSTANCES_TYPE_PWC_NOT_PRIMARY_CARER_OF_QC": pb.CHILD_END_REASON_NOT_PRIMARY_CARER,
    "CHANGE_OF_CIRCUMSTANCES_TYPE_NRP_NOT_THE_PARENT": pb.CHILD_END_REASON_PAYING_PARENT_NOT_THE_PARENT,
}
_ROC_END = {
    "CHANGE_OF_CIRCUMSTANCES_TYPE_DEATH_OF_ROC": pb.CHILD_END_REASON_DIED,
    # The rules let a ROC or CIFBA turn 20 too (rules._CHILDREN_OF), not only a QC.
    "CHANGE_OF_CIRCUMSTANCES_TYPE_CHILD_TURNS_20": pb.CHILD_END_REASON_TURNED_20,
    "CHANGE_OF_CIRCUMSTANCES_TYPE_ROC_NOT_IN_FULL_TIME_EDUCATION": pb.CHILD_END_REASON_NOT_IN_FULL_TIME_EDUCATION,
    "CHANGE_OF_CIRCUMSTANCES_TYPE_NRP_NOT_PRIMARY_CARER_OF_ROC": pb.CHILD_END_REASON_NOT_PRIMARY_CARER,
    "CHANGE_OF_CIRCUMSTANCES_TYPE_QC_ROC_ADOPTED": pb.CHILD_END_REASON_ADOPTED,
}
_PAYMENT_FIELD = {
    "CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_TO_METHOD_OF_PAYMENT_FROM": "method_of_payment_from",
    "CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_TO_METHOD_OF_PAYMENT_TO": "method_of_payment_to",
    "CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_TO_SERVICE_TYPE": "service_type",
    "CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_PAYMENT_FREQUENCY": "payment_frequency",
}


def _effective(change: pb.ChangeOfCircumstances) -> dt.date:
    return (
        store.day_of(change.effective_date) or change.report_time.ToDatetime(tzinfo=dt.UTC).date()
    )


def _end_child(children, child_id: str, reason: int, on: dt.date) -> None:
    for child in children:
        if child.child_id == child_id and not child.end_date.year:
            child.end_date.CopyFrom(store.pb_date(on))
            child.end_reason = reason


def _change_benefits(awards, detail: pb.BenefitDetailsChange, on: dt.date) -> None:
    """Apply a verified benefit start or end to `awards` (the client's record, or DWP's list for the calculation)."""
    open_awards = [
        a
        for a in awards
        if a.benefit == detail.benefit
        and a.partner_award == detail.partner_award
        and not a.period.end_date.year
    ]
    if detail.change == pb.BENEFIT_CHANGE_ENDED:
        for award in open_awards:
            award.period.end_date.CopyFrom(store.pb_date(on))
    elif detail.change == pb.BENEFIT_CHANGE_STARTED and not open_awards:
        awards.append(
            pb.BenefitAward(
                benefit=detail.benefit,
                partner_award=detail.partner_award,
                period={"start_date": store.pb_date(on)},
            )
        )


def _live_qcs(case: pb.Case) -> int:
    return sum(1 for c in case.qualifying_children if not c.end_date.year)


def _apply_one(
    out: Outcome,
    change: pb.ChangeOfCircumstances,
    *,
    params: rules.ChangeParameters,
    today: dt.date,
) -> None:
    """Apply one verified change to the copies in `out` and set its final state."""
    case, name = out.case, T.Name(change.type)
    kind = rules.kind_of(change.type)
    on = _effective(change)
    change.state = pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED
    detail = getattr(change, change.WhichOneof("details")) if change.WhichOneof("details") else None
    client = out.clients.get(rules.subject_client(change)) if rules.subject_client(change) else None
    if name == "CHANGE_OF_CIRCUMSTANCES_TYPE_CONFIRM_CURRENT_LOCATION":
        client.resident_outside_uk = detail.resident_outside_uk
        if detail.HasField("address"):
            client.address.CopyFrom(detail.address)
        if detail.resident_outside_uk:
            out.closure = (pb.CASE_CLOSURE_REASON_OUTSIDE_JURISDICTION, on, change.name)
    elif name == "CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_ADDRESS_DETAILS":
        client.address.CopyFrom(detail.new_address)
    elif name == "CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_CONTACT_DETAILS":
        client.contact_details.CopyFrom(detail.new_contact_details)
    elif name == "CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_SECURITY_DETAILS":
        client.security_details.security_question = detail.new_security_details.security_question
        client.security_details.security_answer_set = (
            detail.new_security_details.security_answer_set
        )
    elif name == "CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_CONTACT_PREFERENCES":
        client.contact_preferences.CopyFrom(detail.new_contact_preferences)
    elif name == "CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_PERSONAL_DETAILS":
        if detail.HasField("new_name"):
            client.identity.name.CopyFrom(detail.new_name)
        if detail.new_gender:
            client.gender = detail.new_gender
        if detail.new_date_of_birth.year:
            client.identity.date_of_birth.CopyFrom(detail.new_date_of_birth)
    elif name == "CHANGE_OF_CIRCUMSTANCES_TYPE_ACTIVATE_CLIENT_REPRESENTATIVE":
        rep = client.representatives.add()
        rep.CopyFrom(detail.representative)
        rep.name = f"{client.name}/representatives/{store.new_id()[:8]}"
        rep.active = True
        rep.active_period.start_date.CopyFrom(store.pb_date(on))
    elif name == "CHANGE_OF_CIRCUMSTANCES_TYPE_DEACTIVATE_CLIENT_REPRESENTATIVE":
        for rep in client.representatives:
            if rep.name == detail.representative_name and rep.active:
                rep.active = False
                rep.active_period.end_date.CopyFrom(store.pb_date(on))
    elif name in (
        "CHANGE_OF_CIRCUMSTANCES_TYPE_NRP_NOT_THE_PARENT",
        "CHANGE_OF_CIRCUMSTANCES_TYPE_PARENTAGE_DISPUTE",
    ):
        last = rules.closes_case_now(change, case)
        if name.endswith("PARENTAGE_DISPUTE") and not last:
            for child in case.qualifying_children:
                if child.child_id == detail.child_id:
                    child.parentage_disputed = True
        else:
            _end_child(
                case.qualifying_children,
                detail.child_id,
                pb.CHILD_END_REASON_PAYING_PARENT_NOT_THE_PARENT,
                on,
            )
        if last:
            out.closure = (pb.CASE_CLOSURE_REASON_PAYING_PARENT_NOT_THE_PARENT, on, change.name)
    elif name == "CHANGE_OF_CIRCUMSTANCES_TYPE_PWC_AND_NRP_RECONCILED":
        out.closure = (pb.CASE_CLOSURE_REASON_PARENTS_RECONCILED, on, change.name)
    elif name == "CHANGE_OF_CIRCUMSTANCES_TYPE_DEATH_OF_CLIENT":
        client.date_of_death.CopyFrom(store.pb_date(on))
        client.contact_suppressed = True
        out.deaths.append((client.name, on))
        out.closure = (
            (
                pb.CASE_CLOSURE_REASON_DEATH_OF_PAYING_PARENT
                if client.name == case.paying_parent.name
                else pb.CASE_CLOSURE_REASON_DEATH_OF_RECEIVING_PARENT
            ),
            on,
            change.name,
        )
    elif name in _QC_END or name in _ROC_END:
        if name in _QC_END:
            _end_child(case.qualifying_children, detail.child_id, _QC_END[name], on)
        if name in _ROC_END:
            _end_child(case.relevant_other_children, detail.child_id, _ROC_END[name], on)
            _end_child(
                case.children_in_family_based_arrangements, detail.child_id, _ROC_END[name], on
            )
        if _live_qcs(case) == 0:
            out.closure = (pb.CASE_CLOSURE_REASON_NO_QUALIFYING_CHILD, on, change.name)
    elif name == "CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_TO_DEO_EMPLOYMENT_DETAILS":
        out.clients[case.paying_parent.name].employment_and_income.employer.CopyFrom(detail)
    elif name in _PAYMENT_FIELD:
        setattr(case, _PAYMENT_FIELD[name], getattr(detail, _PAYMENT_FIELD[name]))
        if name.endswith(("PAYMENT_FREQUENCY", "SERVICE_TYPE")):
            # A new schedule in the new frequency (or with collection fees), issued the same day.
            out.needs_calculation = (
                True  # a new schedule (frequency, or fees), even if the liability holds
            )
    elif name == "CHANGE_OF_CIRCUMSTANCES_TYPE_SHARED_CARE":
        for child in case.qualifying_children:
            if child.child_id == detail.child_id:
                child.paying_parent_nights_per_year = detail.paying_parent_nights_per_year
    elif name in (
        "CHANGE_OF_CIRCUMSTANCES_TYPE_NEW_QC_IN_PWC_HOUSEHOLD",
        "CHANGE_OF_CIRCUMSTANCES_TYPE_NEW_ROC_IN_NRP_HOUSEHOLD",
        "CHANGE_OF_CIRCUMSTANCES_TYPE_NEW_CIFBA",
    ):
        group = {
            "CHANGE_OF_CIRCUMSTANCES_TYPE_NEW_QC_IN_PWC_HOUSEHOLD": case.qualifying_children,
            "CHANGE_OF_CIRCUMSTANCES_TYPE_NEW_ROC_IN_NRP_HOUSEHOLD": case.relevant_other_children,
            "CHANGE_OF_CIRCUMSTANCES_TYPE_NEW_CIFBA": case.children_in_family_based_arrangements,
        }[name]
        child = group.add(
            child_id=store.new_id()[:8],
            name=detail.name,
            date_of_birth=detail.date_of_birth,
            child_reference_number=detail.child_reference_number,
        )
        if name.endswith("PWC_HOUSEHOLD"):
            child.paying_parent_nights_per_year = detail.paying_parent_nights_per_year
    elif name == "CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_BENEFIT_DETAILS":
        _change_benefits(out.clients[case.paying_parent.name].benefits, detail, on)
        out.benefit_changes.append((detail, on))
    elif name == "CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_INCOME":
        payer = out.clients[case.paying_parent.name]
        held = payer.employment_and_income
        in_use = (
            held.current_gross_weekly_income_pence
            if held.current_income_source
            else case.latest_calculation.gross_weekly_income_pence
        )
        points, breached = rules.income_tolerance(
            in_use, detail.current_gross_weekly_income_pence, params=params
        )
        detail.change_basis_points = max(-(2**31), min(points, 2**31 - 1))  # int32 in the contract
        detail.tolerance_breached = breached
        if not breached:
            change.state = pb.CHANGE_OF_CIRCUMSTANCES_STATE_TOLERANCE_NOT_BREACHED
            return
        held.current_gross_weekly_income_pence = detail.current_gross_weekly_income_pence
        held.current_income_source = detail.source
        held.current_income_date.CopyFrom(store.pb_date(on))
    elif name == "CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_EMPLOYMENT_STATUS":
        held = out.clients[case.paying_parent.name].employment_and_income
        held.employment_status = detail.new_status
        if detail.HasField("employment"):
            held.employer.CopyFrom(detail.employment)
    if change.type == T.Value("CHANGE_OF_CIRCUMSTANCES_TYPE_CORRECTION_REVISION"):
        out.calculation_reason = pb.CALCULATION_REASON_CORRECTION_REVISION
    if kind.moves_liability and out.closure is None:
        out.needs_calculation = True
        out.effective = min(out.effective or on, on)


def plan_application(
    case: pb.Case,
    clients: dict[str, pb.Client],
    pending: list[pb.ChangeOfCircumstances],
    *,
    today: dt.date,
    params: rules.ChangeParameters = rules.DEFAULTS,
) -> Outcome:
    """Apply the verified changes to copies of the case and its clients in the sequencing table's order. A change that
    closes the case supersedes every change after it (step 4: whatever their effective dates)."""
    out = Outcome(case=pb.Case(), clients={})
    out.case.CopyFrom(case)
    for name, client in clients.items():
        out.clients[name] = pb.Client()
        out.clients[name].CopyFrom(client)
    for change in rules.order_for_application(pending, case):
        applied = pb.ChangeOfCircumstances()
        applied.CopyFrom(change)
        if out.closure is not None:
            applied.state = pb.CHANGE_OF_CIRCUMSTANCES_STATE_SUPERSEDED
            applied.superseded_by = out.closure[2]
        else:
            _apply_one(out, applied, params=params, today=today)
        out.changes.append(applied)
    if out.closure is not None:
        out.needs_calculation = False
    return out


_RESOLUTION = {
    pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED: pb.SERVICE_REQUEST_RESOLUTION_CODE_ACCEPTED,
    pb.CHANGE_OF_CIRCUMSTANCES_STATE_TOLERANCE_NOT_BREACHED: pb.SERVICE_REQUEST_RESOLUTION_CODE_TOLERANCE_NOT_BREACHED,
    pb.CHANGE_OF_CIRCUMSTANCES_STATE_SUPERSEDED: pb.SERVICE_REQUEST_RESOLUTION_CODE_SUPERSEDED,
}


def apply_pending(
    *,
    sessions: sessionmaker,
    request: api.ApplyChangesOfCircumstancesRequest,
    caller: Caller,
    clock: Clock,
    downstream: Downstream,
    context=None,
) -> api.ApplyChangesOfCircumstancesResponse:
    method, response_type = "ApplyChangesOfCircumstances", api.ApplyChangesOfCircumstancesResponse
    with sessions() as s:
        previous = replay(s, method=method, request=request, response_type=response_type)
        if previous is not None:
            return previous
        row = cases.visible_row(
            s, name=request.parent, caller=caller, method=method, clock=clock, field="parent"
        )
        case = store.assemble(s, row)
        version = row.version
        pending = [
            document(r)
            for r in s.scalars(
                select(ChangeRecord).where(
                    ChangeRecord.case_id == row.id,
                    ChangeRecord.state == S.Name(pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED),
                )
            )
        ]
        clients = {
            case.paying_parent.name: case.paying_parent,
            case.receiving_parent.name: case.receiving_parent,
        }
        covered = [store.assemble(s, r) for r in application.live_cases_of(s, row)[1:]]
    if case.state == pb.CASE_STATE_CLOSED:
        raise _precondition("CASE_CLOSED", case.name, "the case is closed")
    today = clock.today()
    out = plan_application(case, clients, pending, today=today)
    calculation = None
    if out.needs_calculation and case.HasField("latest_calculation"):
        # One recalculation for everything applied, from the earliest effective date among them (never before the
        # first calculation), on the case as it will be.
        effective = max(
            out.effective or today, store.day_of(case.latest_calculation.effective_date)
        )
        income = application.gather_income(out.case, downstream=downstream, context=context)
        for detail, on in out.benefit_changes:  # verified here, perhaps not yet known to DWP
            _change_benefits(income.benefits, detail, on)
        calc_input = application.calculation_input(
            cases=[out.case, *covered],
            payer=out.clients[case.paying_parent.name],
            income=income,
            effective=effective,
            this_case=out.case,
        )
        calculation = application.request_calculation(
            downstream=downstream,
            case=out.case,
            calc_input=calc_input,
            reason=out.calculation_reason,
            request_id=request.request_id,
            context=context,
        )
    with sessions.begin() as s:
        previous = replay(s, method=method, request=request, response_type=response_type)
        if previous is not None:
            return previous
        row = store.case_row(s, row.id, lock=True)
        if row.version != version:
            raise Conflict("the case changed while its changes were being applied; apply again")
        response = _record_application(
            s, row=row, out=out, calculation=calculation, caller=caller, clock=clock
        )
        remember(s, method=method, request=request, response=response, clock=clock)
        return response


def _record_application(
    s: Session, *, row: CaseRecord, out: Outcome, calculation, caller: Caller, clock: Clock
) -> api.ApplyChangesOfCircumstancesResponse:
    response = api.ApplyChangesOfCircumstancesResponse()
    for name, client in out.clients.items():
        client_row = store.client_row(s, name.removeprefix("clients/"), lock=True)
        store.save_client(client_row, client, clock)
    for client_name, died in out.deaths:
        client_id = client_name.removeprefix("clients/")
        on_cases = s.scalars(
            select(CaseRecord.id)
            .where(
                or_(
                    CaseRecord.paying_parent_client_id == client_id,
                    CaseRecord.receiving_parent_client_id == client_id,
                )
            )
            .order_by(CaseRecord.created_at, CaseRecord.id)
        ).all()
        store.publish(
            s,
            clock,
            client_name,
            ev.ClientDeathRecorded(
                client_id=client_id,
                nino=out.clients[client_name].identity.nino,
                date_of_death=store.pb_date(died),
                cases=[f"cases/{case_id}" for case_id in on_cases],
            ),
        )  # every case the client is on (the contract)
    store.save_case(row, out.case, clock)
    plan = ""
    if calculation is not None:
        before = out.case.latest_calculation.weekly_amount_pence
        _, plan = application.record_calculation(
            s, row=row, calculation=calculation, reason=out.calculation_reason, clock=clock
        )
        moved = store.assemble(s, row).latest_calculation.weekly_amount_pence != before or bool(
            plan
        )
    else:
        moved = False
    completed_for: dict[str, list[dt.datetime]] = {}
    for change in out.changes:
        change_row = s.get(ChangeRecord, change.name.rsplit("/", 1)[-1], with_for_update=True)
        if (
            change.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED
            and calculation is not None
            and rules.kind_of(change.type).moves_liability
        ):
            change.liability_changed, change.calculation = moved, calculation.name
        _close_sr(
            s,
            change,
            _RESOLUTION[change.state],
            clock,
            S.Name(change.state)
            .removeprefix("CHANGE_OF_CIRCUMSTANCES_STATE_")
            .lower()
            .replace("_", " "),
        )
        _completed(s, clock, row.id, change)
        save(change_row, change, clock)
        response.changes_of_circumstances.append(change)
        recipient = change.reporting_client or ""
        if recipient and change.state != pb.CHANGE_OF_CIRCUMSTANCES_STATE_SUPERSEDED:
            letter = correspondence.schedule(
                s,
                case_row=row,
                kind=pb.CORRESPONDENCE_KIND_CHANGE_OUTCOME,
                recipient=recipient,
                clock=clock,
                service_request=change.service_request,
            )
            # Several changes done the same day: the last outcome letter says it all.
            response.cancelled_correspondence.extend(
                correspondence.cancel_redundant(
                    s,
                    case_id=row.id,
                    kinds=(pb.CORRESPONDENCE_KIND_CHANGE_OUTCOME,),
                    recipient=recipient,
                    superseded_by=letter.name,
                    clock=clock,
                )
            )
            completed_for.setdefault(recipient, []).append(clock.now())
    if out.closure is not None:
        # After the changes' own SRs are closed with their resolutions: closing the case closes whatever SR is still
        # open as Not Required. Changes not yet verified are superseded by the closure too.
        reason, on, closing = out.closure
        _supersede_unverified(s, case_id=row.id, closing=closing, clock=clock)
        cases.close_case(
            s,
            row=row,
            case=store.assemble(s, row),
            reason=reason,
            effective=on,
            note="",
            clock=clock,
            change=closing,
        )
    if plan:
        response.payment_plan = plan
    # Everything this application made redundant: earlier outcome letters, and the notices and plans a new
    # calculation replaced (cancelled where they were superseded, in application.record_calculation).
    response.ClearField("cancelled_correspondence")
    response.cancelled_correspondence.extend(dict.fromkeys(correspondence.cancelled_in(s)))
    response.client_call = _schedule_call(s, row=row, completed_for=completed_for, clock=clock)
    response.updated_case.CopyFrom(store.assemble(s, row))
    access.audit(
        s,
        clock=clock,
        caller=caller,
        method="ApplyChangesOfCircumstances",
        case_id=row.id,
        resource=f"cases/{row.id}",
        permitted=True,
    )
    return response


def _supersede_unverified(s: Session, *, case_id: str, closing: str, clock: Clock) -> None:
    for change_row in s.scalars(
        select(ChangeRecord).where(ChangeRecord.case_id == case_id, ChangeRecord.state.in_(PENDING))
    ).all():
        change = document(change_row)  # those this application dealt with are no longer pending
        change.state, change.superseded_by = pb.CHANGE_OF_CIRCUMSTANCES_STATE_SUPERSEDED, closing
        _close_sr(
            s,
            change,
            pb.SERVICE_REQUEST_RESOLUTION_CODE_SUPERSEDED,
            clock,
            "superseded by case closure",
        )
        _completed(s, clock, case_id, change)
        save(change_row, change, clock)


def _schedule_call(
    s: Session, *, row: CaseRecord, completed_for: dict[str, list[dt.datetime]], clock: Clock
) -> str:
    """One call after the last of several changes completed within three days: earlier calls still waiting for the
    same client are cancelled in favour of one after this completion."""
    name = ""
    window = dt.timedelta(days=rules.DEFAULTS.client_call_window_days)
    for recipient, times in completed_for.items():
        waiting = s.scalars(
            select(CorrespondenceRecord).where(
                CorrespondenceRecord.case_id == row.id,
                CorrespondenceRecord.recipient == recipient,
                CorrespondenceRecord.kind
                == pb.CorrespondenceKind.Name(pb.CORRESPONDENCE_KIND_CLIENT_CALL),
                CorrespondenceRecord.state == correspondence.SCHEDULED,
            )
        ).all()
        earlier = [r.created_at for r in waiting]
        due = rules.client_call_due([*earlier, *times]) or clock.now()
        call = correspondence.schedule(
            s,
            case_row=row,
            kind=pb.CORRESPONDENCE_KIND_CLIENT_CALL,
            recipient=recipient,
            clock=clock,
            due=max(due, clock.now()) + dt.timedelta(hours=1),
        )
        for r in waiting:
            if clock.now() - r.created_at <= window:
                item = pb.Correspondence.FromString(r.document)
                item.state, item.superseded_by = (
                    pb.CORRESPONDENCE_STATE_CANCELLED_REDUNDANT,
                    call.name,
                )
                r.state, r.document = correspondence.CANCELLED, item.SerializeToString()
        name = call.name
    return name
