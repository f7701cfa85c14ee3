"""Current income requests: opened with the paying parent's letter and a service request, found by case and by the
end of their time allowed, and closed. Every function takes the caller's session: the request, its letter, its
service request (and that one's event) are written in one transaction or not at all."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.casework.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.errors import FailedPrecondition, PreconditionViolation

from ..case_records import service as case_records
from ..case_records.models import CaseRecord
from ..correspondence import service as correspondence
from ..names import new_id
from ..service_requests import service as srs
from . import rules
from .models import CurrentIncomeRequestRecord

SUB_AREA = "Current Income Request"


def open_request_of(
    db: Session, case_id: str, *, lock: bool = False
) -> CurrentIncomeRequestRecord | None:
    """The case's request still open (waiting, or with a default decision in force), if any."""
    query = select(CurrentIncomeRequestRecord).where(
        CurrentIncomeRequestRecord.case_id == case_id,
        CurrentIncomeRequestRecord.state.in_([s.value for s in rules.OPEN]),
    )
    return db.scalars(query.with_for_update() if lock else query).first()


def ask(db: Session, *, row: CaseRecord, case: pb.Case, clock: Clock) -> CurrentIncomeRequestRecord:
    """Ask the paying parent for current income (a letter, and a service request for the caseworker), once: a case
    already waiting keeps its request and its time allowed."""
    held = open_request_of(db, row.id, lock=True)
    if held is not None:
        return held
    today = clock.today()
    due = rules.due_date(today)
    _, sr = srs.raise_sr(
        db,
        case_row=row,
        process="Case Maintenance",
        area="Income",
        sub_area=SUB_AREA,
        description=(
            "HMRC holds no income for the paying parent: their current income was asked for, to arrive by "
            f"{due:%d %B %Y}; a default maintenance decision follows if it does not"
        ),
        origin=pb.SERVICE_REQUEST_ORIGIN_SYSTEM,
        clock=clock,
    )
    correspondence.schedule(
        db,
        case_id=row.id,
        kind=pb.CORRESPONDENCE_KIND_EVIDENCE_REQUEST,
        recipient=case.paying_parent.name,
        clock=clock,
        service_request=sr.name,
    )
    now = clock.now()
    request = CurrentIncomeRequestRecord(
        id=new_id(),
        case_id=row.id,
        state=rules.State.AWAITING.value,
        requested_on=today,
        due_date=due,
        service_request=sr.name,
        default_calculation="",
        default_effective_date=None,
        created_at=now,
        updated_at=now,
    )
    db.add(request)
    return request


def past_their_time(db: Session, as_of: dt.date) -> list[str]:
    """Ids of the requests still waiting whose time allowed ended before `as_of`."""
    return list(
        db.scalars(
            select(CurrentIncomeRequestRecord.id)
            .where(
                CurrentIncomeRequestRecord.state == rules.State.AWAITING.value,
                CurrentIncomeRequestRecord.due_date < as_of,
            )
            .order_by(CurrentIncomeRequestRecord.due_date, CurrentIncomeRequestRecord.id)
        )
    )


def still_open(db: Session) -> list[str]:
    """Ids of every request still open (waiting, or with a default decision in force)."""
    return list(
        db.scalars(
            select(CurrentIncomeRequestRecord.id).where(
                CurrentIncomeRequestRecord.state.in_([s.value for s in rules.OPEN])
            )
        )
    )


def end_if_overtaken(db: Session, *, request_id: str, clock: Clock) -> bool:
    """Close a request its case no longer needs (rules.overtaken). True when it was closed."""
    request = db.get(CurrentIncomeRequestRecord, request_id, with_for_update=True)
    if request is None or request.state not in [s.value for s in rules.OPEN]:
        return False
    case = case_records.stored(case_records.case_row(db, request.case_id))
    if not rules.overtaken(
        state=rules.State(request.state),
        case_open=case.state != pb.CASE_STATE_CLOSED,
        latest_rate=case.latest_calculation.rate,
    ):
        return False
    answered(
        db,
        request=request,
        clock=clock,
        state=rules.State.ENDED,
        note="No longer needed: the case closed or is calculated from income reported another way",
    )
    return True


def defaulted(
    db: Session,
    *,
    request: CurrentIncomeRequestRecord,
    calculation: str,
    effective: dt.date,
    clock: Clock,
) -> None:
    request.state = rules.State.DEFAULT_DECISION_MADE.value
    request.default_calculation = calculation
    request.default_effective_date = effective
    request.updated_at = clock.now()


def answered(
    db: Session,
    *,
    request: CurrentIncomeRequestRecord,
    clock: Clock,
    state: rules.State | None = None,
    note: str = "Current income received",
) -> None:
    """The income arrived (or the request was overtaken, `state` ENDED): the request and its service request
    close (complete)."""
    request.state = (
        state.value
        if state is not None
        else rules.State.REPLACED.value
        if request.state == rules.State.DEFAULT_DECISION_MADE.value
        else rules.State.ANSWERED.value
    )
    request.updated_at = clock.now()
    sr_row = srs.row_named(db, request.service_request)
    if sr_row is not None and srs.document(sr_row).status not in (
        pb.SERVICE_REQUEST_STATUS_CLOSED,
        pb.SERVICE_REQUEST_STATUS_CANCELLED,
    ):
        srs.move(
            db,
            row=sr_row,
            status=pb.SERVICE_REQUEST_STATUS_CLOSED,
            sub_status=pb.SERVICE_REQUEST_SUB_STATUS_COMPLETE,
            resolution_code=pb.SERVICE_REQUEST_RESOLUTION_CODE_ACCEPTED,
            note=note,
            clock=clock,
            changed_by="casework",
        )


def not_waiting(name: str) -> FailedPrecondition:
    code = "NO_CURRENT_INCOME_REQUEST"
    return FailedPrecondition(
        PreconditionViolation(
            code, "name", f"{name} is not waiting for the paying parent's current income"
        ),
        reason=code,
    )
