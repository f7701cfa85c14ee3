"""Loading and saving the casework aggregates (a document per row), and the outbox events they publish.

Every function takes the caller's session: a flow writes its state changes, events and audit entries in one
transaction or not at all."""

from __future__ import annotations

import uuid

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.orm import Session

from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform import outbox
from cms_platform.clock import Clock
from cms_platform.convert import day_of, pb_date  # noqa: F401 - the package's date helpers
from cms_platform.errors import InvalidArgument, NotFound
from cms_platform.events import topic_of

from .models import CaseRecord, ClientRecord

TOPIC = topic_of(ev.CaseCreated)


def new_id() -> str:
    return str(uuid.uuid4())


def id_from(name: str, collection: str, field: str) -> str:
    """The id in `{collection}/{id}`, or INVALID_ARGUMENT naming `field`."""
    prefix = f"{collection}/"
    if not name.startswith(prefix) or not name[len(prefix) :] or "/" in name[len(prefix) :]:
        raise InvalidArgument.field(field, f"must look like {collection}/{{id}}")
    return name[len(prefix) :]


def child_of(name: str, collection: str, field: str) -> tuple[str, str]:
    """(case_id, item id) of `cases/{case_id}/{collection}/{id}`."""
    parts = name.split("/")
    if (
        len(parts) != 4
        or parts[0] != "cases"
        or parts[2] != collection
        or not parts[1]
        or not parts[3]
    ):
        raise InvalidArgument.field(field, f"must look like cases/{{case_id}}/{collection}/{{id}}")
    return parts[1], parts[3]


def publish(db: Session, clock: Clock, key: str, message: Message) -> None:
    """Record a casework event (its type as the message declares it) keyed and subjected by `key`."""
    outbox.publish(
        db,
        clock=clock,
        key=key,
        subject=key,
        message=message,
    )


# -- cases and clients ---------------------------------------------------------------------------------------------


def case_row(db: Session, case_id: str, *, lock: bool = False) -> CaseRecord:
    row = db.get(CaseRecord, case_id, with_for_update=lock)
    if row is None:
        raise NotFound("case", f"cases/{case_id}")
    return row


def case_document(row: CaseRecord) -> pb.Case:
    return pb.Case.FromString(row.document)


def client_row(db: Session, client_id: str, *, lock: bool = False) -> ClientRecord:
    row = db.get(ClientRecord, client_id, with_for_update=lock)
    if row is None:
        raise NotFound("client", f"clients/{client_id}")
    return row


def client_document(row: ClientRecord) -> pb.Client:
    return pb.Client.FromString(row.document)


def save_client(row: ClientRecord, client: pb.Client, clock: Clock) -> None:
    row.document, row.updated_at = client.SerializeToString(), clock.now()
    pv = client.potentially_violent_status
    row.potentially_violent_review_due = day_of(pv.review_due_date) if pv.active else None


def client_by_nino(db: Session, nino: str) -> ClientRecord | None:
    return db.scalar(select(ClientRecord).where(ClientRecord.nino == nino))


def assemble(db: Session, row: CaseRecord) -> pb.Case:
    """The case as callers see it: the stored document with its clients' current details."""
    case = case_document(row)
    for field, client_id in (
        ("paying_parent", row.paying_parent_client_id),
        ("receiving_parent", row.receiving_parent_client_id),
    ):
        if client_id:
            getattr(case, field).CopyFrom(client_document(client_row(db, client_id)))
    return case


def save_case(row: CaseRecord, case: pb.Case, clock: Clock) -> None:
    """Store the case document (clients by name only: their details live on the clients) and its search columns."""
    now = clock.now()
    case.update_time.FromDatetime(now)
    stored = pb.Case()
    stored.CopyFrom(case)
    for field in ("paying_parent", "receiving_parent"):
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
    row.document = stored.SerializeToString()
    row.updated_at = now
