"""Business interests: register one for a case on a person CIS holds, deregister it, list them, and find the active
ones a change of a person's record or benefit concerns."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.dwp.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.errors import AlreadyExists, InvalidArgument, NotFound
from cms_platform.identifiers import normalise_nino
from cms_platform.paging import next_token, page

from ..benefits import Business
from ..port import CisPort
from . import convert, rules
from .models import InterestRecord


def register(
    db: Session,
    *,
    cis: CisPort,
    nino: str,
    case_id: str,
    role: pb.CaseRole.ValueType,
    businesses: Sequence[int],
    clock: Clock,
) -> pb.BusinessInterest:
    """A new active interest of `case_id` in the person, covering `businesses` (every notified one when none)."""
    nino = normalise_nino(nino)
    person = cis.person(nino)
    if person is None:
        raise NotFound("person", "people/unknown", "CIS holds no record for this NINO")
    wanted: list[Business] = []
    for i, value in enumerate(businesses):
        found = convert.business_of(value)
        if found is None:
            raise InvalidArgument.field(f"businesses[{i}]", f"{value} is not a CIS business")
        wanted.append(found)
    role_name = pb.CaseRole.Name(role)
    existing = db.scalar(
        select(InterestRecord).where(
            InterestRecord.nino == nino,
            InterestRecord.active.is_(True),
            InterestRecord.case_id == case_id,
            InterestRecord.role == role_name,
        )
    )
    if existing is not None:
        raise AlreadyExists(
            "business interest",
            f"interests/{existing.id}",
            "this case already has an active interest on the person in that role",
        )
    interest = pb.BusinessInterest(
        interest_id=str(uuid.uuid4()),
        nino=nino,
        person_id=person.person_id,
        case_id=case_id,
        role=role,
        state=pb.INTEREST_STATE_ACTIVE,
    )
    for b in rules.covered(wanted):
        interest.businesses.add(
            business=convert.business(b),
            business_interest_number=rules.interest_number(interest.interest_id, b),
        )
    interest.register_time.FromDatetime(clock.now())
    db.add(
        InterestRecord(
            id=interest.interest_id,
            nino=nino,
            case_id=case_id,
            role=role_name,
            active=True,
            interest=interest.SerializeToString(),
            created_at=clock.now(),
        )
    )
    return interest


def deregister(db: Session, *, interest_id: str, clock: Clock) -> pb.BusinessInterest:
    row = db.get(InterestRecord, interest_id)
    if row is None or not row.active:
        raise NotFound("business interest", f"interests/{interest_id}")
    interest = pb.BusinessInterest.FromString(row.interest)
    interest.state = pb.INTEREST_STATE_DEREGISTERED
    interest.deregister_time.FromDatetime(clock.now())
    row.active, row.interest = False, interest.SerializeToString()
    return interest


def list_interests(
    db: Session,
    *,
    nino: str,
    case_id: str,
    include_deregistered: bool,
    page_size: int,
    page_token: str,
) -> tuple[list[pb.BusinessInterest], str]:
    """A page of a person's or a case's interests, newest first, and the next page's token."""
    if not nino and not case_id:
        raise InvalidArgument.field("case_id", "give case_id or nino")
    size, offset = page(page_size, page_token, maximum=200)
    q = select(InterestRecord).order_by(InterestRecord.created_at.desc(), InterestRecord.id)
    if nino:
        q = q.where(InterestRecord.nino == normalise_nino(nino))
    if case_id:
        q = q.where(InterestRecord.case_id == case_id)
    if not include_deregistered:
        q = q.where(InterestRecord.active.is_(True))
    rows = db.scalars(q.offset(offset).limit(size + 1)).all()
    return (
        [pb.BusinessInterest.FromString(r.interest) for r in rows[:size]],
        next_token(offset + size) if len(rows) > size else "",
    )


def active(db: Session, *, nino: str) -> list[pb.BusinessInterest]:
    """The person's active interests, whatever their businesses."""
    return [
        pb.BusinessInterest.FromString(row.interest)
        for row in db.scalars(
            select(InterestRecord).where(
                InterestRecord.nino == nino, InterestRecord.active.is_(True)
            )
        )
    ]


def covering(db: Session, *, nino: str, business: Business) -> list[pb.BusinessInterest]:
    """The person's active interests that cover `business`."""
    wanted = convert.business(business)
    return [i for i in active(db, nino=nino) if wanted in {line.business for line in i.businesses}]
