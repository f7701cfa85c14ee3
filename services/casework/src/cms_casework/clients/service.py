"""Clients and their safeguards: a client found by NINO (created with the first case that names them), read by
those who may (a self-service caller only their own record), and the safeguards the Maintain Client Details overview
sets: unacceptable behaviour is recorded and investigated and may give the client potentially-violent (PV) status,
which is reviewed at least once a year. Keyword-only functions over an explicit session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import date_or_violation, day_of, pb_date, years_after
from cms_platform.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PreconditionViolation,
    ViolationCollector,
)
from cms_platform.identifiers import normalise_nino
from cms_platform.identity import Caller
from cms_platform.paging import next_token, page

from ..access.rules import CLIENT, client_id_of, role_of
from ..names import id_from, new_id
from .models import ClientRecord, UnacceptableBehaviourRecordRow

PV_REVIEW_INTERVAL_DAYS = 365  # reviewed at least once a year


# -- the client record ---------------------------------------------------------------------------------------------


def client_row(db: Session, client_id: str, *, lock: bool = False) -> ClientRecord:
    row = db.get(ClientRecord, client_id, with_for_update=lock)
    if row is None:
        raise NotFound("client", f"clients/{client_id}")
    return row


def client_rows(
    db: Session, client_ids: list[str], *, lock: bool = False
) -> dict[str, ClientRecord]:
    """Several clients' rows by id in one query (locked FOR UPDATE in id order, when asked); NOT_FOUND for any
    missing."""
    query = select(ClientRecord).where(ClientRecord.id.in_(client_ids)).order_by(ClientRecord.id)
    found = {row.id: row for row in db.scalars(query.with_for_update() if lock else query)}
    for client_id in client_ids:
        if client_id not in found:
            raise NotFound("client", f"clients/{client_id}")
    return found


def document(row: ClientRecord) -> pb.Client:
    return pb.Client.FromString(row.document)


def client_named(db: Session, name: str, *, field: str = "client", lock: bool = False) -> pb.Client:
    """The client `clients/{id}`."""
    return document(client_row(db, id_from(name, "clients", field), lock=lock))


def save(row: ClientRecord, client: pb.Client, clock: Clock) -> None:
    row.document, row.updated_at = client.SerializeToString(), clock.now()
    pv = client.potentially_violent_status
    row.potentially_violent_review_due = day_of(pv.review_due_date) if pv.active else None


def find_or_add(db: Session, given: pb.Client, clock: Clock) -> ClientRecord:
    """The client with this NINO, reused as it is (differing details are a change of circumstances), or a new one."""
    nino = normalise_nino(given.identity.nino)
    row = db.scalar(select(ClientRecord).where(ClientRecord.nino == nino))
    if row is not None:
        return row
    client = pb.Client()
    client.CopyFrom(given)
    client_id = new_id()
    client.name = f"clients/{client_id}"
    client.identity.nino = nino
    # What a caller may not set on a new client: the CMS records these itself.
    for output_only in (
        "representatives",
        "potentially_violent_status",
        "contact_suppressed",
        "date_of_death",
        "resident_outside_uk",
        "employment_and_income",
        "benefits",
    ):
        client.ClearField(output_only)
    # The answer is checked by whoever takes a call; the document only says one is held.
    client.security_details.security_answer_set = bool(client.security_details.security_answer)
    client.security_details.security_answer = ""
    now = clock.now()
    row = ClientRecord(id=client_id, nino=nino, document=b"", created_at=now, updated_at=now)
    save(row, client, clock)
    db.add(row)
    db.flush()
    return row


def suppress_contact(db: Session, *, name: str, clock: Clock) -> None:
    """Nothing more goes to this client (a death notification)."""
    row = client_row(db, id_from(name, "clients", "client"), lock=True)
    client = document(row)
    client.contact_suppressed = True
    save(row, client, clock)


# -- reading and safeguards ----------------------------------------------------------------------------------------


def get(db: Session, *, name: str, caller: Caller) -> pb.Client:
    client_id = id_from(name, "clients", "name")
    if role_of(caller) == CLIENT and client_id_of(caller) != client_id:
        raise NotFound(
            "client", name
        )  # another client's record does not exist for a self-service caller
    return document(client_row(db, client_id))


def record_unacceptable_behaviour(
    db: Session, *, request: api.RecordUnacceptableBehaviourRequest, caller: Caller, clock: Clock
) -> pb.UnacceptableBehaviourRecord:
    client_id = id_from(request.parent, "clients", "parent")
    given = request.unacceptable_behaviour_record
    v = ViolationCollector()
    incident = date_or_violation(
        given.incident_date, "unacceptable_behaviour_record.incident_date", v
    )
    if incident and incident > clock.today():
        v.add("unacceptable_behaviour_record.incident_date", "is in the future")
    if given.kind not in pb.UnacceptableBehaviourKind.values():
        v.add("unacceptable_behaviour_record.kind", "is not a kind of unacceptable behaviour")
    if given.related_case:
        id_from(given.related_case, "cases", "unacceptable_behaviour_record.related_case")
    v.raise_if_any()
    row = client_row(db, client_id, lock=True)
    client = document(row)
    record_id = new_id()
    record = pb.UnacceptableBehaviourRecord()
    record.CopyFrom(given)
    record.name = f"clients/{client_id}/unacceptableBehaviourRecords/{record_id}"
    record.recorded_by = caller.subject
    record.create_time.FromDatetime(clock.now())
    db.add(
        UnacceptableBehaviourRecordRow(
            id=record_id,
            client_id=client_id,
            document=record.SerializeToString(),
            created_at=clock.now(),
        )
    )
    outbox.publish(
        db,
        clock=clock,
        key=client.name,
        subject=client.name,
        message=ev.UnacceptableBehaviourRecorded(
            client_id=client_id,
            unacceptable_behaviour_record=record.name,
            kind=record.kind,
            incident_date=record.incident_date,
            potentially_violent_status_set=record.potentially_violent_status_set,
        ),
    )
    if record.potentially_violent_status_set:
        today = clock.today()
        client.potentially_violent_status.CopyFrom(
            pb.PotentiallyViolentStatus(
                active=True,
                set_date=pb_date(today),
                review_due_date=pb_date(years_after(today, 1)),
                unacceptable_behaviour_record=record.name,
            )
        )
        save(row, client, clock)
        _pv_changed(db, client, clock)
    return record


def _pv_changed(db: Session, client: pb.Client, clock: Clock) -> None:
    pv = client.potentially_violent_status
    outbox.publish(
        db,
        clock=clock,
        key=client.name,
        subject=client.name,
        message=ev.PotentiallyViolentStatusChanged(
            client_id=client.name.removeprefix("clients/"),
            active=pv.active,
            review_due_date=pv.review_due_date,
            last_review_date=pv.last_review_date,
        ),
    )


def list_unacceptable_behaviour(
    db: Session, *, request: api.ListUnacceptableBehaviourRecordsRequest
) -> api.ListUnacceptableBehaviourRecordsResponse:
    client_id = id_from(request.parent, "clients", "parent")
    client_row(db, client_id)
    size, offset = page(request.page_size, request.page_token, maximum=200)
    rows = db.scalars(
        select(UnacceptableBehaviourRecordRow)
        .where(UnacceptableBehaviourRecordRow.client_id == client_id)
        .order_by(
            UnacceptableBehaviourRecordRow.created_at.desc(), UnacceptableBehaviourRecordRow.id
        )
        .offset(offset)
        .limit(size + 1)
    ).all()
    return api.ListUnacceptableBehaviourRecordsResponse(
        unacceptable_behaviour_records=[
            pb.UnacceptableBehaviourRecord.FromString(r.document) for r in rows[:size]
        ],
        next_page_token=next_token(offset + size) if len(rows) > size else "",
    )


def review_potentially_violent_status(
    db: Session, *, request: api.ReviewPotentiallyViolentStatusRequest, clock: Clock
) -> pb.Client:
    if request.outcome not in api.PotentiallyViolentReviewOutcome.values() or not request.outcome:
        raise InvalidArgument.field("outcome", "choose retain or remove")
    client_id = id_from(request.name, "clients", "name")
    row = client_row(db, client_id, lock=True)
    client = document(row)
    pv = client.potentially_violent_status
    if not pv.active:
        raise FailedPrecondition(
            PreconditionViolation(
                "NO_POTENTIALLY_VIOLENT_STATUS",
                request.name,
                "the client has no potentially-violent status to review",
            ),
            reason="NO_POTENTIALLY_VIOLENT_STATUS",
        )
    today = clock.today()
    pv.last_review_date.CopyFrom(pb_date(today))
    if request.outcome == api.POTENTIALLY_VIOLENT_REVIEW_OUTCOME_RETAIN:
        pv.review_due_date.CopyFrom(pb_date(years_after(today, 1)))
    else:
        pv.active = False
        pv.ClearField("review_due_date")
    save(row, client, clock)
    _pv_changed(db, client, clock)
    return client
