"""Interests over an explicit session: add, remove, list, find the active ones, and read and keep an interest's
feed state. An interest is stored as the contract's Interest as last returned (the interests table)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.hmrc.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.errors import AlreadyExists, NotFound
from cms_platform.identifiers import normalise_nino
from cms_platform.paging import next_token, page
from cms_platform.redaction import excerpt

from .convert import type_name
from .models import InterestRecord
from .rules import FeedState


def add(db: Session, *, wanted: pb.Interest, nino: str, now: dt.datetime) -> InterestRecord:
    """A new active interest of the case in the person; ALREADY_EXISTS when the case has one of this type."""
    existing = db.scalar(
        select(InterestRecord).where(
            InterestRecord.nino == nino,
            InterestRecord.case_id == wanted.case_id,
            InterestRecord.active.is_(True),
            InterestRecord.interest_type == type_name(wanted.interest_type),
        )
    )
    if existing is not None:
        raise AlreadyExists(
            "interest",
            f"interests/{existing.id}",
            f"case {excerpt(wanted.case_id)} already has this interest in the person",
        )
    interest = pb.Interest()
    interest.CopyFrom(wanted)
    interest.interest_id = str(uuid.uuid4())
    interest.nino = nino
    interest.state = pb.INTEREST_STATE_ACTIVE
    interest.create_time.FromDatetime(now)
    record = InterestRecord(
        id=interest.interest_id,
        interest_type=type_name(interest.interest_type),
        case_id=interest.case_id,
        nino=nino,
        active=True,
        interest=interest.SerializeToString(),
        feed_state="{}",
        created_at=now,
    )
    db.add(record)
    return record


def remove(db: Session, *, interest_id: str, clock: Clock) -> pb.Interest:
    """The interest, removed: its feeds stop (removing it again changes nothing)."""
    record = db.get(InterestRecord, interest_id)
    if record is None:
        raise NotFound("interest", f"interests/{interest_id}")
    interest = pb.Interest.FromString(record.interest)
    if record.active:
        record.active = False
        interest.state = pb.INTEREST_STATE_REMOVED
        interest.remove_time.FromDatetime(clock.now())
        record.interest = interest.SerializeToString()
    return interest


def list_interests(
    db: Session,
    *,
    case_id: str = "",
    nino: str = "",
    interest_type: pb.InterestType.ValueType = pb.INTEREST_TYPE_UNSPECIFIED,
    show_removed: bool = False,
    page_size: int = 0,
    page_token: str = "",
) -> tuple[list[pb.Interest], str]:
    """One page of interests in creation order (every filter optional) and the next page's token ("" at the end)."""
    size, offset = page(page_size, page_token, default=100, maximum=1000)
    q = select(InterestRecord).order_by(InterestRecord.created_at, InterestRecord.id)
    if case_id:
        q = q.where(InterestRecord.case_id == case_id)
    if nino:
        q = q.where(InterestRecord.nino == normalise_nino(nino))
    if interest_type:
        q = q.where(InterestRecord.interest_type == type_name(interest_type))
    if not show_removed:
        q = q.where(InterestRecord.active.is_(True))
    rows = db.scalars(q.offset(offset).limit(size + 1)).all()
    return (
        [pb.Interest.FromString(r.interest) for r in rows[:size]],
        next_token(offset + size) if len(rows) > size else "",
    )


def active_ids(db: Session, *, after_id: str = "", limit: int = 500) -> list[str]:
    """Active interests' ids in order, a page at a time (the scheduler walks them all)."""
    return list(
        db.scalars(
            select(InterestRecord.id)
            .where(InterestRecord.active.is_(True), InterestRecord.id > after_id)
            .order_by(InterestRecord.id)
            .limit(limit)
        )
    )


def lock_active(db: Session, interest_id: str) -> InterestRecord | None:
    """The interest, locked for this transaction; None when it is gone or no longer active."""
    record = db.get(InterestRecord, interest_id, with_for_update=True)
    return record if record is not None and record.active else None


def active_in(db: Session, *, nino: str) -> list[InterestRecord]:
    """Every active interest in one person."""
    return list(
        db.scalars(
            select(InterestRecord).where(
                InterestRecord.nino == nino, InterestRecord.active.is_(True)
            )
        )
    )


def interest_of(record: InterestRecord) -> pb.Interest:
    return pb.Interest.FromString(record.interest)


def feed_state(record: InterestRecord) -> FeedState:
    state: FeedState = json.loads(record.feed_state or "{}")
    return state


def keep_feed_state(record: InterestRecord, state: FeedState) -> None:
    record.feed_state = json.dumps(state, sort_keys=True)
