"""Outbound correspondence and calls. Letters wait for the end-of-day dispatch, so one made redundant by a later
change the same day is cancelled before it goes; nothing goes to a client whose contact is suppressed (a death
notification) — it is kept as SUPPRESSED so the record shows what would have been sent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.casework.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.db import one_page

from ..clients import service as clients
from ..names import new_id
from .models import CorrespondenceRecord

# Session.info keys: what this transaction made and cancelled.
_MADE, _CANCELLED = "cms_correspondence_made", "cms_correspondence_cancelled"
DISPATCH_HOUR_UTC = 17  # the end-of-day print and send run [D]
SCHEDULED, SENT, CANCELLED, SUPPRESSED = (
    pb.CorrespondenceState.Name(s)
    for s in (
        pb.CORRESPONDENCE_STATE_SCHEDULED,
        pb.CORRESPONDENCE_STATE_SENT,
        pb.CORRESPONDENCE_STATE_CANCELLED_REDUNDANT,
        pb.CORRESPONDENCE_STATE_SUPPRESSED,
    )
)


def _document(row: CorrespondenceRecord) -> pb.Correspondence:
    return pb.Correspondence.FromString(row.document)


def _save(row: CorrespondenceRecord, item: pb.Correspondence) -> None:
    row.state, row.document = pb.CorrespondenceState.Name(item.state), item.SerializeToString()


def end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, DISPATCH_HOUR_UTC, tzinfo=dt.UTC)


def schedule(
    db: Session,
    *,
    case_id: str,
    kind: pb.CorrespondenceKind.ValueType,
    recipient: str,
    clock: Clock,
    service_request: str = "",
    due: dt.datetime | None = None,
) -> pb.Correspondence:
    """Queue an item for `recipient` (`clients/{id}`) by their preferred channel; suppressed at once when contact with
    them is suppressed."""
    client = clients.client_named(db, recipient, field="recipient")
    channel = client.contact_preferences.preferred_channel or pb.CONTACT_CHANNEL_POST
    if kind == pb.CORRESPONDENCE_KIND_CLIENT_CALL:
        channel = pb.CONTACT_CHANNEL_PHONE
    item_id = new_id()
    item = pb.Correspondence(
        name=f"cases/{case_id}/correspondence/{item_id}",
        kind=kind,
        channel=channel,
        state=pb.CORRESPONDENCE_STATE_SUPPRESSED
        if client.contact_suppressed
        else pb.CORRESPONDENCE_STATE_SCHEDULED,
        recipient=recipient,
        service_request=service_request,
    )
    when = due or end_of_day(clock.today())
    item.due_time.FromDatetime(when)
    item.create_time.FromDatetime(clock.now())
    row = CorrespondenceRecord(
        id=item_id,
        case_id=case_id,
        kind=pb.CorrespondenceKind.Name(kind),
        state="",
        recipient=recipient,
        service_request=service_request,
        due_at=when,
        document=b"",
        created_at=clock.now(),
    )
    _save(row, item)
    db.add(row)
    db.info.setdefault(_MADE, set()).add(item.name)
    return item


def notify_parents(
    db: Session,
    *,
    case: pb.Case,
    case_id: str,
    kind: pb.CorrespondenceKind.ValueType,
    clock: Clock,
    service_request: str = "",
) -> list[pb.Correspondence]:
    """The same item for both parents on the case (paying parent first), each by their own channel."""
    return [
        schedule(
            db,
            case_id=case_id,
            kind=kind,
            recipient=recipient,
            clock=clock,
            service_request=service_request,
        )
        for recipient in (case.paying_parent.name, case.receiving_parent.name)
    ]


def cancelled_in(db: Session) -> list[str]:
    """What cancel_redundant cancelled in this transaction, in order."""
    return list(db.info.get(_CANCELLED, []))


def cancel_redundant(
    db: Session,
    *,
    case_id: str,
    kinds: tuple[pb.CorrespondenceKind.ValueType, ...],
    recipient: str,
    superseded_by: str,
    clock: Clock,
) -> list[str]:
    """Cancel items of these kinds still waiting for today's dispatch to this recipient: a later one says it all.
    Items made in this same transaction are never cancelled (a step's own letters belong together)."""
    return _cancel(
        db,
        _waiting(db, case_id=case_id, kinds=kinds, recipients=[recipient], clock=clock),
        recipient=recipient,
        superseded_by=superseded_by,
    )


def cancel_redundant_for(
    db: Session,
    *,
    case_id: str,
    kinds: tuple[pb.CorrespondenceKind.ValueType, ...],
    notices: list[pb.Correspondence],
    clock: Clock,
) -> None:
    """cancel_redundant for each of `notices` in turn (its recipient, superseded by it), read in one query."""
    rows = _waiting(
        db, case_id=case_id, kinds=kinds, recipients=[n.recipient for n in notices], clock=clock
    )
    for notice in notices:
        _cancel(db, rows, recipient=notice.recipient, superseded_by=notice.name)


def _waiting(
    db: Session,
    *,
    case_id: str,
    kinds: tuple[pb.CorrespondenceKind.ValueType, ...],
    recipients: list[str],
    clock: Clock,
) -> list[CorrespondenceRecord]:
    """Items of these kinds to these recipients still waiting for today's dispatch."""
    start = end_of_day(clock.today()) - dt.timedelta(days=1)
    return list(
        db.scalars(
            select(CorrespondenceRecord).where(
                CorrespondenceRecord.case_id == case_id,
                CorrespondenceRecord.state == SCHEDULED,
                CorrespondenceRecord.recipient.in_(recipients),
                CorrespondenceRecord.kind.in_([pb.CorrespondenceKind.Name(k) for k in kinds]),
                CorrespondenceRecord.due_at > start,
            )
        )
    )


def _cancel(
    db: Session, rows: list[CorrespondenceRecord], *, recipient: str, superseded_by: str
) -> list[str]:
    cancelled = []
    for row in rows:
        # Still waiting (an earlier notice of the same call may have cancelled it) and to this recipient.
        if row.recipient != recipient or row.state != SCHEDULED:
            continue
        item = _document(row)
        if item.name == superseded_by or item.name in db.info.get(_MADE, ()):
            continue
        item.state, item.superseded_by = pb.CORRESPONDENCE_STATE_CANCELLED_REDUNDANT, superseded_by
        _save(row, item)
        cancelled.append(item.name)
    db.info.setdefault(_CANCELLED, []).extend(cancelled)
    return cancelled


def supersede(rows: list[CorrespondenceRecord], *, superseded_by: str) -> None:
    """These items will not go: `superseded_by` says it all."""
    for row in rows:
        item = _document(row)
        item.state, item.superseded_by = pb.CORRESPONDENCE_STATE_CANCELLED_REDUNDANT, superseded_by
        _save(row, item)


def waiting_calls(db: Session, *, case_id: str, recipient: str) -> list[CorrespondenceRecord]:
    """The calls to this recipient on the case that are still waiting to be made."""
    return list(
        db.scalars(
            select(CorrespondenceRecord).where(
                CorrespondenceRecord.case_id == case_id,
                CorrespondenceRecord.recipient == recipient,
                CorrespondenceRecord.kind
                == pb.CorrespondenceKind.Name(pb.CORRESPONDENCE_KIND_CLIENT_CALL),
                CorrespondenceRecord.state == SCHEDULED,
            )
        ).all()
    )


def suppress_for(db: Session, *, recipient: str) -> int:
    """A death notification: nothing still waiting goes to this client."""
    count = 0
    for row in db.scalars(
        select(CorrespondenceRecord).where(
            CorrespondenceRecord.recipient == recipient, CorrespondenceRecord.state == SCHEDULED
        )
    ):
        item = _document(row)
        item.state = pb.CORRESPONDENCE_STATE_SUPPRESSED
        _save(row, item)
        count += 1
    return count


def dispatch_due(db: Session, *, as_of: dt.date, clock: Clock) -> int:
    """Send everything due by the end of `as_of` (the end-of-day run)."""
    sent = 0
    for row in db.scalars(
        select(CorrespondenceRecord)
        .where(
            CorrespondenceRecord.state == SCHEDULED,
            CorrespondenceRecord.due_at <= end_of_day(as_of),
        )
        .order_by(CorrespondenceRecord.due_at, CorrespondenceRecord.id)
    ):
        item = _document(row)
        item.state = pb.CORRESPONDENCE_STATE_SENT
        item.sent_time.FromDatetime(clock.now())
        _save(row, item)
        sent += 1
    return sent


def list_for_case(
    db: Session, *, case_id: str, size: int, offset: int
) -> tuple[list[pb.Correspondence], bool]:
    """A page of the case's correspondence, newest first, and whether there is more."""
    rows, more = one_page(
        db,
        select(CorrespondenceRecord)
        .where(CorrespondenceRecord.case_id == case_id)
        .order_by(CorrespondenceRecord.created_at.desc(), CorrespondenceRecord.id),
        size=size,
        offset=offset,
    )
    return [_document(r) for r in rows], more
