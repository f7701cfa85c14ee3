"""Clients, their safeguards and third parties.

Safeguards (Maintain Client Details overview): unacceptable behaviour is recorded and investigated and may give the
client potentially-violent (PV) status, which is reviewed at least once a year. Third parties act for themselves
(an employer, a bank, a court) and are kept apart from client representatives, who act for a client."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.convert import date_or_violation, years_after
from cms_platform.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    PreconditionViolation,
    ViolationCollector,
)
from cms_platform.identity import Caller
from cms_platform.paging import page

from .. import access, store
from ..models import ThirdPartyRecord, UnacceptableBehaviourRecordRow

PV_REVIEW_INTERVAL_DAYS = 365  # reviewed at least once a year


def get(db: Session, *, name: str, caller: Caller) -> pb.Client:
    client_id = store.id_from(name, "clients", "name")
    if access.role_of(caller) == access.CLIENT and access.client_id_of(caller) != client_id:
        raise NotFound(
            "client", name
        )  # another client's record does not exist for a self-service caller
    return store.client_document(store.client_row(db, client_id))


def record_unacceptable_behaviour(
    db: Session, *, request: api.RecordUnacceptableBehaviourRequest, caller: Caller, clock: Clock
) -> pb.UnacceptableBehaviourRecord:
    client_id = store.id_from(request.parent, "clients", "parent")
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
        store.id_from(given.related_case, "cases", "unacceptable_behaviour_record.related_case")
    v.raise_if_any()
    row = store.client_row(db, client_id, lock=True)
    client = store.client_document(row)
    record_id = store.new_id()
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
    store.publish(
        db,
        clock,
        client.name,
        ev.UnacceptableBehaviourRecorded(
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
                set_date=store.pb_date(today),
                review_due_date=store.pb_date(years_after(today, 1)),
                unacceptable_behaviour_record=record.name,
            )
        )
        store.save_client(row, client, clock)
        _pv_changed(db, client, clock)
    return record


def _pv_changed(db: Session, client: pb.Client, clock: Clock) -> None:
    pv = client.potentially_violent_status
    store.publish(
        db,
        clock,
        client.name,
        ev.PotentiallyViolentStatusChanged(
            client_id=client.name.removeprefix("clients/"),
            active=pv.active,
            review_due_date=pv.review_due_date,
            last_review_date=pv.last_review_date,
        ),
    )


def list_unacceptable_behaviour(
    db: Session, *, request: api.ListUnacceptableBehaviourRecordsRequest
) -> api.ListUnacceptableBehaviourRecordsResponse:
    client_id = store.id_from(request.parent, "clients", "parent")
    store.client_row(db, client_id)
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
        next_page_token=str(offset + size) if len(rows) > size else "",
    )


def review_potentially_violent_status(
    db: Session, *, request: api.ReviewPotentiallyViolentStatusRequest, clock: Clock
) -> pb.Client:
    if request.outcome not in api.PotentiallyViolentReviewOutcome.values() or not request.outcome:
        raise InvalidArgument.field("outcome", "choose retain or remove")
    client_id = store.id_from(request.name, "clients", "name")
    row = store.client_row(db, client_id, lock=True)
    client = store.client_document(row)
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
    pv.last_review_date.CopyFrom(store.pb_date(today))
    if request.outcome == api.POTENTIALLY_VIOLENT_REVIEW_OUTCOME_RETAIN:
        pv.review_due_date.CopyFrom(store.pb_date(years_after(today, 1)))
    else:
        pv.active = False
        pv.ClearField("review_due_date")
    store.save_client(row, client, clock)
    _pv_changed(db, client, clock)
    return client


# -- third parties -------------------------------------------------------------------------------------------------


def _check_third_party(tp: pb.ThirdParty) -> None:
    if tp.kind not in pb.ThirdPartyKind.values():
        raise InvalidArgument.field("third_party.kind", "is not a kind of third party")
    if tp.kind == pb.THIRD_PARTY_KIND_EMPLOYER and not tp.employer_paye_reference.strip():
        raise InvalidArgument.field(
            "third_party.employer_paye_reference", "an employer needs its PAYE reference"
        )


def _save_third_party(row: ThirdPartyRecord, tp: pb.ThirdParty, clock: Clock) -> None:
    tp.update_time.FromDatetime(clock.now())
    row.kind, row.organisation_name = pb.ThirdPartyKind.Name(tp.kind), tp.organisation_name.strip()
    row.employer_paye_reference = tp.employer_paye_reference.strip().upper()
    row.document, row.updated_at = tp.SerializeToString(), clock.now()


def create_third_party(
    db: Session, *, request: api.CreateThirdPartyRequest, clock: Clock
) -> pb.ThirdParty:
    _check_third_party(request.third_party)
    tp = pb.ThirdParty()
    tp.CopyFrom(request.third_party)
    tp_id = store.new_id()
    tp.name = f"thirdParties/{tp_id}"
    tp.create_time.FromDatetime(clock.now())
    row = ThirdPartyRecord(
        id=tp_id,
        kind="",
        organisation_name="",
        document=b"",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    _save_third_party(row, tp, clock)
    db.add(row)
    return tp


def get_third_party(db: Session, *, name: str) -> pb.ThirdParty:
    row = db.get(ThirdPartyRecord, store.id_from(name, "thirdParties", "name"))
    if row is None:
        raise NotFound("third party", name)
    return pb.ThirdParty.FromString(row.document)


def list_third_parties(
    db: Session, *, request: api.ListThirdPartiesRequest
) -> api.ListThirdPartiesResponse:
    size, offset = page(request.page_size, request.page_token, maximum=500)
    q = select(ThirdPartyRecord)
    if request.kind:
        q = q.where(ThirdPartyRecord.kind == pb.ThirdPartyKind.Name(request.kind))
    if request.organisation_name_prefix:
        prefix = request.organisation_name_prefix.strip().lower()
        q = q.where(
            func.lower(ThirdPartyRecord.organisation_name).startswith(prefix, autoescape=True)
        )
    if request.employer_paye_reference:
        q = q.where(
            ThirdPartyRecord.employer_paye_reference
            == request.employer_paye_reference.strip().upper()
        )
    rows = db.scalars(
        q.order_by(ThirdPartyRecord.organisation_name, ThirdPartyRecord.id)
        .offset(offset)
        .limit(size + 1)
    ).all()
    return api.ListThirdPartiesResponse(
        third_parties=[pb.ThirdParty.FromString(r.document) for r in rows[:size]],
        next_page_token=str(offset + size) if len(rows) > size else "",
    )


def update_third_party(
    db: Session, *, request: api.UpdateThirdPartyRequest, clock: Clock
) -> pb.ThirdParty:
    _check_third_party(request.third_party)
    tp_id = store.id_from(request.third_party.name, "thirdParties", "third_party.name")
    row = db.get(ThirdPartyRecord, tp_id, with_for_update=True)
    if row is None:
        raise NotFound("third party", request.third_party.name)
    before = pb.ThirdParty.FromString(row.document)
    tp = pb.ThirdParty()
    tp.CopyFrom(request.third_party)
    tp.create_time.CopyFrom(before.create_time)
    _save_third_party(row, tp, clock)
    return tp


def require_self_or_staff(caller: Caller, client_name: str) -> None:
    if access.role_of(caller) == access.CLIENT and access.client_id_of(
        caller
    ) != client_name.removeprefix("clients/"):
        raise PermissionDenied("a client may act only on their own record", reason="NOT_OWN_RECORD")
