"""Service requests: raised on a case (by a caseworker, a client through self-service, a feed or the system),
progressed through their statuses by the procedures' rules, assigned, and watched for the self-service 24-hour
service level. Work that belongs to no case yet (a receipt whose reference matches no account) is a case-less SR,
`serviceRequests/{id}`: raised by the system into a workgroup's queue, staff only, worked like any other.

Rules (Maintain Client Details overview): an SR cannot go In Progress while information it needs is missing; the
resolution code must be set before Closed/Complete; a closed or cancelled SR never reopens; self-service SRs must
be actioned (moved out of Open) within 24 hours."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.errors import FailedPrecondition, InvalidArgument, NotFound, PreconditionViolation
from cms_platform.identity import Caller
from cms_platform.paging import next_token, page

from ..access import rules as access_rules
from ..access import service as access
from ..case_records import service as case_records
from ..case_records.models import CaseRecord
from ..names import id_from, new_id
from .models import ServiceRequestRecord

SELF_SERVICE_SLA = dt.timedelta(hours=24)
SELF_SERVICE = (
    pb.SERVICE_REQUEST_ORIGIN_CLIENT_SELF_SERVICE,
    pb.SERVICE_REQUEST_ORIGIN_EMPLOYER_SELF_SERVICE,
)
FINAL = (pb.SERVICE_REQUEST_STATUS_CLOSED, pb.SERVICE_REQUEST_STATUS_CANCELLED)
CASELESS = "serviceRequests"
OPEN_STATUSES = tuple(
    pb.ServiceRequestStatus.Name(s)
    for s in (
        pb.SERVICE_REQUEST_STATUS_OPEN,
        pb.SERVICE_REQUEST_STATUS_IN_PROGRESS,
        pb.SERVICE_REQUEST_STATUS_PENDING,
    )
)


def document(row: ServiceRequestRecord) -> pb.ServiceRequest:
    return pb.ServiceRequest.FromString(row.document)


def save(row: ServiceRequestRecord, sr: pb.ServiceRequest, clock: Clock) -> None:
    sr.update_time.FromDatetime(clock.now())
    row.status = pb.ServiceRequestStatus.Name(sr.status)
    row.workgroup, row.owner, row.sla_breached = sr.workgroup, sr.owner, sr.sla_breached
    row.document, row.updated_at = sr.SerializeToString(), clock.now()


def origin_of(caller: Caller) -> pb.ServiceRequestOrigin.ValueType:
    role = access_rules.role_of(caller)
    return {
        access_rules.CLIENT: pb.SERVICE_REQUEST_ORIGIN_CLIENT_SELF_SERVICE,
        access_rules.SERVICE: pb.SERVICE_REQUEST_ORIGIN_SYSTEM,
    }.get(role, pb.SERVICE_REQUEST_ORIGIN_CASEWORKER)


def _key(row: ServiceRequestRecord) -> str:
    """The events' key and subject: the case, or a case-less SR itself."""
    return f"cases/{row.case_id}" if row.case_id else f"{CASELESS}/{row.id}"


def _raise(
    db: Session,
    *,
    sr_id: str,
    case_id: str,
    sr: pb.ServiceRequest,
    clock: Clock,
) -> ServiceRequestRecord:
    now = clock.now()
    sr.status = pb.SERVICE_REQUEST_STATUS_OPEN
    sr.create_time.FromDatetime(now)
    due = now + SELF_SERVICE_SLA if sr.origin in SELF_SERVICE else None
    if due:
        sr.action_due_time.FromDatetime(due)
    row = ServiceRequestRecord(
        id=sr_id,
        case_id=case_id,
        status="",
        origin=pb.ServiceRequestOrigin.Name(sr.origin),
        action_due_at=due,
        actioned=False,
        sla_breached=False,
        document=b"",
        created_at=now,
        updated_at=now,
    )
    save(row, sr, clock)
    db.add(row)
    outbox.publish(
        db,
        clock=clock,
        key=_key(row),
        subject=_key(row),
        message=ev.ServiceRequestCreated(
            case_id=case_id,
            service_request=sr.name,
            process=sr.process,
            area=sr.area,
            sub_area=sr.sub_area,
            origin=sr.origin,
            workgroup=sr.workgroup,
            action_due_time=sr.action_due_time if due else None,
            change_of_circumstances=sr.change_of_circumstances,
        ),
    )
    return row


def raise_sr(
    db: Session,
    *,
    case_row: CaseRecord,
    process: str,
    area: str,
    sub_area: str,
    description: str,
    origin: pb.ServiceRequestOrigin.ValueType,
    clock: Clock,
    workgroup: str = "",
    change: str = "",
    missing: list[str] | None = None,
) -> tuple[ServiceRequestRecord, pb.ServiceRequest]:
    sr_id = new_id()
    # A personal-interest case's work stays in the sensitive-case workgroup, whatever was asked.
    group = (
        access_rules.SENSITIVE_WORKGROUP
        if case_row.personal_interest
        else (workgroup or case_row.workgroup or access_rules.DEFAULT_WORKGROUP)
    )
    sr = pb.ServiceRequest(
        name=f"cases/{case_row.id}/serviceRequests/{sr_id}",
        process=process,
        area=area,
        sub_area=sub_area,
        workgroup=group,
        origin=origin,
        description=description,
        change_of_circumstances=change,
        missing_information=missing or [],
    )
    row = _raise(db, sr_id=sr_id, case_id=case_row.id, sr=sr, clock=clock)
    return row, sr


def raise_caseless(
    db: Session,
    *,
    process: str,
    area: str,
    sub_area: str,
    description: str,
    workgroup: str,
    clock: Clock,
) -> str:
    """Raises a system SR on no case (`serviceRequests/{id}`) in `workgroup`'s queue; returns its name. The
    description is the system's own words: it carries no personal data."""
    sr_id = new_id()
    sr = pb.ServiceRequest(
        name=f"{CASELESS}/{sr_id}",
        process=process,
        area=area,
        sub_area=sub_area,
        workgroup=workgroup,
        origin=pb.SERVICE_REQUEST_ORIGIN_SYSTEM,
        description=description,
    )
    _raise(db, sr_id=sr_id, case_id="", sr=sr, clock=clock)
    return sr.name


def create(
    db: Session, *, request: api.CreateServiceRequestRequest, caller: Caller, clock: Clock
) -> pb.ServiceRequest:
    row = case_records.visible_case(db, name=request.parent, caller=caller, field="parent")
    if row.state == case_records.CLOSED:
        raise FailedPrecondition(
            PreconditionViolation("CASE_CLOSED", request.parent, "the case is closed"),
            reason="CASE_CLOSED",
        )
    given = request.service_request
    _, sr = raise_sr(
        db,
        case_row=row,
        process=given.process.strip(),
        area=given.area.strip(),
        sub_area=given.sub_area.strip(),
        description=given.description,
        origin=origin_of(caller),
        clock=clock,
        workgroup=request.workgroup,
    )
    access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=sr.name)
    return sr


def _visible_sr(
    db: Session, *, name: str, caller: Caller, lock: bool = False
) -> tuple[CaseRecord | None, ServiceRequestRecord]:
    """(case row, SR row); a case-less SR has no case row and exists only for staff who may see its workgroup."""
    if name.startswith(f"{CASELESS}/"):
        row = db.get(ServiceRequestRecord, id_from(name, CASELESS, "name"), with_for_update=lock)
        if row is None or row.case_id:
            raise NotFound("service request", name)
        if access_rules.role_of(caller) == access_rules.CLIENT or (
            row.workgroup == access_rules.SENSITIVE_WORKGROUP
            and not access_rules.sees_sensitive(caller)
        ):
            raise access.HiddenCase("", name)
        return None, row
    return case_records.visible_child(
        db,
        name=name,
        collection="serviceRequests",
        model=ServiceRequestRecord,
        what="service request",
        caller=caller,
        lock=lock,
    )


def _audit(
    db: Session, *, case_row: CaseRecord | None, caller: Caller, clock: Clock, name: str
) -> None:
    access.audit(
        db, clock=clock, caller=caller, case_id=case_row.id if case_row else "", resource=name
    )


def get(db: Session, *, name: str, caller: Caller, clock: Clock) -> pb.ServiceRequest:
    case_row, row = _visible_sr(db, name=name, caller=caller)
    _audit(db, case_row=case_row, caller=caller, clock=clock, name=name)
    return document(row)


def list_srs(
    db: Session, *, request: api.ListServiceRequestsRequest, caller: Caller, clock: Clock
) -> api.ListServiceRequestsResponse:
    size, offset = page(request.page_size, request.page_token, maximum=500)
    q = select(ServiceRequestRecord)
    if request.parent != "cases/-":
        case_row = case_records.visible_case(db, name=request.parent, caller=caller, field="parent")
        q = q.where(ServiceRequestRecord.case_id == case_row.id)
        access.audit(db, clock=clock, caller=caller, case_id=case_row.id, resource=request.parent)
    else:
        if access_rules.role_of(caller) == access_rules.CLIENT:
            raise InvalidArgument.field(
                "parent", "a client lists the service requests of one of their cases"
            )
        if not access_rules.sees_sensitive(caller):
            q = q.where(ServiceRequestRecord.workgroup != access_rules.SENSITIVE_WORKGROUP)
    if request.status:
        q = q.where(ServiceRequestRecord.status == pb.ServiceRequestStatus.Name(request.status))
    if request.workgroup:
        q = q.where(ServiceRequestRecord.workgroup == request.workgroup)
    if request.owner:
        q = q.where(ServiceRequestRecord.owner == request.owner)
    if request.origin:
        q = q.where(ServiceRequestRecord.origin == pb.ServiceRequestOrigin.Name(request.origin))
    if request.sla_breached_only:
        q = q.where(ServiceRequestRecord.sla_breached.is_(True))
    rows = db.scalars(
        q.order_by(ServiceRequestRecord.created_at.desc(), ServiceRequestRecord.id)
        .offset(offset)
        .limit(size + 1)
    ).all()
    return api.ListServiceRequestsResponse(
        service_requests=[document(r) for r in rows[:size]],
        next_page_token=next_token(offset + size) if len(rows) > size else "",
    )


def _precondition(code: str, name: str, description: str) -> FailedPrecondition:
    return FailedPrecondition(PreconditionViolation(code, name, description), reason=code)


def move(
    db: Session,
    *,
    row: ServiceRequestRecord,
    status: pb.ServiceRequestStatus.ValueType,
    clock: Clock,
    sub_status: pb.ServiceRequestSubStatus.ValueType = pb.SERVICE_REQUEST_SUB_STATUS_UNSPECIFIED,
    resolution_code: pb.ServiceRequestResolutionCode.ValueType = (
        pb.SERVICE_REQUEST_RESOLUTION_CODE_UNSPECIFIED
    ),
    note: str = "",
    changed_by: str = "",
) -> pb.ServiceRequest:
    """Apply the procedures' status rules and record the move (used by the RPC and by casework's own flows)."""
    sr = document(row)
    previous = sr.status
    if previous in FINAL:
        raise _precondition(
            "SERVICE_REQUEST_FINAL",
            sr.name,
            f"a {pb.ServiceRequestStatus.Name(previous).removeprefix('SERVICE_REQUEST_STATUS_')} "
            "service request cannot be reopened or changed",
        )
    if status == pb.SERVICE_REQUEST_STATUS_IN_PROGRESS and sr.missing_information:
        raise FailedPrecondition(
            [
                PreconditionViolation(
                    "INFORMATION_MISSING",
                    f"{sr.name}#{path}",
                    f"{path} is needed before the service request can progress",
                )
                for path in sr.missing_information
            ],
            reason="INFORMATION_MISSING",
        )
    if resolution_code:
        sr.resolution_code = resolution_code
    if (
        status == pb.SERVICE_REQUEST_STATUS_CLOSED
        and sub_status == pb.SERVICE_REQUEST_SUB_STATUS_COMPLETE
        and not sr.resolution_code
    ):
        raise _precondition(
            "RESOLUTION_CODE_REQUIRED",
            sr.name,
            "set the resolution code before closing the service request as complete",
        )
    sr.status, sr.sub_status = status, sub_status
    if note:
        sr.notes.append(note)
    if previous == pb.SERVICE_REQUEST_STATUS_OPEN and status != previous and not row.actioned:
        sr.action_time.FromDatetime(clock.now())
        row.actioned = True
    save(row, sr, clock)
    outbox.publish(
        db,
        clock=clock,
        key=_key(row),
        subject=_key(row),
        message=ev.ServiceRequestStatusChanged(
            case_id=row.case_id,
            service_request=sr.name,
            previous_status=previous,
            status=status,
            sub_status=sub_status,
            resolution_code=sr.resolution_code,
            changed_by=changed_by,
        ),
    )
    return sr


def update_status(
    db: Session, *, request: api.UpdateServiceRequestStatusRequest, caller: Caller, clock: Clock
) -> pb.ServiceRequest:
    if request.status not in pb.ServiceRequestStatus.values() or not request.status:
        raise InvalidArgument.field("status", "choose a status")
    if request.sub_status not in pb.ServiceRequestSubStatus.values():
        raise InvalidArgument.field("sub_status", "is not a sub-status")
    if request.resolution_code not in pb.ServiceRequestResolutionCode.values():
        raise InvalidArgument.field("resolution_code", "is not a resolution code")
    case_row, row = _visible_sr(
        db,
        name=request.name,
        caller=caller,
        lock=True,
    )
    sr = move(
        db,
        row=row,
        status=request.status,
        clock=clock,
        sub_status=request.sub_status,
        resolution_code=request.resolution_code,
        note=request.note,
        changed_by=caller.subject,
    )
    _audit(db, case_row=case_row, caller=caller, clock=clock, name=request.name)
    return sr


def assign(
    db: Session, *, request: api.AssignServiceRequestRequest, caller: Caller, clock: Clock
) -> pb.ServiceRequest:
    case_row, row = _visible_sr(db, name=request.name, caller=caller, lock=True)
    sr = document(row)
    if sr.status in FINAL:
        raise _precondition(
            "SERVICE_REQUEST_FINAL",
            sr.name,
            "a closed or cancelled service request is not assigned",
        )
    if (
        request.workgroup
        and case_row is not None
        and case_row.personal_interest
        and request.workgroup != access_rules.SENSITIVE_WORKGROUP
    ):
        raise _precondition(
            "SENSITIVE_CASE",
            sr.name,
            "service requests on a personal-interest case stay in the sensitive-case workgroup",
        )
    sr.owner = request.owner
    if request.workgroup:
        sr.workgroup = request.workgroup
    save(row, sr, clock)
    outbox.publish(
        db,
        clock=clock,
        key=_key(row),
        subject=_key(row),
        message=ev.ServiceRequestAssigned(
            case_id=row.case_id, service_request=sr.name, owner=sr.owner, workgroup=sr.workgroup
        ),
    )
    _audit(db, case_row=case_row, caller=caller, clock=clock, name=request.name)
    return sr


def close_not_required(db: Session, *, row: ServiceRequestRecord, clock: Clock, note: str) -> None:
    move(
        db,
        row=row,
        status=pb.SERVICE_REQUEST_STATUS_CLOSED,
        sub_status=pb.SERVICE_REQUEST_SUB_STATUS_NOT_REQUIRED,
        resolution_code=pb.SERVICE_REQUEST_RESOLUTION_CODE_NO_ACTION_REQUIRED,
        note=note,
        clock=clock,
        changed_by="casework",
    )


def complete(db: Session, *, name: str, clock: Clock, note: str) -> None:
    """The system did the SR's work (e.g. allocated the suspense item it was raised for): Closed / Complete,
    Accepted. One a caseworker already closed or cancelled stays as it is."""
    row = row_named(db, name)
    if row is None or document(row).status in FINAL:
        return
    move(
        db,
        row=row,
        status=pb.SERVICE_REQUEST_STATUS_CLOSED,
        sub_status=pb.SERVICE_REQUEST_SUB_STATUS_COMPLETE,
        resolution_code=pb.SERVICE_REQUEST_RESOLUTION_CODE_ACCEPTED,
        note=note,
        clock=clock,
        changed_by="casework",
    )


def check_self_service_sla(db: Session, *, now: dt.datetime, clock: Clock) -> tuple[int, int]:
    """Mark self-service SRs not actioned within 24 hours as breached and report each once. (due, breached)."""
    rows = db.scalars(
        select(ServiceRequestRecord)
        .where(
            ServiceRequestRecord.actioned.is_(False),
            ServiceRequestRecord.sla_breached.is_(False),
            ServiceRequestRecord.action_due_at.is_not(None),
            ServiceRequestRecord.action_due_at <= now,
            ServiceRequestRecord.status.in_(OPEN_STATUSES),
        )
        .with_for_update()
    ).all()
    for row in rows:
        sr = document(row)
        sr.sla_breached = True
        save(row, sr, clock)
        outbox.publish(
            db,
            clock=clock,
            key=_key(row),
            subject=_key(row),
            message=ev.ServiceRequestSlaBreached(
                case_id=row.case_id,
                service_request=sr.name,
                origin=sr.origin,
                workgroup=sr.workgroup,
                create_time=sr.create_time,
                action_due_time=sr.action_due_time,
            ),
        )
    return len(rows), len(rows)


# -- a case's service requests, for the flows ----------------------------------------------------------------------


def row_named(db: Session, name: str) -> ServiceRequestRecord | None:
    """The service request `cases/{case_id}/serviceRequests/{id}` (or `serviceRequests/{id}`), locked; None when
    there is none."""
    return (
        db.get(ServiceRequestRecord, name.rsplit("/", 1)[-1], with_for_update=True)
        if name
        else None
    )


def _open_on(db: Session, case_id: str) -> list[ServiceRequestRecord]:
    return list(
        db.scalars(
            select(ServiceRequestRecord).where(
                ServiceRequestRecord.case_id == case_id,
                ServiceRequestRecord.status.in_(OPEN_STATUSES),
            )
        ).all()
    )


def has_open(db: Session, *, case_id: str, sub_area: str) -> bool:
    """Whether an SR of this sub-area is still being worked on the case."""
    return any(document(r).sub_area == sub_area for r in _open_on(db, case_id))


def close_open(db: Session, *, case_id: str, clock: Clock, keep_change: str = "") -> list[str]:
    """The case closed: every SR still open closes as Not Required, but for the one of `keep_change` (the closing
    change's own SR, which the change completes). Returns the ids closed."""
    closed = []
    for row in _open_on(db, case_id):
        if keep_change and document(row).change_of_circumstances == keep_change:
            continue
        close_not_required(db, row=row, clock=clock, note="case closed")
        closed.append(row.id)
    return closed


def follow_workgroup(db: Session, *, case_id: str, workgroup: str) -> None:
    """The case was routed to `workgroup`: its SRs follow it, unassigned."""
    for row in db.scalars(
        select(ServiceRequestRecord).where(ServiceRequestRecord.case_id == case_id)
    ):
        sr = document(row)
        sr.workgroup, sr.owner = workgroup, ""
        row.workgroup, row.owner, row.document = workgroup, "", sr.SerializeToString()
