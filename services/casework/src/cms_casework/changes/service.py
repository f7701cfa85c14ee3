"""Changes of circumstances as the procedures require: reported (refused, with nothing recorded, when the report
lacks what its service request needs; each raises its service request), verified (name, gender and date of birth
then authorised by a team leader; suspicious activity reviewed first), declined, withdrawn, read and listed (pending
ones in the sequencing table's order). Applying them is changes.flows. Keyword-only functions over an explicit
session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform import outbox, telemetry
from cms_platform.clock import Clock
from cms_platform.errors import (
    FailedPrecondition,
    FieldViolation,
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
from ..clients import service as clients
from ..correspondence import service as correspondence
from ..names import child_of, last_id, new_id
from ..service_requests import service as srs
from . import rules
from .models import ChangeRecord

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


def completed(db: Session, *, case_id: str, change: pb.ChangeOfCircumstances, clock: Clock) -> None:
    """The change reached a final state: announce it."""
    change.complete_time.FromDatetime(clock.now())
    outbox.publish(
        db,
        clock=clock,
        key=f"cases/{case_id}",
        subject=f"cases/{case_id}",
        message=ev.ChangeOfCircumstancesCompleted(
            case_id=case_id,
            change_of_circumstances=change.name,
            type=change.type,
            state=change.state,
            effective_date=change.effective_date,
            liability_changed=change.liability_changed,
            calculation=change.calculation,
        ),
    )


def close_sr(
    db: Session,
    *,
    change: pb.ChangeOfCircumstances,
    resolution: pb.ServiceRequestResolutionCode.ValueType,
    clock: Clock,
    note: str,
) -> None:
    """The change is done with: its service request (if still open) closes as complete with `resolution`."""
    row = srs.row_named(db, change.service_request)
    if row is not None and srs.document(row).status not in srs.FINAL:
        srs.move(
            db,
            row=row,
            status=pb.SERVICE_REQUEST_STATUS_CLOSED,
            sub_status=pb.SERVICE_REQUEST_SUB_STATUS_COMPLETE,
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
    locked: tuple[CaseRecord, pb.Case] | None = None,
) -> pb.ChangeOfCircumstances:
    """`locked`: the case's row, already locked FOR UPDATE in this transaction, and the case assembled from it (a feed
    handler has read them): not read again."""
    if locked is None:
        row = case_records.visible_case(
            db, name=request.parent, caller=caller, field="parent", lock=True
        )
        case = case_records.assemble(db, row)
    else:
        row, case = locked
        access.ensure_visible(caller, row, case_id=row.id, name=request.parent)
    case_records.ensure_open(case)
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
    if access_rules.role_of(caller) == access_rules.CLIENT:
        me = f"clients/{access_rules.client_id_of(caller)}"
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
    unknown = rules.unknown_codes(change)
    if unknown:
        raise InvalidArgument(
            [
                FieldViolation(
                    f"change_of_circumstances.{path}",
                    "is not a benefit code: use a benefit type as dwp-gateway names it, without its BENEFIT_TYPE_ "
                    "prefix (e.g. JOBSEEKERS_ALLOWANCE_INCOME_BASED)",
                )
                for path in unknown
            ]
        )
    benefit = change.benefit_details_change
    if benefit.universal_credit_earned_income and benefit.benefit.strip() != "UNIVERSAL_CREDIT":
        raise InvalidArgument.field(
            "change_of_circumstances.benefit_details_change.universal_credit_earned_income",
            "applies only to Universal Credit",
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
    change_id = new_id()
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
        access_rules.role_of(caller) == access_rules.SERVICE
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
        # Raised by an event or a job, it is applied later by the feed pass, which continues this trace.
        trace_context=telemetry.current_context() if source_event_id else None,
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
            select(ChangeRecord).where(ChangeRecord.id.in_([last_id(n) for n in related]))
        ):
            other = document(other_row)
            other.suspicious_activity = True
            if change.name not in other.related_changes:
                other.related_changes.append(change.name)
            save(other_row, other, clock)
        outbox.publish(
            db,
            clock=clock,
            key=case.name,
            subject=case.name,
            message=ev.SuspiciousActivityFlagged(
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
    outbox.publish(
        db,
        clock=clock,
        key=case.name,
        subject=case.name,
        message=ev.ChangeOfCircumstancesReported(
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
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=change.name)
    return change


def _suppress_contact(db: Session, client_name: str, clock: Clock) -> None:
    """A death notification suppresses contact with that client at once, before it is verified."""
    clients.suppress_contact(db, name=client_name, clock=clock)
    correspondence.suppress_for(db, recipient=client_name)


# -- reading -------------------------------------------------------------------------------------------------------


def _visible_change(
    db: Session, *, name: str, caller: Caller, lock: bool = False
) -> tuple[CaseRecord, ChangeRecord]:
    return case_records.visible_child(
        db,
        name=name,
        collection="changesOfCircumstances",
        model=ChangeRecord,
        what="change of circumstances",
        caller=caller,
        lock=lock,
    )


def get(db: Session, *, name: str, caller: Caller, clock: Clock) -> pb.ChangeOfCircumstances:
    case_row, row = _visible_change(db, name=name, caller=caller)
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=name)
    return document(row)


def list_changes(
    db: Session, *, request: api.ListChangesOfCircumstancesRequest, caller: Caller, clock: Clock
) -> api.ListChangesOfCircumstancesResponse:
    case_row = case_records.visible_case(db, name=request.parent, caller=caller, field="parent")
    case = case_records.assemble(db, case_row)
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
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=request.parent)
    return api.ListChangesOfCircumstancesResponse(
        changes_of_circumstances=ordered[offset : offset + size],
        next_page_token=next_token(offset + size) if len(ordered) > offset + size else "",
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
        close_sr(
            db,
            change=change,
            resolution=pb.SERVICE_REQUEST_RESOLUTION_CODE_DECLINED,
            clock=clock,
            note="declined on verification",
        )
        completed(db, case_id=case_row.id, change=change, clock=clock)
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
        sr_row = srs.row_named(db, change.service_request)
        if change.requires_team_leader_authorisation:
            change.state = pb.CHANGE_OF_CIRCUMSTANCES_STATE_AWAITING_AUTHORISATION
            sub = pb.SERVICE_REQUEST_SUB_STATUS_AWAITING_TEAM_LEADER_AUTHORISATION
            status = pb.SERVICE_REQUEST_STATUS_PENDING
        else:
            change.state = pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED
            sub, status = (
                pb.SERVICE_REQUEST_SUB_STATUS_UNSPECIFIED,
                pb.SERVICE_REQUEST_STATUS_IN_PROGRESS,
            )
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
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=request.name)
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
        sr_row = srs.row_named(db, change.service_request)
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
        close_sr(
            db,
            change=change,
            resolution=pb.SERVICE_REQUEST_RESOLUTION_CODE_DECLINED,
            clock=clock,
            note="refused by a team leader",
        )
        completed(db, case_id=case_row.id, change=change, clock=clock)
    save(row, change, clock)
    access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=request.name)
    return change


def withdraw(db: Session, *, name: str, clock: Clock) -> None:
    """Its service request was cancelled: the change is withdrawn (if not already final)."""
    _, change_id = child_of(name, "changesOfCircumstances", "name")
    row = db.get(ChangeRecord, change_id, with_for_update=True)
    if row is None or row.state not in PENDING:
        return
    change = document(row)
    change.state = pb.CHANGE_OF_CIRCUMSTANCES_STATE_WITHDRAWN
    completed(db, case_id=row.case_id, change=change, clock=clock)
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
        completed(db, case_id=case_id, change=change, clock=clock)
        save(row, change, clock)
    return len(rows)


def pending_of(db: Session, case_id: str, *, lock: bool = False) -> list[ChangeRecord]:
    """The case's changes not yet final (reported, awaiting authorisation or verified)."""
    q = select(ChangeRecord).where(ChangeRecord.case_id == case_id, ChangeRecord.state.in_(PENDING))
    return list(db.scalars(q.with_for_update() if lock else q).all())


def verified_of(db: Session, case_id: str) -> list[pb.ChangeOfCircumstances]:
    """The case's verified changes, waiting to be applied."""
    return [
        document(r)
        for r in db.scalars(
            select(ChangeRecord).where(
                ChangeRecord.case_id == case_id,
                ChangeRecord.state == S.Name(pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED),
            )
        )
    ]


def row_named(db: Session, name: str) -> ChangeRecord | None:
    """The change `cases/{case_id}/changesOfCircumstances/{id}`, locked."""
    return db.get(ChangeRecord, last_id(name), with_for_update=True)


def raised_from(db: Session, *, case_id: str, source_event_id: str) -> bool:
    """Whether a change was already raised on the case from this event."""
    return (
        db.scalar(
            select(ChangeRecord.id).where(
                ChangeRecord.case_id == case_id, ChangeRecord.source_event_id == source_event_id
            )
        )
        is not None
    )


def feed_work(db: Session) -> dict[str, list[dict[str, str]]]:
    """The cases with verified changes raised from a feed, waiting to be applied, each with the trace contexts of
    the events that raised them, oldest first: the feed pass continues those traces (telemetry.continued)."""
    out: dict[str, list[dict[str, str]]] = {}
    for case_id, context in db.execute(
        select(ChangeRecord.case_id, ChangeRecord.trace_context)
        .where(
            ChangeRecord.state == S.Name(pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED),
            ChangeRecord.source_event_id.is_not(None),
        )
        .order_by(ChangeRecord.created_at, ChangeRecord.id)
    ):
        contexts = out.setdefault(case_id, [])
        if context:
            contexts.append(context)
    return out
