"""The stored case: loaded for a caller who may see it (access rules; a case they may not see is NOT_FOUND), put
together with its clients' current details as callers see it, saved with its search columns, and closed.

Every function takes the caller's session: a flow writes its state changes, events and audit entries in one
transaction or not at all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import day_of, pb_date
from cms_platform.errors import FailedPrecondition, NotFound, PreconditionViolation
from cms_platform.identity import Caller
from cms_platform.paging import next_token, page

from ..access import service as access
from ..clients import service as clients
from ..correspondence import service as correspondence
from ..names import case_id_of, child_of
from .models import CaseRecord

CLOSED = pb.CaseState.Name(pb.CASE_STATE_CLOSED)
LIVE = pb.CaseState.Name(pb.CASE_STATE_LIVE)
_PARENTS = ("paying_parent", "receiving_parent")
_CHILD_GROUPS = (
    "qualifying_children",
    "relevant_other_children",
    "children_in_family_based_arrangements",
)

Row = TypeVar("Row")
Item = TypeVar("Item")


def find(db: Session, case_id: str) -> CaseRecord | None:
    """The case's row, or None when there is no such case (for consumers that skip what is not theirs)."""
    return db.get(CaseRecord, case_id)


def case_row(db: Session, case_id: str, *, lock: bool = False) -> CaseRecord:
    row = db.get(CaseRecord, case_id, with_for_update=lock)
    if row is None:
        raise NotFound("case", f"cases/{case_id}")
    return row


def stored(row: CaseRecord) -> pb.Case:
    """The case's own fields as stored, its clients by name only: enough for what the case itself says (its service
    type, its method of payment), without reading the clients' rows as assemble() does."""
    return pb.Case.FromString(row.document)


def assemble(db: Session, row: CaseRecord) -> pb.Case:
    """The case as callers see it: the stored document with its clients' current details."""
    case = stored(row)
    for field, client_id in (
        ("paying_parent", row.paying_parent_client_id),
        ("receiving_parent", row.receiving_parent_client_id),
    ):
        if client_id:
            getattr(case, field).CopyFrom(clients.document(clients.client_row(db, client_id)))
    return case


def load(db: Session, case_id: str, *, lock: bool = False) -> tuple[CaseRecord, pb.Case]:
    row = case_row(db, case_id, lock=lock)
    return row, assemble(db, row)


def eldest_child_born(case: pb.Case) -> dt.date | None:
    """The date of birth of the case's eldest current qualifying child; None for a closed case or one without."""
    if case.state == pb.CASE_STATE_CLOSED:
        return None
    born = [
        day_of(c.date_of_birth)
        for c in case.qualifying_children
        if not c.end_date.year and c.date_of_birth.year
    ]
    return min((b for b in born if b is not None), default=None)


def save(row: CaseRecord, case: pb.Case, clock: Clock) -> None:
    """Store the case document (clients by name only: their details live on the clients) and its search columns."""
    now = clock.now()
    case.update_time.FromDatetime(now)
    stored = pb.Case()
    stored.CopyFrom(case)
    for field in _PARENTS:
        name = getattr(case, field).name
        getattr(stored, field).Clear()
        getattr(stored, field).name = name
    row.state = pb.CaseState.Name(case.state)
    row.workgroup, row.owner, row.personal_interest = (
        case.workgroup,
        case.owner,
        case.personal_interest,
    )
    row.annual_review_date = (
        day_of(case.annual_review_date) if case.state != pb.CASE_STATE_CLOSED else None
    )
    surveillance = case.case_surveillance
    row.surveillance_review_date = day_of(surveillance.review_date) if surveillance.active else None
    row.eldest_child_born = eldest_child_born(case)
    row.document = stored.SerializeToString()
    row.updated_at = now


# -- for a caller --------------------------------------------------------------------------------------------------


def visible_case(
    db: Session, *, name: str, caller: Caller, field: str = "name", lock: bool = False
) -> CaseRecord:
    """The case row if the caller may see it; else NOT_FOUND (HiddenCase, which the servicer audits as refused in
    its own transaction, since this one rolls back)."""
    row = case_row(db, case_id_of(name, field), lock=lock)
    access.ensure_visible(caller, row, case_id=row.id, name=name)
    return row


def visible_child(
    db: Session,
    *,
    name: str,
    collection: str,
    model: type[Row],
    what: str,
    caller: Caller,
    lock: bool = False,
    field: str = "name",
) -> tuple[CaseRecord, Row]:
    """(case row, item row) for `cases/{case_id}/{collection}/{id}` if the caller may see the case; else NOT_FOUND.

    `field` is the request field that carried the name, for the violation if it is malformed."""
    case_id, item_id = child_of(name, collection, field)
    case = visible_case(db, name=f"cases/{case_id}", caller=caller, lock=lock)
    row = db.get(model, item_id, with_for_update=lock)
    if row is None or getattr(row, "case_id", None) != case_id:
        raise NotFound(what, name)
    return case, row


def read_child(
    db: Session,
    *,
    name: str,
    collection: str,
    model: type[Row],
    what: str,
    caller: Caller,
    clock: Clock,
) -> tuple[CaseRecord, Row]:
    """visible_child for a read: the read is audited on the case (access.audit)."""
    case, row = visible_child(
        db, name=name, collection=collection, model=model, what=what, caller=caller
    )
    access.audit(db, clock=clock, caller=caller, case_id=case.id, resource=name)
    return case, row


def page_of(
    db: Session,
    *,
    parent: str,
    caller: Caller,
    clock: Clock,
    page_size: int,
    page_token: str,
    maximum: int,
    items: Callable[..., tuple[list[Item], bool]],
    audited: bool = True,
) -> tuple[list[Item], str]:
    """A page of one of a visible case's collections (`items(db, case_id=, size=, offset=)`) and the next page's
    token; the read is audited unless it is of the audit trail itself."""
    row = visible_case(db, name=parent, caller=caller, field="parent")
    size, offset = page(page_size, page_token, maximum=maximum)
    found, more = items(db, case_id=row.id, size=size, offset=offset)
    if audited:
        access.audit(db, clock=clock, caller=caller, case_id=row.id, resource=parent)
    return found, next_token(offset + size) if more else ""


def cases_paid_by(db: Session, client_ids: Sequence[str]) -> dict[str, list[str]]:
    """The ids of the cases each client is the paying parent on, oldest first, for many clients in one query."""
    out: dict[str, list[str]] = {client_id: [] for client_id in client_ids}
    for case_id, client_id in db.execute(
        select(CaseRecord.id, CaseRecord.paying_parent_client_id)
        .where(CaseRecord.paying_parent_client_id.in_(list(client_ids)))
        .order_by(CaseRecord.created_at, CaseRecord.id)
    ):
        out[client_id].append(case_id)
    return out


def cases_of_client(db: Session, client_id: str, *, open_only: bool = False) -> list[CaseRecord]:
    """The cases a client is on, oldest first."""
    q = select(CaseRecord).where(
        or_(
            CaseRecord.paying_parent_client_id == client_id,
            CaseRecord.receiving_parent_client_id == client_id,
        )
    )
    if open_only:
        q = q.where(CaseRecord.state != CLOSED)
    return list(db.scalars(q.order_by(CaseRecord.created_at, CaseRecord.id)).all())


def live_case_ids(db: Session, *, after: str = "", limit: int = 500) -> list[str]:
    """A page of the live cases' ids in id order, after `after` (keyset): for work over the whole caseload (the
    collection reform) that may not read the cases table itself."""
    return list(
        db.scalars(
            select(CaseRecord.id)
            .where(CaseRecord.state == LIVE, CaseRecord.id > after)
            .order_by(CaseRecord.id)
            .limit(limit)
        )
    )


def live_cases_page(
    db: Session, *, after: str = "", limit: int = 1000
) -> list[tuple[CaseRecord, pb.Case]]:
    """A page of the live cases in id order after `after` (keyset), in one query: each its row and its stored
    document (clients by name only, not assembled), for work over the whole caseload (the collection reform's
    what-if) that reads a case's own facts and may not read the cases table itself."""
    rows = db.scalars(
        select(CaseRecord)
        .where(CaseRecord.state == LIVE, CaseRecord.id > after)
        .order_by(CaseRecord.id)
        .limit(limit)
    )
    return [(row, stored(row)) for row in rows]


def live_cases_of(db: Session, case_ids: Sequence[str]) -> list[tuple[CaseRecord, pb.Case]]:
    """Those of `case_ids` still live, in id order, in one query, as live_cases_page reads them: a national run's
    chunk of the caseload, listed when the run was issued (a case closed since is left out)."""
    rows = db.scalars(
        select(CaseRecord)
        .where(CaseRecord.state == LIVE, CaseRecord.id.in_(list(case_ids)))
        .order_by(CaseRecord.id)
    )
    return [(row, stored(row)) for row in rows]


def live_case_count(db: Session) -> int:
    return (
        db.scalar(select(func.count()).select_from(CaseRecord).where(CaseRecord.state == LIVE)) or 0
    )


# -- closing -------------------------------------------------------------------------------------------------------


def ensure_open(case: pb.Case, description: str = "the case is closed") -> None:
    if case.state == pb.CASE_STATE_CLOSED:
        raise FailedPrecondition(
            PreconditionViolation("CASE_CLOSED", case.name, description),
            reason="CASE_CLOSED",
        )


def close(
    db: Session,
    *,
    row: CaseRecord,
    case: pb.Case,
    reason: pb.CaseClosureReason.ValueType,
    effective: dt.date,
    note: str,
    clock: Clock,
    change: str = "",
) -> None:
    """Close the case itself: its children leave it, it says why and from when, both parents are told. What hangs off
    it (changes, service requests, the payment plan) is the flows' business."""
    ensure_open(case)
    case.state = pb.CASE_STATE_CLOSED
    case.closure.CopyFrom(
        pb.CaseClosure(
            reason=reason,
            effective_date=pb_date(effective),
            note=note,
            change_of_circumstances=change,
        )
    )
    for group in _CHILD_GROUPS:
        for child in getattr(case, group):
            if not child.end_date.year:
                child.end_date.CopyFrom(pb_date(effective))
                child.end_reason = pb.CHILD_END_REASON_CASE_CLOSED
    save(row, case, clock)
    outbox.publish(
        db,
        clock=clock,
        key=case.name,
        subject=case.name,
        message=ev.CaseClosed(
            case_id=row.id,
            reason=reason,
            effective_date=pb_date(effective),
            paying_parent_nino=row.paying_parent_nino,
        ),
    )
    correspondence.notify_parents(
        db, case=case, case_id=row.id, kind=pb.CORRESPONDENCE_KIND_CASE_CLOSURE_NOTICE, clock=clock
    )
