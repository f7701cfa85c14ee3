"""Case surveillances over an explicit session: start one on a file, reschedule its review, read and list them and
their alerts. Every read is scoped to the case that asks: another case's surveillance is not found."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from google.type import date_pb2
from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.cra.v1 import cra_service_pb2 as api
from cms.cra.v1 import resources_pb2 as pb
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
from cms_platform.identifiers import normalise_nino, valid_nino
from cms_platform.paging import next_token, page

from . import rules
from .models import SurveillanceAlertRecord, SurveillanceRecord


def load(
    db: Session, *, surveillance_id: str, case_reference: str, lock: bool = False
) -> SurveillanceRecord:
    """The surveillance, if it is this case's (locked for update when `lock`); NOT_FOUND otherwise."""
    row = (
        db.get(SurveillanceRecord, surveillance_id, with_for_update=lock)
        if rules.is_surveillance_id(surveillance_id)
        else None
    )
    if row is None or row.case_reference != case_reference:
        raise NotFound("case surveillance", f"case-surveillances/{surveillance_id}")
    return row


def nino_of(db: Session, *, surveillance_id: str) -> str:
    """The NINO a surveillance watches, for the audit trail; "" when there is no such surveillance."""
    row = (
        db.get(SurveillanceRecord, surveillance_id)
        if rules.is_surveillance_id(surveillance_id)
        else None
    )
    return row.nino if row is not None else ""


def stopped_error(row: SurveillanceRecord, description: str) -> FailedPrecondition:
    return FailedPrecondition(
        PreconditionViolation("SURVEILLANCE_STOPPED", f"case-surveillances/{row.id}", description),
        reason="SURVEILLANCE_STOPPED",
    )


def _review_date(review_date: date_pb2.Date, today: dt.date) -> dt.date:
    v = ViolationCollector()
    review = date_or_violation(review_date, "review_date", v)
    v.raise_if_any()
    assert review is not None  # required: a missing date is a violation above
    if review <= today:
        raise InvalidArgument.field("review_date", f"must be after today ({today.isoformat()})")
    return review


def start(
    db: Session,
    *,
    request: api.StartCaseSurveillanceRequest,
    file: pb.CreditFile | None,
    clock: Clock,
) -> pb.CaseSurveillance:
    """`file` is the person's file today (None when the agency holds none): what it already holds is the starting
    point, not news."""
    v = ViolationCollector()
    nino = normalise_nino(request.person.nino)
    if not valid_nino(nino):
        v.add("person.nino", "is not a valid National Insurance number")
    date_or_violation(request.person.date_of_birth, "person.date_of_birth", v)
    for i, kind in enumerate(request.watched_kinds):
        if kind not in rules.ALL_KINDS:
            v.add(f"watched_kinds[{i}]", "is not a surveillance alert kind")
    v.raise_if_any()
    today = clock.today()
    review = _review_date(request.review_date, today)
    case = request.legal_basis.case_reference
    existing = db.scalar(
        select(SurveillanceRecord).where(
            SurveillanceRecord.case_reference == case,
            SurveillanceRecord.nino == nino,
            SurveillanceRecord.state != rules.STOPPED,
        )
    )
    if existing is not None:
        raise AlreadyExists(
            "case surveillance",
            f"case-surveillances/{existing.id}",
            "this case already has a surveillance on this paying parent",
        )
    s = pb.CaseSurveillance(
        surveillance_id=str(uuid.uuid4()),
        case_reference=case,
        person=request.person,
        review_date=pb_date(review),
        state=pb.CASE_SURVEILLANCE_STATE_ACTIVE,
        watched_kinds=sorted(set(request.watched_kinds)) or rules.ALL_KINDS,
    )
    s.person.nino = nino
    s.start_time.FromDatetime(clock.now())
    db.add(
        SurveillanceRecord(
            id=s.surveillance_id,
            case_reference=case,
            nino=nino,
            state=rules.ACTIVE,
            review_date=review,
            surveillance=s.SerializeToString(),
            seen=rules.snapshot(file).to_json(),
            created_at=clock.now(),
        )
    )
    return s


def reschedule(
    db: Session, *, request: api.RescheduleCaseSurveillanceReviewRequest, clock: Clock
) -> pb.CaseSurveillance:
    """A new review date after today; a surveillance due for review becomes active again."""
    review = _review_date(request.review_date, clock.today())
    row = load(
        db,
        surveillance_id=request.surveillance_id,
        case_reference=request.legal_basis.case_reference,
        lock=True,
    )
    if row.state == rules.STOPPED:
        raise stopped_error(row, "the surveillance has been stopped")
    s = pb.CaseSurveillance.FromString(row.surveillance)
    s.review_date.CopyFrom(pb_date(review))
    s.state = pb.CASE_SURVEILLANCE_STATE_ACTIVE
    row.state, row.review_date, row.surveillance = rules.ACTIVE, review, s.SerializeToString()
    return s


def get(db: Session, *, case_reference: str, surveillance_id: str) -> pb.CaseSurveillance:
    row = load(db, surveillance_id=surveillance_id, case_reference=case_reference)
    return pb.CaseSurveillance.FromString(row.surveillance)


def list_for_case(
    db: Session, *, case_reference: str, show_stopped: bool, page_size: int, page_token: str
) -> tuple[list[pb.CaseSurveillance], str]:
    """A page of the case's surveillances, newest first, and the next page's token ("" on the last page)."""
    size, offset = page(page_size, page_token, maximum=500)
    q = select(SurveillanceRecord).where(SurveillanceRecord.case_reference == case_reference)
    if not show_stopped:
        q = q.where(SurveillanceRecord.state != rules.STOPPED)
    rows = db.scalars(
        q.order_by(SurveillanceRecord.created_at.desc(), SurveillanceRecord.id)
        .offset(offset)
        .limit(size + 1)
    ).all()
    return [pb.CaseSurveillance.FromString(r.surveillance) for r in rows[:size]], _next(
        rows, size, offset
    )


def list_alerts(
    db: Session, *, case_reference: str, surveillance_id: str, page_size: int, page_token: str
) -> tuple[list[pb.SurveillanceAlert], str]:
    """A page of one surveillance's alerts, newest first, and the next page's token."""
    row = load(db, surveillance_id=surveillance_id, case_reference=case_reference)
    size, offset = page(page_size, page_token, maximum=500)
    rows = db.scalars(
        select(SurveillanceAlertRecord)
        .where(SurveillanceAlertRecord.surveillance_id == row.id)
        .order_by(SurveillanceAlertRecord.detect_time.desc(), SurveillanceAlertRecord.alert_id)
        .offset(offset)
        .limit(size + 1)
    ).all()
    return [pb.SurveillanceAlert.FromString(r.alert) for r in rows[:size]], _next(
        rows, size, offset
    )


def _next(rows: Sequence[object], size: int, offset: int) -> str:
    return next_token(offset + size) if len(rows) > size else ""


def watching(db: Session, *, nino: str) -> Sequence[SurveillanceRecord]:
    """The surveillances not stopped that watch a person, locked for update, in id order."""
    return db.scalars(
        select(SurveillanceRecord)
        .where(SurveillanceRecord.nino == nino, SurveillanceRecord.state != rules.STOPPED)
        .order_by(SurveillanceRecord.id)
        .with_for_update()
    ).all()


def not_stopped_after(db: Session, *, after: str, limit: int) -> list[str]:
    """The ids of up to `limit` surveillances not stopped, in id order after `after`."""
    return list(
        db.scalars(
            select(SurveillanceRecord.id)
            .where(SurveillanceRecord.state != rules.STOPPED, SurveillanceRecord.id > after)
            .order_by(SurveillanceRecord.id)
            .limit(limit)
        )
    )
